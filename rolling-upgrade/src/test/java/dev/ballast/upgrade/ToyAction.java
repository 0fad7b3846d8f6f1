package dev.ballast.upgrade;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A step kind for tests: "sets" its node's key in an in-memory world. Idempotent; its check reports already-done when
 * the key is set. Can be told to fail a number of times, to refuse its precondition, or to block inside act.
 */
final class ToyAction implements StepAction {

    final Set<String> world = ConcurrentHashMap.newKeySet();
    final List<String> acted = new CopyOnWriteArrayList<>();
    final List<String> checked = new CopyOnWriteArrayList<>();
    final AtomicInteger failures = new AtomicInteger();
    volatile String notReady;
    volatile String blockOn;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch proceed = new CountDownLatch(1);

    static String key(Step s) {
        return s.group() + "/" + s.node();
    }

    @Override
    public Check check(Operation operation, Step step) {
        checked.add(key(step));
        if (notReady != null) {
            return Check.notReady(notReady);
        }
        return world.contains(key(step)) ? Check.alreadyDone(key(step) + " is set") : Check.ready();
    }

    @Override
    public String act(Operation operation, Step step) throws Exception {
        acted.add(key(step));
        if (key(step).equals(blockOn)) {
            entered.countDown();
            if (!proceed.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test never released the step");
            }
        }
        if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IllegalStateException("toy failure on " + key(step));
        }
        world.add(key(step));
        return "set " + key(step);
    }
}
