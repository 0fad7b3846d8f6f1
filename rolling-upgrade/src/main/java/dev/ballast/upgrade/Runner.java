package dev.ballast.upgrade;

import dev.ballast.upgrade.StepAction.Check;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs an {@link Operation}'s steps in order, each under its group's lock (the lock failover, switchover and rejoin
 * take), released between steps so the monitor can still repair a group during a long operation.
 *
 * <p>Per step: re-read the operation (an {@code abort} is seen here, so the runner stops after the current step),
 * take the lock (bounded), re-read again, {@link StepAction#check check}: already done or skip → recorded without
 * acting; not ready → the step FAILED and the operation PAUSED with the reason; ready → the step RUNNING, act, the
 * step DONE with its timings and output (or FAILED and the operation PAUSED with the error).
 *
 * <p>One runner per operation: {@link #run} first takes the ephemeral lease {@code operations/<id>/runner}, waiting up to
 * {@code lockTimeoutMs} for a dead runner's session to end.
 *
 * <p>{@link #run} also resumes: it starts at the first step not done. A step found RUNNING (its runner died, or its
 * ZooKeeper session was lost, mid-step) is re-checked like any other, not repeated blindly; the action's idempotence
 * covers the case where the check cannot tell. Every write is a compare-and-set on the znode version; a change of
 * the current step by another writer stops this runner ({@link OperationException.ConcurrentUpdate}) instead of
 * being overwritten.
 *
 * <p>Not guaranteed: if the ZooKeeper session is lost while an action runs, the group lock is gone and the action is
 * not interrupted; the step's record is written (or found RUNNING by the next {@code resume}) when ZooKeeper answers.
 */
public final class Runner {

    private static final int MERGE_ATTEMPTS = 5;

    private final OperationStore store;
    private final Map<String, StepAction> actions;
    private final long lockTimeoutMs;
    private final Progress progress;
    private final LongSupplier clock;

    public Runner(OperationStore store, Map<String, StepAction> actions, long lockTimeoutMs, Progress progress) {
        this(store, actions, lockTimeoutMs, progress, System::currentTimeMillis);
    }

    Runner(OperationStore store, Map<String, StepAction> actions, long lockTimeoutMs, Progress progress,
           LongSupplier clock) {
        if (lockTimeoutMs < 0) {
            throw new IllegalArgumentException("lockTimeoutMs must be >= 0, got " + lockTimeoutMs);
        }
        this.store = store;
        this.actions = Map.copyOf(actions);
        this.lockTimeoutMs = lockTimeoutMs;
        this.progress = progress;
        this.clock = clock;
    }

    /**
     * Runs (or resumes) operation {@code id} until it is DONE, PAUSED or ABORTED, and returns it as stored. A PAUSED
     * operation's {@code reason} says which step stopped it, why, and how to continue.
     *
     * @throws OperationException when the operation is unknown or aborted, names an action nobody carries out, or
     *                            another writer changed the step being run
     */
    public Operation run(String id) throws InterruptedException {
        OperationStore.Versioned v = store.get(id);
        Operation op = v.operation();
        if (op.state() == Operation.State.ABORTED) {
            throw new OperationException(ctx(op) + " operation " + id + " was aborted (" + op.reason()
                    + "); it cannot be resumed: plan and start a new one");
        }
        if (op.state() == Operation.State.DONE) {
            return op;
        }
        for (Step s : op.steps()) {
            if (!actions.containsKey(s.action().name())) {
                throw new OperationException(ctx(op) + " step '" + s.describe() + "' has action '" + s.action().name()
                        + "' which this ballast does not know (known: " + actions.keySet() + "); run it with the"
                        + " version that created it");
            }
        }
        claim(op);
        try {
            return runClaimed(id);
        } finally {
            store.unclaim(id);
        }
    }

    /** One runner per operation: waits up to {@code lockTimeoutMs} for a dead runner's lease to end with its session. */
    private void claim(Operation op) throws InterruptedException {
        String who = java.lang.management.ManagementFactory.getRuntimeMXBean().getName() + " "
                + Thread.currentThread().getName();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lockTimeoutMs);
        while (!store.claim(op.id(), who)) {
            if (System.nanoTime() >= deadline) {
                throw new OperationException(ctx(op) + " operation " + op.id() + " is being run by "
                        + store.runner(op.id()).orElse("another process") + " (" + store.runnerPath(op.id())
                        + "); wait for it, or if that process is gone, resume again after its ZooKeeper session"
                        + " ends (failover.zkSessionTimeoutMs)");
            }
            Thread.sleep(100);
        }
    }

    private Operation runClaimed(String id) throws InterruptedException {
        OperationStore.Versioned v = store.get(id);
        Operation op = v.operation();
        if (op.state() != Operation.State.RUNNING && !op.finished()) {
            store.update(op.withState(Operation.State.RUNNING, ""), v.version());
        }
        while (true) {
            v = store.get(id);
            op = v.operation();
            if (op.state() == Operation.State.ABORTED && unitInProgress(op) < 0) {
                store.release(op);
                return op;
            }
            if (op.state() != Operation.State.RUNNING && op.state() != Operation.State.ABORTED) {
                return op; // paused or finished by another writer
            }
            int i = op.next();
            if (i < 0) {
                Operation done = op.withState(Operation.State.DONE, "");
                store.update(done, v.version());
                store.release(done);
                return done;
            }
            Step step = op.steps().get(i);
            StepAction action = actions.get(step.action().name());
            InterProcessMutex lock = null;
            if (action.underGroupLock()) {
                lock = new InterProcessMutex(store.client(), store.lockPath(step.group()));
                if (!acquire(lock, op, step)) {
                    return pause(id, ctx(op, step) + " step " + (i + 1) + "/" + op.steps().size() + " '"
                            + step.describe() + "': another change of this group (failover, switchover, rejoin) held"
                            + " its lock " + store.lockPath(step.group()) + " for " + lockTimeoutMs + " ms; run 'ballast"
                            + " upgrade resume " + id + "' when it is done");
                }
            }
            try {
                v = store.get(id);
                op = v.operation();
                boolean finishing = op.state() == Operation.State.ABORTED && unitInProgress(op) == i;
                if (!finishing && op.state() != Operation.State.RUNNING || op.next() != i) {
                    continue; // changed while we waited for the lock: decide again
                }
                Operation after = runStep(op, i, action);
                if (after.state() == Operation.State.PAUSED) {
                    return after;
                }
                if (finishing && after.steps().get(i).state() == Step.State.FAILED) {
                    store.release(after);
                    return after; // aborted, and the unit in progress could not be finished: its error says why
                }
            } finally {
                if (lock != null) {
                    release(lock, op, step);
                }
            }
        }
    }

    private Operation runStep(Operation op, int i, StepAction action) {
        Step step = op.steps().get(i);
        String where = ctx(op, step) + " step " + (i + 1) + "/" + op.steps().size() + " '" + step.describe() + "'";
        long now = clock.getAsLong();
        Check check;
        try {
            check = action.check(op, step);
        } catch (Exception e) {
            return fail(op, i, step, now, "checking the precondition failed: " + e,
                    where + ": checking its precondition (" + step.precondition() + ") failed: " + e
                            + "; fix it and run 'ballast upgrade resume " + op.id() + "'");
        }
        switch (check.verdict()) {
            case ALREADY_DONE -> {
                Step done = step.ended(Step.State.DONE, now, clock.getAsLong(), "already done: " + check.reason(), "");
                Operation after = writeStep(op.id(), i, step, done, null, "");
                progress.ended(after, i, done);
                return after;
            }
            case SKIP -> {
                Step skipped = step.ended(Step.State.SKIPPED, now, clock.getAsLong(), "skipped: " + check.reason(), "");
                Operation after = writeStep(op.id(), i, step, skipped, null, "");
                progress.ended(after, i, skipped);
                return after;
            }
            case NOT_READY -> {
                return fail(op, i, step, now, "not ready: " + check.reason(), where + ": precondition '"
                        + step.precondition() + "' does not hold: " + check.reason() + "; fix it and run 'ballast upgrade"
                        + " resume " + op.id() + "' or stop with 'ballast upgrade abort " + op.id() + "'");
            }
            default -> {
            }
        }
        Step running = step.running(now);
        Operation current = writeStep(op.id(), i, step, running, null, "");
        progress.started(current, i, running);
        String output;
        try {
            output = action.act(current, running);
        } catch (Exception e) {
            return fail(current, i, running, now, e.getMessage() == null ? e.toString() : e.getMessage(),
                    where + " failed: " + e.getMessage() + "; fix it and run 'ballast upgrade resume " + op.id()
                            + "' (the step is retried after its precondition is checked again) or stop with 'ballast"
                            + " upgrade abort " + op.id() + "'");
        }
        Step done = running.ended(Step.State.DONE, now, clock.getAsLong(), output == null ? "" : output, "");
        Operation after = writeStep(op.id(), i, running, done, null, "");
        progress.ended(after, i, done);
        return after;
    }

    private Operation fail(Operation op, int i, Step expected, long startedAt, String error, String reason) {
        Step failed = expected.ended(Step.State.FAILED, startedAt, clock.getAsLong(), expected.output(), error);
        Operation after = writeStep(op.id(), i, expected, failed, Operation.State.PAUSED, reason);
        progress.ended(after, i, failed);
        return after;
    }

    /**
     * Writes step {@code i} as {@code next} if it is still {@code expected}; other changes made meanwhile (an abort
     * changing the operation's state) are kept, a change of the step itself is refused.
     */
    private Operation writeStep(String id, int i, Step expected, Step next, Operation.State state, String reason) {
        for (int attempt = 0; ; attempt++) {
            OperationStore.Versioned fresh = store.get(id);
            Operation cur = fresh.operation();
            Step now = cur.steps().get(i);
            if (!now.equals(expected)) {
                throw new OperationException.ConcurrentUpdate(ctx(cur, now) + " operation " + id + " step " + (i + 1)
                        + " '" + now.describe() + "' was changed by another writer (expected " + expected.state()
                        + ", found " + now.state() + "); stopping without overwriting it: is another 'ballast upgrade"
                        + " resume " + id + "' running?");
            }
            Operation out = cur.withStep(i, next);
            if (state != null && cur.state() == Operation.State.RUNNING) {
                out = out.withState(state, reason);
            }
            try {
                store.update(out, fresh.version());
                return out;
            } catch (OperationException.ConcurrentUpdate e) {
                if (attempt + 1 >= MERGE_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private Operation pause(String id, String reason) {
        for (int attempt = 0; ; attempt++) {
            OperationStore.Versioned fresh = store.get(id);
            if (fresh.operation().state() != Operation.State.RUNNING) {
                return fresh.operation();
            }
            Operation paused = fresh.operation().withState(Operation.State.PAUSED, reason);
            try {
                store.update(paused, fresh.version());
                return paused;
            } catch (OperationException.ConcurrentUpdate e) {
                if (attempt + 1 >= MERGE_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * The index of the next step when it belongs to a unit already started (the steps sharing its {@code unit}
     * parameter, e.g. one node's drain … undrain), -1 otherwise: an aborted operation still finishes such a unit, so
     * that abort leaves every node serving.
     */
    public static int unitInProgress(Operation op) {
        int i = op.next();
        if (i < 0) {
            return -1;
        }
        Step next = op.steps().get(i);
        String unit = next.action().parameters().get(UNIT);
        if (unit == null || unit.isEmpty()) {
            return -1;
        }
        if (next.state() == Step.State.RUNNING || next.state() == Step.State.FAILED) {
            return i;
        }
        for (int j = i - 1; j >= 0; j--) {
            Step s = op.steps().get(j);
            if (!unit.equals(s.action().parameters().get(UNIT))) {
                break;
            }
            if (s.finished()) {
                return i;
            }
        }
        return -1;
    }

    /** The step parameter naming the unit a step belongs to (see {@link #unitInProgress}). */
    public static final String UNIT = "unit";

    /**
     * After {@link #abort}: when no runner holds the operation (its process died), finishes the unit in progress here
     * (the steps up to the end of a node's drain … undrain), so that every node serves again; then frees the groups.
     * Returns the operation as stored; a unit that cannot be finished leaves its failed step's error.
     */
    public Operation finishAborted(String id) throws InterruptedException {
        Operation op = store.get(id).operation();
        if (op.state() != Operation.State.ABORTED) {
            throw new OperationException(ctx(op) + " operation " + id + " is " + op.state() + ", not ABORTED");
        }
        if (unitInProgress(op) < 0) {
            store.release(op);
            return op;
        }
        claim(op);
        try {
            return runClaimed(id);
        } finally {
            store.unclaim(id);
        }
    }

    /**
     * Marks operation {@code id} ABORTED: a runner stops after its current step, or, when that step belongs to a unit
     * already started (see {@link #unitInProgress}), after the unit's last step. The groups are freed now when no step
     * is RUNNING, or when the running step's group lock is free (its runner is dead); otherwise the runner frees them
     * when it stops. Nodes are left as the last finished step left them.
     */
    public Operation abort(String id, String why) throws InterruptedException {
        Operation aborted;
        for (int attempt = 0; ; attempt++) {
            OperationStore.Versioned v = store.get(id);
            Operation op = v.operation();
            if (op.state() == Operation.State.DONE) {
                throw new OperationException(ctx(op) + " operation " + id + " is already DONE; nothing to abort");
            }
            if (op.state() == Operation.State.ABORTED) {
                aborted = op;
                break;
            }
            aborted = op.withState(Operation.State.ABORTED, why);
            try {
                store.update(aborted, v.version());
                break;
            } catch (OperationException.ConcurrentUpdate e) {
                if (attempt + 1 >= MERGE_ATTEMPTS) {
                    throw e;
                }
            }
        }
        Step running = aborted.steps().stream().filter(s -> s.state() == Step.State.RUNNING).findFirst().orElse(null);
        if (unitInProgress(aborted) >= 0) {
            return aborted; // the runner (or finishAborted) finishes the unit, then frees the groups
        }
        if (running == null) {
            store.release(aborted);
        } else {
            InterProcessMutex lock = new InterProcessMutex(store.client(), store.lockPath(running.group()));
            try {
                if (lock.acquire(0, TimeUnit.MILLISECONDS)) {
                    try {
                        store.release(aborted);
                    } finally {
                        lock.release();
                    }
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new OperationException(ctx(aborted, running) + " aborting " + id + ": " + e, e);
            }
        }
        return aborted;
    }

    private boolean acquire(InterProcessMutex lock, Operation op, Step step) throws InterruptedException {
        try {
            return lock.acquire(lockTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new OperationException(ctx(op, step) + " taking the group's lock " + store.lockPath(step.group())
                    + ": " + e, e);
        }
    }

    private void release(InterProcessMutex lock, Operation op, Step step) {
        try {
            lock.release();
        } catch (Exception e) {
            // the session that held it is gone: ZooKeeper dropped the lock node with it
        }
    }

    private static String ctx(Operation op) {
        return "[cluster=" + op.cluster() + "]";
    }

    private static String ctx(Operation op, Step step) {
        return "[cluster=" + op.cluster() + " group=" + step.group() + (step.node().isEmpty() ? "" : " node=" + step.node())
                + "]";
    }
}
