package dev.ballast.upgrade;

import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A runner in another JVM is killed with SIGKILL mid-step; a runner here resumes the operation. */
class RunnerKillTest {

    @Test
    void aRunnerKilledWithSigkillMidStepIsResumedFromThatStepAfterARecheck() throws Exception {
        Path world = Files.createTempDirectory("ballast-ops-world-");
        try (LocalZooKeeper zk = new LocalZooKeeper()) {
            CuratorFramework client = zk.client();
            try {
                String root = "/ballast/killed";
                OperationStore store = new OperationStore(client, root);
                store.create(Operation.create("op-k", "touch", "killed", "test", System.currentTimeMillis(), List.of(
                        Step.pending("g0", "a", Action.of("touch"), "file absent"),
                        Step.pending("g0", "b", Action.of("touch"), "file absent"),
                        Step.pending("g0", "c", Action.of("touch"), "file absent"))));

                String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
                String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
                Process child = new ProcessBuilder(java, "-cp", cp, CrashingRunner.class.getName(), zk.connectString(),
                        root, "op-k", world.toString(), "b")
                        .redirectErrorStream(true).redirectOutput(world.resolve("child.log").toFile()).start();
                try {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (!(Files.exists(world.resolve("g0-b"))
                            && store.get("op-k").operation().steps().get(1).state() == Step.State.RUNNING)) {
                        assertTrue(child.isAlive(), () -> "the child died: " + log(world));
                        assertTrue(System.nanoTime() < deadline, () -> "the child never reached step b: " + log(world));
                        Thread.sleep(50);
                    }
                } finally {
                    child.destroyForcibly(); // SIGKILL on Linux
                }
                assertTrue(child.waitFor(20, TimeUnit.SECONDS));
                assertEquals(137, child.exitValue(), "killed by SIGKILL");

                Operation crashed = store.get("op-k").operation();
                assertEquals(Operation.State.RUNNING, crashed.state());
                assertEquals(Step.State.DONE, crashed.steps().get(0).state());
                assertEquals(Step.State.RUNNING, crashed.steps().get(1).state());
                assertEquals(Optional.of("op-k"), store.activeOn("g0"), "the group marker survives the kill");
                assertThrows(OperationException.GroupBusy.class, () -> store.create(Operation.create("op-2", "touch",
                        "killed", "t", 0, List.of(Step.pending("g0", "z", Action.of("touch"), "")))));

                // the dead runner's session (3 s) still holds the group lock for a moment: resume waits for it
                Runner resume = new Runner(store, Map.of("touch", new FileAction(world, "")), 30_000, Progress.none());
                Operation done = resume.run("op-k");
                assertEquals(Operation.State.DONE, done.state(), done.reason());
                assertTrue(done.steps().get(1).output().startsWith("already done: g0-b exists"), done.steps().get(1).output());
                assertEquals("created g0-c", done.steps().get(2).output());
                assertEquals(Optional.empty(), store.activeOn("g0"));
                String childPid = Files.readString(world.resolve("g0-b")).trim();
                assertEquals(String.valueOf(child.pid()), childPid, "b was done once, by the killed runner");
                assertFalse(Files.readString(world.resolve("g0-c")).trim().equals(childPid));
            } finally {
                client.close();
            }
        }
    }

    private static String log(Path world) {
        try {
            return Files.readString(world.resolve("child.log"));
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
