package dev.ballast.it.upgrade;

import dev.ballast.cli.BallastCli;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.testbed.MariaDbBinaries;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.NodeAddress;
import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Step;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ballast upgrade} and {@code drain}/{@code undrain} as an operator uses them, on real servers (one group:
 * master + 2 replicas on 10.11): every refusal before anything changes (exit 3, naming the node and the way out), usage
 * errors (exit 2), and an abort in the middle of a node's upgrade that leaves that node serving (on 11.4.5) and the
 * rest untouched.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class UpgradeCliTest {

    FailoverBed bed;
    UpgradeControl control;
    final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (control != null) {
            control.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    record Run(int status, String out, String err) {
        @Override
        public String toString() {
            return "exit " + status + "\nout: " + out + "\nerr: " + err;
        }
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Path[] configs() throws Exception {
        bed = FailoverBed.start("upgcli", 2, "tables:\n  t_kv:\n    group: g0\n");
        bed.store().bootstrap(bed.config());
        control = UpgradeControl.start(bed.bed(), MariaDbBinaries.fromMavenArtifact("11.4.5"));
        Path dir = bed.bed().directory();
        Path bare = bed.yaml().writeTo(dir.resolve("bare.yaml"));
        Path full = bed.yaml().with(control.upgradeSection("  drainTimeoutMs: 1000")).writeTo(dir.resolve("full.yaml"));
        return new Path[]{bare, full};
    }

    @Test
    void refusalsChangeNothingAndNameTheNodeAndTheWayOut() throws Exception {
        Path[] c = configs();
        String bare = c[0].toString();
        String full = c[1].toString();
        int topologyVersion = bed.store().read("g0").orElseThrow().version();
        GroupTopology t = bed.topology();
        MariaDbNode replica = bed.node(t.replicas().get(0));

        Run healthy = cli("upgrade", "plan", "--to-version", "11.4", "--config", full);
        assertEquals(0, healthy.status(), healthy.toString());
        assertTrue(healthy.out().contains("upgrade to 11.4: 22 steps"), healthy.out()); // 3 nodes × 7 + switchover
        assertTrue(healthy.out().contains("planned switchover from " + t.master()), healthy.out());

        Run noCommands = cli("upgrade", "start", "--to-version", "11.4", "--yes", "--config", bare);
        assertEquals(3, noCommands.status(), noCommands.toString());
        assertTrue(noCommands.err().contains("upgrade.stopCommand is not set"), noCommands.err());
        Run planWithout = cli("upgrade", "plan", "--to-version", "11.4", "--config", bare);
        assertEquals(0, planWithout.status(), planWithout.toString());
        assertTrue(planWithout.out().contains("(not set: upgrade.stopCommand)"), planWithout.out());

        Run downgrade = cli("upgrade", "plan", "--to-version", "10.6", "--config", full);
        assertEquals(3, downgrade.status(), downgrade.toString());
        assertTrue(downgrade.err().contains("newer than the target 10.6: downgrades are not supported"), downgrade.err());

        Run notYes = cli("upgrade", "start", "--to-version", "11.4", "--config", full);
        assertEquals(3, notYes.status(), notYes.toString());
        assertTrue(notYes.err().contains("pass --yes"), notYes.err());

        assertEquals(2, cli("upgrade", "plan", "--to-version", "11.4", "--group", "g9", "--config", full).status());
        assertEquals(2, cli("upgrade", "plan", "--to-version", "latest", "--config", full).status());
        assertEquals(2, cli("upgrade", "plan", "--to-verison", "11.4", "--config", full).status());

        replica.execute("STOP SLAVE SQL_THREAD");
        Run stopped = cli("upgrade", "plan", "--to-version", "11.4", "--config", full);
        replica.execute("START SLAVE");
        assertEquals(3, stopped.status(), stopped.toString());
        assertTrue(stopped.err().contains("node " + replica.address() + " (replica of g0) is not replicating (io YES, sql"
                + " stopped"), stopped.err());

        Run drain = cli("drain", "--node", replica.address(), "--reason", "disk swap", "--config", full);
        assertEquals(0, drain.status(), drain.toString());
        Run status = cli("status", "--config", full);
        assertTrue(status.out().contains("under maintenance") && status.out().contains("disk swap"), status.out());
        Run drained = cli("upgrade", "plan", "--to-version", "11.4", "--config", full);
        assertEquals(3, drained.status(), drained.toString());
        assertTrue(drained.err().contains("is under maintenance (disk swap"), drained.err());
        assertEquals(0, cli("undrain", "--node", replica.address(), "--config", full).status());
        Run drainMaster = cli("drain", "--node", t.master().toString(), "--config", full);
        assertEquals(3, drainMaster.status(), drainMaster.toString());
        assertTrue(drainMaster.err().contains("is the master of group g0"), drainMaster.err());
        Run drainStranger = cli("drain", "--node", "127.0.0.1:1", "--config", full);
        assertEquals(2, drainStranger.status(), drainStranger.toString());
        assertTrue(drainStranger.err().contains("127.0.0.1:1 is not a server of any group"), drainStranger.err());

        OperationStore ops = OperationStore.of(bed.store().client(), bed.config());
        ops.create(Operation.create("other-1", "schema-change", "upgcli", "test", System.currentTimeMillis(),
                List.of(Step.pending("g0", "", Action.of("noop"), ""))));
        Run busy = cli("upgrade", "start", "--to-version", "11.4", "--yes", "--config", full);
        assertEquals(3, busy.status(), busy.toString());
        assertTrue(busy.err().contains("operation other-1 is already active on it"), busy.err());

        assertEquals(topologyVersion, bed.store().read("g0").orElseThrow().version(), "no refusal touched the topology");
        assertEquals(List.of("other-1"), ops.list().stream().map(Operation::id).toList(), "no operation was created");
        assertEquals(Map.of(), bed.store().drained());
        assertEquals(List.of(), control.calls(), "no command ran");
    }

    @Test
    void abortInTheMiddleOfANodeFinishesThatNodeAndStops() throws Exception {
        Path full = configs()[1];
        GroupTopology t = bed.topology();
        Path log = bed.bed().directory().resolve("cli-abort.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process cli = new ProcessBuilder(java, "-Xmx128m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "dev.ballast.cli.BallastCli", "upgrade", "start", "--to-version", "11.4", "--yes", "--id", "ab-1",
                "--config", full.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(cli);
        OperationStore ops = OperationStore.of(bed.store().client(), bed.config());
        FailoverBed.await("the first replica is stopped", Duration.ofSeconds(120), () -> ops.read("ab-1")
                .map(v -> v.operation().steps().get(1).state() == Step.State.DONE).orElse(false));

        Run abort = cli("upgrade", "abort", "ab-1", "--config", full.toString());
        assertEquals(0, abort.status(), abort.toString());
        assertTrue(abort.out().contains("once the node in progress serves again"), abort.out());
        assertTrue(cli.waitFor(300, TimeUnit.SECONDS), Files.readString(log));
        assertEquals(1, cli.exitValue(), "the CLI reports the aborted operation:\n" + Files.readString(log));

        Operation op = ops.get("ab-1").operation();
        assertEquals(Operation.State.ABORTED, op.state());
        NodeAddress first = NodeAddress.parse(op.steps().get(0).node());
        for (int i = 0; i < 7; i++) {
            assertEquals(Step.State.DONE, op.steps().get(i).state(), op.steps().get(i).describe());
        }
        assertEquals(Step.State.PENDING, op.steps().get(7).state(), "the next node is not touched");
        MariaDbNode node = bed.node(first);
        assertTrue(node.query("SELECT VERSION() AS v").get(0).get("v").startsWith("11.4.5"));
        Map<String, String> s = node.query("SHOW SLAVE STATUS").get(0);
        assertEquals("Yes", s.get("Slave_IO_Running"), s.toString());
        assertEquals("Yes", s.get("Slave_SQL_Running"), s.toString());
        assertEquals(Map.of(), bed.store().drained(), "the node serves reads again");
        assertEquals(Optional.empty(), ops.activeOn("g0"), "the group is free");
        assertEquals(t, bed.topology(), "the master did not move");
        Run status = cli("upgrade", "status", "ab-1", "--config", full.toString());
        assertEquals(0, status.status(), status.toString());
        assertTrue(status.out().contains("ABORTED"), status.out());
        Run resume = cli("upgrade", "resume", "ab-1", "--config", full.toString());
        assertEquals(1, resume.status(), resume.toString());
        assertTrue(resume.err().contains("was aborted"), resume.err());
    }
}
