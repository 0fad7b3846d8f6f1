package dev.ballast.upgrade;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner and the store against a real ZooKeeper, with {@link ToyAction} as the step kind. */
class RunnerTest {

    static LocalZooKeeper zk;
    static final AtomicInteger CLUSTERS = new AtomicInteger();

    CuratorFramework client;
    OperationStore store;
    ToyAction toy;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new LocalZooKeeper();
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    @BeforeEach
    void setUp() throws Exception {
        client = zk.client();
        store = new OperationStore(client, "/ballast/c" + CLUSTERS.incrementAndGet());
        toy = new ToyAction();
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    Runner runner(OperationStore s, long lockTimeoutMs, Progress p) {
        return new Runner(s, Map.of("toy", toy), lockTimeoutMs, p);
    }

    Runner runner() {
        return runner(store, 5_000, Progress.none());
    }

    static Operation op(String id, String... groupNodes) {
        List<Step> steps = new ArrayList<>();
        for (String gn : groupNodes) {
            String[] p = gn.split("/");
            steps.add(Step.pending(p[0], p[1], new Action("toy", Map.of("key", gn)), gn + " is not set"));
        }
        return Operation.create(id, "toy", "shop", "test", System.currentTimeMillis(), steps);
    }

    @Test
    void stepsRunInOrderWithTimingsAndOutputAndFreeTheGroupsAtTheEnd() throws Exception {
        store.create(op("op-1", "g0/a", "g0/b", "g1/a"));
        assertEquals(Optional.of("op-1"), store.activeOn("g0"));
        assertEquals(Optional.of("op-1"), store.activeOn("g1"));
        ByteArrayOutputStream lines = new ByteArrayOutputStream();
        Operation done = runner(store, 5_000, Progress.plain(new PrintStream(lines, true, StandardCharsets.UTF_8))).run("op-1");

        assertEquals(Operation.State.DONE, done.state());
        assertEquals(List.of("g0/a", "g0/b", "g1/a"), toy.acted);
        Operation stored = store.get("op-1").operation();
        assertEquals(done, stored);
        long previousEnd = 0;
        for (Step s : stored.steps()) {
            assertEquals(Step.State.DONE, s.state());
            assertTrue(s.startedAtMs() >= previousEnd && s.endedAtMs() >= s.startedAtMs(), s.toString());
            assertEquals("set " + ToyAction.key(s), s.output());
            previousEnd = s.endedAtMs();
        }
        assertEquals(Optional.empty(), store.activeOn("g0"));
        assertEquals(Optional.empty(), store.activeOn("g1"));
        String[] out = lines.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(3, out.length, lines.toString(StandardCharsets.UTF_8));
        assertTrue(out[1].startsWith("op-1 2/3 g0 b toy: DONE in "), out[1]);
        assertTrue(out[1].endsWith("(set g0/b)"), out[1]);
    }

    @Test
    void aFailingStepPausesTheOperationAndResumeRetriesIt() throws Exception {
        store.create(op("op-2", "g0/a", "g0/b", "g0/c"));
        toy.world.clear();
        Runner r = runner();
        // b fails once: the first act of a succeeds, then b throws
        toy.failures.set(0);
        ToyAction failing = toy;
        Operation paused = new Runner(store, Map.of("toy", new StepAction() {
            boolean thrown;

            public Check check(Operation o, Step s) {
                return failing.check(o, s);
            }

            public String act(Operation o, Step s) throws Exception {
                if (s.node().equals("b") && !thrown) {
                    thrown = true;
                    failing.acted.add("b-failed");
                    throw new IllegalStateException("disk full on b");
                }
                return failing.act(o, s);
            }
        }), 5_000, Progress.none()).run("op-2");

        assertEquals(Operation.State.PAUSED, paused.state());
        Step b = paused.steps().get(1);
        assertEquals(Step.State.FAILED, b.state());
        assertEquals("disk full on b", b.error());
        assertTrue(paused.reason().contains("[cluster=shop group=g0 node=b] step 2/3 'g0 b toy' failed: disk full on b"),
                paused.reason());
        assertTrue(paused.reason().contains("ballast upgrade resume op-2"), paused.reason());
        assertEquals(Step.State.PENDING, paused.steps().get(2).state());
        assertEquals(Optional.of("op-2"), store.activeOn("g0"), "a paused operation keeps its group");

        Operation done = r.run("op-2");
        assertEquals(Operation.State.DONE, done.state());
        assertEquals("", done.reason());
        assertEquals(List.of("g0/a", "b-failed", "g0/b", "g0/c"), toy.acted);
        assertEquals(Optional.empty(), store.activeOn("g0"));
    }

    @Test
    void aPreconditionThatDoesNotHoldPausesWithoutActing() throws Exception {
        store.create(op("op-3", "g0/a"));
        toy.notReady = "replica lag 42 s > readPolicy.maxReplicaLagMs 1000";
        Operation paused = runner().run("op-3");
        assertEquals(Operation.State.PAUSED, paused.state());
        assertEquals(List.of(), toy.acted);
        assertEquals("not ready: replica lag 42 s > readPolicy.maxReplicaLagMs 1000", paused.steps().get(0).error());
        assertTrue(paused.reason().contains("precondition 'g0/a is not set' does not hold"), paused.reason());
        toy.notReady = null;
        assertEquals(Operation.State.DONE, runner().run("op-3").state());
        assertEquals(List.of("g0/a"), toy.acted);
    }

    @Test
    void aStepLeftRunningByADeadRunnerIsRecheckedNotRepeated() throws Exception {
        store.create(op("op-4", "g0/a", "g0/b", "g0/c"));
        CuratorFramework dying = zk.client();
        toy.blockOn = "g0/b";
        Runner first = runner(new OperationStore(dying, store.operationsPath().replace("/operations", "")), 5_000,
                Progress.none());
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return first.run("op-4");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        // b has taken effect, then its runner dies before recording it: session gone, thread gone
        toy.world.add("g0/b");
        dying.close();
        toy.proceed.countDown();
        assertThrows(Exception.class, () -> run.get(20, TimeUnit.SECONDS));
        Operation crashed = store.get("op-4").operation();
        assertEquals(Step.State.RUNNING, crashed.steps().get(1).state());
        assertEquals(Operation.State.RUNNING, crashed.state());

        OperationException busy = assertThrows(OperationException.GroupBusy.class, () -> store.create(op("op-5", "g0/x")));
        assertTrue(busy.getMessage().contains("'ballast upgrade resume op-4'"), busy.getMessage());

        toy.blockOn = null;
        Operation done = runner().run("op-4");
        assertEquals(Operation.State.DONE, done.state());
        assertEquals(List.of("g0/a", "g0/b", "g0/c"), toy.acted, "b acted once, before the crash");
        assertTrue(done.steps().get(1).output().startsWith("already done: g0/b is set"), done.steps().get(1).output());
    }

    @Test
    void abortStopsTheRunnerAfterTheCurrentStep() throws Exception {
        store.create(op("op-6", "g0/a", "g0/b", "g0/c"));
        toy.blockOn = "g0/b";
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return runner().run("op-6");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        CuratorFramework other = zk.client();
        try {
            Runner aborter = runner(new OperationStore(other, store.operationsPath().replace("/operations", "")), 5_000,
                    Progress.none());
            Operation aborted = aborter.abort("op-6", "operator asked");
            assertEquals(Operation.State.ABORTED, aborted.state());
            assertEquals(Optional.of("op-6"), store.activeOn("g0"), "b is still running: the runner frees the group");
        } finally {
            other.close();
        }
        toy.proceed.countDown();
        Operation end = run.get(20, TimeUnit.SECONDS);
        assertEquals(Operation.State.ABORTED, end.state());
        assertEquals("operator asked", end.reason());
        assertEquals(Step.State.DONE, end.steps().get(1).state(), "the current step ends");
        assertEquals(Step.State.PENDING, end.steps().get(2).state(), "the next one never starts");
        assertEquals(List.of("g0/a", "g0/b"), toy.acted);
        assertEquals(Optional.empty(), store.activeOn("g0"));
        OperationException e = assertThrows(OperationException.class, () -> runner().run("op-6"));
        assertTrue(e.getMessage().contains("was aborted (operator asked)"), e.getMessage());
    }

    @Test
    void abortOfAnIdleOperationFreesItsGroupsAtOnce() throws Exception {
        store.create(op("op-7", "g0/a", "g1/a"));
        runner().abort("op-7", "changed my mind");
        assertEquals(Optional.empty(), store.activeOn("g0"));
        assertEquals(Optional.empty(), store.activeOn("g1"));
        store.create(op("op-8", "g0/a"));
        assertEquals(Optional.of("op-8"), store.activeOn("g0"));
    }

    @Test
    void aSecondOperationOnABusyGroupIsRefusedAndCreatesNothing() throws Exception {
        store.create(op("op-9", "g0/a"));
        OperationException.GroupBusy e = assertThrows(OperationException.GroupBusy.class,
                () -> store.create(op("op-10", "g1/a", "g0/b")));
        assertEquals("op-9", e.running());
        assertEquals("[cluster=shop group=g0] operation op-9 is already active on this group; continue it with"
                + " 'ballast upgrade resume op-9' or stop it with 'ballast upgrade abort op-9'", e.getMessage());
        assertEquals(Optional.empty(), store.read("op-10"));
        assertEquals(Optional.empty(), store.activeOn("g1"), "the transaction created none of op-10's markers");
        runner().run("op-9");
        store.create(op("op-10", "g1/a", "g0/b"));
        assertEquals(List.of("op-9", "op-10"), store.list().stream().map(Operation::id).toList());
    }

    @Test
    void aGroupLockHeldElsewhereMakesTheRunnerWaitBoundedThenPause() throws Exception {
        store.create(op("op-11", "g0/a"));
        CuratorFramework monitor = zk.client();
        try {
            InterProcessMutex held = new InterProcessMutex(monitor, store.lockPath("g0"));
            assertTrue(held.acquire(5, TimeUnit.SECONDS));
            long t0 = System.nanoTime();
            Operation paused = runner(store, 700, Progress.none()).run("op-11");
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(Operation.State.PAUSED, paused.state());
            assertTrue(waitedMs >= 700 && waitedMs < 10_000, "waited " + waitedMs + " ms");
            assertTrue(paused.reason().contains("held its lock " + store.lockPath("g0") + " for 700 ms"), paused.reason());
            assertEquals(List.of(), toy.acted);
            assertEquals(Step.State.PENDING, paused.steps().get(0).state());
            held.release();
        } finally {
            monitor.close();
        }
        assertEquals(Operation.State.DONE, runner().run("op-11").state());
    }

    @Test
    void aConcurrentWriterIsDetectedAndNotOverwritten() throws Exception {
        store.create(op("op-12", "g0/a", "g0/b"));
        OperationStore.Versioned v = store.get("op-12");
        Operation mine = v.operation().withState(Operation.State.PAUSED, "mine");
        store.update(v.operation().withState(Operation.State.PAUSED, "theirs"), v.version());
        OperationException.ConcurrentUpdate e = assertThrows(OperationException.ConcurrentUpdate.class,
                () -> store.update(mine, v.version()));
        assertTrue(e.getMessage().contains("nothing was overwritten"), e.getMessage());
        assertEquals("theirs", store.get("op-12").operation().reason());
    }

    @Test
    void aRunnerStopsWhenAnotherWriterChangesItsStep() throws Exception {
        store.create(op("op-13", "g0/a", "g0/b"));
        toy.blockOn = "g0/a";
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return runner().run("op-13");
            } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        OperationStore.Versioned v = store.get("op-13");
        Step a = v.operation().steps().get(0);
        Step theirs = a.ended(Step.State.FAILED, a.startedAtMs(), a.startedAtMs() + 1, "", "written by someone else");
        store.update(v.operation().withStep(0, theirs), v.version());
        toy.proceed.countDown();
        Exception e = assertThrows(Exception.class, () -> run.get(20, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof OperationException.ConcurrentUpdate, String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().contains("expected RUNNING, found FAILED"), e.getCause().getMessage());
        assertEquals(theirs, store.get("op-13").operation().steps().get(0));
        assertFalse(toy.acted.contains("g0/b"));
    }

    @Test
    void anUnknownActionIsRefusedBeforeAnythingRuns() {
        store.create(Operation.create("op-14", "toy", "shop", "t", 0,
                List.of(Step.pending("g0", "a", Action.of("toy"), ""), Step.pending("g0", "a", Action.of("reboot"), ""))));
        OperationException e = assertThrows(OperationException.class, () -> runner().run("op-14"));
        assertTrue(e.getMessage().contains("action 'reboot' which this ballast does not know"), e.getMessage());
        assertEquals(List.of(), toy.acted);
        assertEquals(Operation.State.PENDING, store.get("op-14").operation().state());
    }

    @Test
    void aZooKeeperSessionLostMidStepIsRecoveredAndTheOperationCompletes() throws Exception {
        store.create(op("op-15", "g0/a", "g0/b"));
        CuratorFramework expiring = zk.client();
        try {
            toy.blockOn = "g0/a";
            Runner r = runner(new OperationStore(expiring, store.operationsPath().replace("/operations", "")), 10_000,
                    Progress.none());
            CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.run("op-15");
                } catch (InterruptedException ex) {
                    throw new IllegalStateException(ex);
                }
            });
            assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
            long sessionBefore = expiring.getZookeeperClient().getZooKeeper().getSessionId();
            org.apache.curator.test.KillSession.kill(expiring.getZookeeperClient().getZooKeeper());
            toy.proceed.countDown();
            Operation done = run.get(30, TimeUnit.SECONDS);
            assertEquals(Operation.State.DONE, done.state(), done.reason());
            assertTrue(sessionBefore != expiring.getZookeeperClient().getZooKeeper().getSessionId(), "a new session");
            assertEquals(List.of("g0/a", "g0/b"), toy.acted);
            assertEquals(Optional.empty(), store.activeOn("g0"));
        } finally {
            expiring.close();
        }
    }

    @Test
    void aSecondRunnerOfTheSameOperationIsRefusedWhileTheFirstRuns() throws Exception {
        store.create(op("op-16", "g0/a", "g0/b"));
        toy.blockOn = "g0/a";
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return runner().run("op-16");
            } catch (InterruptedException ex) {
                throw new IllegalStateException(ex);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        CuratorFramework other = zk.client();
        try {
            Runner second = runner(new OperationStore(other, store.operationsPath().replace("/operations", "")), 300,
                    Progress.none());
            OperationException e = assertThrows(OperationException.class, () -> second.run("op-16"));
            assertTrue(e.getMessage().contains("operation op-16 is being run by ")
                    && e.getMessage().contains(store.runnerPath("op-16")), e.getMessage());
        } finally {
            other.close();
        }
        assertEquals(Operation.State.RUNNING, store.get("op-16").operation().state(), "the refused runner changed nothing");
        toy.proceed.countDown();
        assertEquals(Operation.State.DONE, run.get(20, TimeUnit.SECONDS).state());
        assertEquals(List.of("g0/a", "g0/b"), toy.acted);
        assertEquals(Optional.empty(), store.runner("op-16"), "the lease is given back");
    }

    @Test
    void abortAfterARunnerDiedMidStepFreesTheGroups() throws Exception {
        store.create(op("op-17", "g0/a", "g1/a"));
        CuratorFramework dying = zk.client();
        toy.blockOn = "g0/a";
        Runner first = runner(new OperationStore(dying, store.operationsPath().replace("/operations", "")), 5_000,
                Progress.none());
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return first.run("op-17");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        dying.close();
        toy.proceed.countDown();
        assertThrows(Exception.class, () -> run.get(20, TimeUnit.SECONDS));
        assertEquals(Step.State.RUNNING, store.get("op-17").operation().steps().get(0).state());

        Operation aborted = runner().abort("op-17", "the runner is gone");
        assertEquals(Operation.State.ABORTED, aborted.state());
        assertEquals(Optional.empty(), store.activeOn("g0"), "the running step's lock was free: its runner is dead");
        assertEquals(Optional.empty(), store.activeOn("g1"));
    }

    /** Steps n1..n3 of unit "g0/x", then "g0/y" alone: an abort during the unit finishes it first. */
    static Operation unitOp(String id) {
        List<Step> steps = new ArrayList<>();
        for (String k : List.of("g0/n1", "g0/n2", "g0/n3")) {
            steps.add(Step.pending("g0", k.substring(3), new Action("toy", Map.of("key", k, Runner.UNIT, "g0/x")), ""));
        }
        steps.add(Step.pending("g0", "y", new Action("toy", Map.of("key", "g0/y")), ""));
        return Operation.create(id, "toy", "shop", "test", System.currentTimeMillis(), steps);
    }

    @Test
    void abortDuringAUnitFinishesTheUnitThenStops() throws Exception {
        store.create(unitOp("op-20"));
        toy.blockOn = "g0/n1";
        CompletableFuture<Operation> run = CompletableFuture.supplyAsync(() -> {
            try {
                return runner().run("op-20");
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(toy.entered.await(20, TimeUnit.SECONDS));
        Operation aborted = runner().abort("op-20", "operator asked");
        assertEquals(Operation.State.ABORTED, aborted.state());
        assertEquals(Optional.of("op-20"), store.activeOn("g0"));
        toy.proceed.countDown();
        Operation end = run.get(20, TimeUnit.SECONDS);
        assertEquals(Operation.State.ABORTED, end.state());
        assertEquals(List.of("g0/n1", "g0/n2", "g0/n3"), toy.acted, "the unit in progress ends, the next never starts");
        assertEquals(Step.State.PENDING, end.steps().get(3).state());
        assertEquals(Optional.empty(), store.activeOn("g0"));
    }

    @Test
    void abortAfterTheRunnerDiedMidUnitFinishesTheUnitInTheAbortingProcess() throws Exception {
        store.create(unitOp("op-21"));
        toy.failures.set(1); // n1 fails: the operation pauses inside the unit, no runner left
        Operation paused = runner().run("op-21");
        assertEquals(Operation.State.PAUSED, paused.state());
        assertEquals(0, Runner.unitInProgress(paused));
        Runner r = runner();
        Operation aborted = r.abort("op-21", "give up");
        assertEquals(Optional.of("op-21"), store.activeOn("g0"), "a unit is in progress: not freed yet");
        Operation end = r.finishAborted("op-21");
        assertEquals(Operation.State.ABORTED, end.state());
        assertTrue(end.steps().subList(0, 3).stream().allMatch(Step::finished), end.steps().toString());
        assertEquals(Step.State.PENDING, end.steps().get(3).state());
        assertFalse(toy.world.contains("g0/y"));
        assertEquals(Optional.empty(), store.activeOn("g0"));
        assertEquals(-1, Runner.unitInProgress(aborted.withStep(0, aborted.steps().get(0).ended(Step.State.PENDING, 0, 0,
                "", ""))), "a unit not started is not in progress");
    }
}
