package dev.ballast.cli;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import dev.ballast.mongo.BallastMongo;
import dev.ballast.mongo.MongoUpgradePlan;
import dev.ballast.mongo.fixture.FixtureControl;
import dev.ballast.mongo.fixture.ReplicaSetFixture;
import dev.ballast.replication.Documents;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Progress;
import dev.ballast.upgrade.Runner;
import dev.ballast.upgrade.Step;
import dev.ballast.upgrade.StepAction;
import dev.ballast.upgrade.mongo.MongoUpgrade;
import dev.ballast.upgrade.mongo.MongoUpgradeActions;
import com.fasterxml.jackson.databind.JsonNode;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ballast upgrade plan|start|resume --group rs0} and {@code ballast upgrade fcv} on the replica-set FIXTURE (not a
 * real mongod: see ReplicaSetFixture for what it does not do) with a real ZooKeeper (curator-test). The stop, install
 * and start commands are real shell commands ({@code curl}) to {@link FixtureControl}, which takes a member down, stages
 * its new version and starts it on that version.
 */
class MongoUpgradeCommandTest {

    static TestingServer zk;
    static final AtomicInteger CLUSTERS = new AtomicInteger();

    @TempDir
    Path dir;
    ReplicaSetFixture rs;
    FixtureControl control;
    Path config;
    ClusterConfig cluster;
    CuratorFramework client;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeAll
    static void startZooKeeper() throws Exception {
        Path data = Files.createTempDirectory("ballast-mongo-upgrade-zk-");
        zk = new TestingServer(new InstanceSpec(data.toFile(), InstanceSpec.getRandomPort(), -1, -1, true, 1, -1, -1,
                Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"), "127.0.0.1"), true);
    }

    @AfterAll
    static void stopZooKeeper() throws Exception {
        zk.close();
    }

    @BeforeEach
    void start() throws Exception {
        rs = ReplicaSetFixture.start("rs0", 3, "6.0.19");
        control = FixtureControl.start(rs);
        writeConfig(control.upgradeSection());
        client = TopologyStore.connect(cluster);
        assertTrue(TopologyStore.of(client, cluster).awaitConnected(10_000));
    }

    @AfterEach
    void stop() {
        client.close();
        control.close();
        rs.close();
    }

    /** A fresh cluster name per config, so that tests sharing the ZooKeeper do not see each other's operations. */
    void writeConfig(String replicaSetUpgrade) throws Exception {
        config = dir.resolve("cluster.yaml");
        Files.writeString(config, """
                name: shop%d
                database: shop
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:3311}
                failover: {zookeeper: "%s"}
                upgrade: {stopTimeoutMs: 30000, startTimeoutMs: 30000, catchUpTimeoutMs: 30000, commandTimeoutMs: 60000}
                mongo:
                  replicaSets:
                    rs0:
                      members: [%s]
                      connectTimeoutMs: 3000
                      serverSelectionTimeoutMs: 10000
                      heartbeatFrequencyMs: 500
                      catchUpSecs: 2
                      stepDownSecs: 30
                %s""".formatted(CLUSTERS.incrementAndGet(), zk.getConnectString(), String.join(", ", rs.hosts()),
                replicaSetUpgrade.indent(6)));
        cluster = ClusterConfigLoader.load(config);
    }

    int run(String... args) {
        out.reset();
        err.reset();
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--config");
        all.add(config.toString());
        return BallastCli.run(all.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    OperationStore operations() {
        return OperationStore.of(client, cluster);
    }

    String host(int member) {
        return rs.member(member).host();
    }

    /** "127.0.0.1:4001 mongo-stop" per step, the plan's order. */
    static List<String> steps(Operation op) {
        return op.steps().stream().map(s -> s.node() + " " + s.action().name()).toList();
    }

    static List<String> memberSteps(String member) {
        return List.of(member + " " + MongoUpgradePlan.STOP, member + " " + MongoUpgradePlan.INSTALL,
                member + " " + MongoUpgradePlan.START, member + " " + MongoUpgradePlan.AWAIT);
    }

    List<String> expectedPlan(String heir) {
        List<String> expected = new ArrayList<>(memberSteps(host(1)));
        expected.addAll(memberSteps(host(2)));
        expected.add(heir + " " + MongoUpgradePlan.STEP_DOWN);
        expected.addAll(memberSteps(host(0)));
        return expected;
    }

    static List<String> calls(String member, String version) {
        return List.of("stop " + member, "install " + member + " " + version, "start " + member + " " + version);
    }

    List<JsonNode> audit(String kind) {
        List<JsonNode> out = new ArrayList<>();
        for (String[] r : TopologyStore.of(client, cluster).recoveries()) {
            JsonNode o = Documents.readObject(r[1], "audit record");
            if (o.path("kind").asText().equals(kind)) {
                out.add(o);
            }
        }
        return out;
    }

    @Test
    void aRollingUpgradeUnderWritesMovesEveryMemberToTheTargetWithAPrimaryExceptDuringTheStepDown() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<long[]> leaderless = new ConcurrentLinkedQueue<>();
        Thread watcher = new Thread(() -> {
            while (!done.get()) {
                long before = System.currentTimeMillis();
                boolean none = rs.primary().isEmpty();
                long after = System.currentTimeMillis();
                if (none) {
                    leaderless.add(new long[]{before, after});
                }
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "primary-watcher");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicInteger acknowledged = new AtomicInteger();
        try (MongoClient mongo = BallastMongo.client(cluster, "rs0")) {
            MongoCollection<Document> orders = mongo.getDatabase("shop").getCollection("orders");
            Thread writer = new Thread(() -> {
                for (int i = 0; !done.get(); i++) {
                    try {
                        orders.insertOne(new Document("_id", i));
                        acknowledged.incrementAndGet();
                    } catch (RuntimeException e) {
                        errors.add(e);
                    }
                }
            }, "writer");
            watcher.start();
            writer.start();
            Thread.sleep(300);

            int status = run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes", "--id", "mongo-up-1");
            System.out.print(out());
            Thread.sleep(300);
            done.set(true);
            writer.join(30_000);
            watcher.join(5_000);
            assertEquals(0, status, out() + err());
            assertTrue(out().contains("upgrade of replica set rs0 to 7.0.14: 13 steps"), out());
            assertTrue(out().contains("operation mongo-up-1 DONE"), out());

            Operation op = operations().get("mongo-up-1").operation();
            Step stepDown = op.steps().stream().filter(s -> s.action().name().equals(MongoUpgradePlan.STEP_DOWN))
                    .findFirst().orElseThrow();
            assertEquals(expectedPlan(stepDown.node()), steps(op));
            assertTrue(op.steps().stream().allMatch(s -> s.state() == Step.State.DONE), op.toJson());
            assertEquals(Operation.State.DONE, op.state());
            for (ReplicaSetFixture.Member m : rs.members()) {
                assertEquals("7.0.14", m.version(), m.toString());
            }
            assertEquals(stepDown.node(), rs.primary().orElseThrow().host());
            List<String> expectedCalls = new ArrayList<>(calls(host(1), "7.0.14"));
            expectedCalls.addAll(calls(host(2), "7.0.14"));
            expectedCalls.addAll(calls(host(0), "7.0.14"));
            assertEquals(expectedCalls, control.calls());

            assertFalse(leaderless.isEmpty(), "the watcher saw the step-down's election");
            for (long[] t : leaderless) {
                assertTrue(t[1] >= stepDown.startedAtMs() && t[0] <= stepDown.endedAtMs(), "no primary at " + t[0] + ".."
                        + t[1] + " ms, outside the step-down (" + stepDown.startedAtMs() + ".." + stepDown.endedAtMs() + ")");
            }
            assertEquals(List.of(), List.copyOf(errors), "the writer saw no error (retryable writes cover the step-down)");
            assertTrue(acknowledged.get() > 0);
            assertEquals(acknowledged.get(), orders.countDocuments(), "every acknowledged insert is there");

            List<JsonNode> switchovers = audit("mongo-switchover");
            assertEquals(1, switchovers.size(), switchovers.toString());
            assertEquals("done", switchovers.get(0).path("state").asText());
            assertEquals("mongo-up-1", switchovers.get(0).path("operation").asText());
            assertEquals(host(0), switchovers.get(0).path("before").path("primary").asText());
            assertEquals(stepDown.node(), switchovers.get(0).path("after").path("primary").asText());
            List<JsonNode> upgrades = audit("mongo-upgrade");
            assertEquals(1, upgrades.size());
            assertEquals("done", upgrades.get(0).path("state").asText());
            assertEquals("13/13", upgrades.get(0).path("steps").asText());
            assertTrue(upgrades.get(0).path("members").path(host(0)).asText().startsWith("7.0.14 "), upgrades.toString());

            System.out.printf("MEASURED mongo rolling upgrade on the fixture: 3 members 6.0.19 -> 7.0.14 in %d ms, step-down"
                            + " %d ms, %d acknowledged inserts by 1 writer, 0 errors, no primary seen for %d ms (first to"
                            + " last sample)%n",
                    op.steps().get(op.steps().size() - 1).endedAtMs() - op.steps().get(0).startedAtMs(),
                    stepDown.endedAtMs() - stepDown.startedAtMs(), acknowledged.get(),
                    leaderless.stream().mapToLong(t -> t[1]).max().orElse(0)
                            - leaderless.stream().mapToLong(t -> t[0]).min().orElse(0));
        }
        assertEquals(0, run("upgrade", "status"), err());
        assertTrue(out().contains("mongo-up-1  mongo-upgrade  DONE  13/13 steps"), out());
        assertEquals(0, run("upgrade", "plan", "--group", "rs0", "--to-version", "7.0.14"), err());
        assertEquals("nothing to upgrade: every member of replica set rs0 runs 7.0.14\nfeatureCompatibilityVersion: 6.0;"
                + " once every member runs 7.0.14, raise it with 'ballast upgrade fcv --group rs0 --version 7.0'\n", out());
    }

    /** Thrown by the wrapped start action: the runner's process "dies" after acting, before the step is recorded. */
    static final class ProcessDeath extends Error {
        ProcessDeath() {
            super("simulated crash after the start command");
        }
    }

    @Test
    void aRunnerThatDiesAfterStartingAMemberIsResumedFromThatStepWithoutStartingItTwice() throws Exception {
        MongoReplicaSetConfig set = cluster.mongoReplicaSet("rs0").orElseThrow();
        String crashAt = host(2);
        try (CuratorFramework dying = TopologyStore.connect(cluster);
             MongoUpgradeActions actions = new MongoUpgradeActions(cluster, set, TopologyStore.of(dying, cluster), "test")) {
            assertTrue(TopologyStore.of(dying, cluster).awaitConnected(10_000));
            OperationStore store = OperationStore.of(dying, cluster);
            MongoUpgrade plan = MongoUpgrade.plan(actions.status(), java.util.Optional.of("6.0"), "7.0.14", set,
                    cluster.upgrade());
            store.create(Operation.create("mongo-up-2", MongoUpgrade.KIND, cluster.name(), "test", System.currentTimeMillis(),
                    plan.steps()));
            Map<String, StepAction> byName = new HashMap<>(actions.actions());
            StepAction start = byName.get(MongoUpgradePlan.START);
            byName.put(MongoUpgradePlan.START, new StepAction() {
                @Override
                public Check check(Operation op, Step step) throws Exception {
                    return start.check(op, step);
                }

                @Override
                public String act(Operation op, Step step) throws Exception {
                    String output = start.act(op, step);
                    if (step.node().equals(crashAt)) {
                        throw new ProcessDeath();
                    }
                    return output;
                }
            });
            assertThrows(ProcessDeath.class, () -> new Runner(store, byName, 10_000, Progress.none()).run("mongo-up-2"));
        } // the dying process's ZooKeeper session ends with it

        Operation crashed = operations().get("mongo-up-2").operation();
        int running = crashed.next();
        assertEquals(crashAt + " " + MongoUpgradePlan.START, steps(crashed).get(running));
        assertEquals(Step.State.RUNNING, crashed.steps().get(running).state());
        assertEquals(Operation.State.RUNNING, crashed.state());
        assertEquals("7.0.14", rs.member(crashAt).version(), "the start happened before the crash");

        assertEquals(0, run("upgrade", "resume", "mongo-up-2"), out() + err());
        assertTrue(out().startsWith("resuming mongo-up-2 at step " + (running + 1) + "/13"), out());
        Operation end = operations().get("mongo-up-2").operation();
        assertEquals(Operation.State.DONE, end.state());
        Step resumed = end.steps().get(running);
        assertEquals(Step.State.DONE, resumed.state());
        assertTrue(resumed.output().startsWith("already done: " + crashAt + " answers on 7.0.14"), resumed.output());
        assertEquals(1, control.calls().stream().filter(c -> c.equals("start " + crashAt + " 7.0.14")).count(),
                control.calls().toString());
        assertEquals(9, control.calls().size(), "each member stopped, installed and started once: " + control.calls());
        rs.members().forEach(m -> assertEquals("7.0.14", m.version(), m.toString()));
        assertEquals(1, audit("mongo-upgrade").size(), "the resumed run records its outcome");
    }

    @Test
    void refusalsNameTheMemberAndTheWayOutAndChangeNothing() throws Exception {
        long term = rs.term();

        rs.member(2).kill();
        assertEquals(3, run("upgrade", "plan", "--group", "rs0", "--to-version", "7.0.14"));
        assertTrue(err().startsWith("ballast: refused: [replicaSet=rs0] refusing upgrade to 7.0.14: member " + host(2)
                + " is down ("), err());
        assertTrue(err().contains("every member must be up first; nothing was changed"), err());
        rs.member(2).restart();

        rs.member(1).priority(0);
        rs.member(2).priority(0);
        assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes"));
        assertTrue(err().contains("no secondary can take over from the primary " + host(0)), err());
        rs.member(1).priority(1);
        rs.member(2).priority(1);

        assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "6.0.1", "--yes"));
        assertTrue(err().contains("member " + host(0) + " runs 6.0.19, newer than the target: downgrades are not planned;"
                + " choose a target of at least 6.0.19"), err());

        rs.member(2).version("5.0.30");
        assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes"));
        assertTrue(err().contains("member " + host(2) + " runs 5.0.30; MongoDB upgrades one release series at a time:"
                + " upgrade to 6.0 first"), err());
        rs.member(2).version("6.0.19");

        try (MongoClient mongo = BallastMongo.client(cluster, "rs0")) {
            mongo.getDatabase("admin").runCommand(new Document("setFeatureCompatibilityVersion", "5.0"));
            assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes"));
            assertTrue(err().contains("its featureCompatibilityVersion is 5.0, and member " + host(0) + " leaves 6.0.19:"
                    + " MongoDB starts a binary of the next release series only on data of FCV 6.0; set it first ('ballast"
                    + " upgrade fcv --group rs0 --version 6.0')"), err());
            mongo.getDatabase("admin").runCommand(new Document("setFeatureCompatibilityVersion", "6.0"));
        }

        assertEquals(2, run("upgrade", "plan", "--group", "g0", "--group", "rs0", "--to-version", "7.0.14"));
        assertTrue(err().contains("rs0 is a MongoDB replica set, upgraded on its own: give it as the only --group"), err());
        assertEquals(2, run("upgrade", "plan", "--group", "rs9", "--to-version", "7.0.14"));
        assertTrue(err().contains("has no group 'rs9' (groups: g0; MongoDB replica sets: rs0)"), err());

        assertEquals(List.of(), operations().list(), "no operation was created");
        assertEquals(term, rs.term(), "the primary never moved");
        assertEquals(List.of(), control.calls(), "no command ran");
        rs.members().forEach(m -> assertEquals("6.0.19", m.version()));

        assertEquals(0, run("upgrade", "plan", "--group", "rs0", "--to-version", "7.0"), err());
        assertTrue(out().startsWith("upgrade of replica set rs0 to 7.0: 13 steps\n"), out());
        assertTrue(out().endsWith("\nfeatureCompatibilityVersion: 6.0; once every member runs 7.0, raise it with 'ballast"
                + " upgrade fcv --group rs0 --version 7.0'\n"), out());
        assertTrue(out().contains("rs0 " + host(1) + " mongo-install: " + control.command("install")
                .replace("{host}", "127.0.0.1").replace("{port}", Integer.toString(rs.member(1).port()))
                .replace("{version}", "7.0")), out());

        writeConfig("");
        assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes"));
        assertTrue(err().contains("mongo.replicaSets.rs0.upgrade.stop (or upgrade.stopCommand) is not set"), err());
        assertEquals(0, run("upgrade", "plan", "--group", "rs0", "--to-version", "7.0.14"), err());
        assertTrue(out().contains("mongo-stop: (not set: upgrade.stopCommand)"), out());
        assertTrue(out().contains("note: mongo.replicaSets.rs0.upgrade.stop (or upgrade.stopCommand) is not set"), out());

        writeConfig(control.upgradeSection());
        operations().create(Operation.create("other", MongoUpgrade.KIND, cluster.name(), "test", 0,
                List.of(Step.pending("rs0", host(1), dev.ballast.upgrade.Action.of(MongoUpgradePlan.STOP), "x"))));
        assertEquals(3, run("upgrade", "start", "--group", "rs0", "--to-version", "7.0.14", "--yes"));
        assertTrue(err().contains("[replicaSet=rs0] operation other is already active on it; continue it with 'ballast"
                + " upgrade resume other'"), err());
        assertEquals(List.of(), control.calls());
    }

    @Test
    void fcvIsRefusedWhileAMemberRunsOlderBinariesAndSetAfterItIsUpgraded() {
        rs.member(0).version("7.0.14");
        rs.member(1).version("7.0.14");
        assertEquals("6.0", rs.featureCompatibilityVersion());
        assertEquals(3, run("upgrade", "fcv", "--group", "rs0", "--version", "7.0"));
        assertEquals("ballast: refused: [replicaSet=rs0 member=" + host(2) + "] refusing featureCompatibilityVersion 7.0:"
                + " it runs 6.0.19; finish the rolling upgrade of every member first\n", err());
        assertEquals("6.0", rs.featureCompatibilityVersion());
        assertEquals(List.of(), audit("mongo-fcv"), "a refusal changes nothing and records nothing");

        rs.member(2).version("7.0.14");
        assertEquals(0, run("upgrade", "fcv", "--group", "rs0", "--version", "7.0"), err());
        assertEquals("featureCompatibilityVersion of replica set rs0: 6.0 -> 7.0 (set on the primary " + host(0)
                + ", confirm: true)\n", out());
        assertEquals("7.0", rs.featureCompatibilityVersion());
        assertEquals(0, run("upgrade", "fcv", "--group", "rs0", "--version", "7.0"), err());
        assertEquals("featureCompatibilityVersion of replica set rs0 is already 7.0; nothing changed\n", out());

        List<JsonNode> records = audit("mongo-fcv");
        assertEquals(List.of("done", "unchanged"), records.stream().map(r -> r.path("state").asText()).toList());
        assertEquals("6.0", records.get(0).path("fcvBefore").asText());
        assertEquals("7.0", records.get(0).path("fcvAfter").asText());

        assertEquals(2, run("upgrade", "fcv", "--group", "rs0", "--version", "7"));
        assertTrue(err().contains("'7' is not a featureCompatibilityVersion such as 7.0"), err());
        assertEquals(2, run("upgrade", "fcv", "--group", "g0", "--version", "7.0"));
        assertTrue(err().contains("has no MongoDB replica set 'g0' (mongo.replicaSets: rs0)"), err());
    }

    @Test
    void aSwitchoverOfAReplicaSetIsRecordedInTheAuditLog() {
        assertEquals(0, run("switchover", "--group", "rs0", "--to", host(2)), err());
        assertTrue(out().startsWith("switched over replica set rs0 from " + host(0) + " to " + host(2)), out());
        List<JsonNode> records = audit("mongo-switchover");
        assertEquals(1, records.size());
        assertEquals("done", records.get(0).path("state").asText());
        assertEquals(host(2), records.get(0).path("candidate").asText());
        assertEquals(host(2), records.get(0).path("after").path("primary").asText());
        assertTrue(records.get(0).path("noPrimaryMs").asLong() >= 0);
    }
}
