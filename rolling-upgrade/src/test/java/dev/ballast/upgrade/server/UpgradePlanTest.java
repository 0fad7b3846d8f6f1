package dev.ballast.upgrade.server;

import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.UpgradeSettings;
import dev.ballast.topology.Maintenance;
import dev.ballast.upgrade.Runner;
import dev.ballast.upgrade.Step;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The upgrade plan as a table: group facts in, steps or refusals out. */
class UpgradePlanTest {

    static final NodeAddress M = NodeAddress.parse("db1:3306");
    static final NodeAddress R1 = NodeAddress.parse("db2:3306");
    static final NodeAddress R2 = NodeAddress.parse("db3:3306");
    static final String OLD = "10.11.19-MariaDB-0+deb12u1";
    static final String NEW = "11.4.5-MariaDB";
    static final UpgradeSettings COMMANDS = new UpgradeSettings("stop {node}", "install {version} on {host}",
            "start {port}", "", List.of(), 600_000, 120_000, 300_000, 10_000, 600_000);

    static NodeProbe master(String version) {
        return new NodeProbe(M, true, "", 1, false, Position.parse(Flavour.MARIADB, "0-1-100"), Optional.empty(), true, 0, version);
    }

    static NodeProbe replica(NodeAddress n, String version, ReplicaThreads.IoState io, boolean sql, long behind, NodeAddress of) {
        return new NodeProbe(n, true, "", 2, true, Position.parse(Flavour.MARIADB, "0-1-100"), Optional.of(new ReplicaThreads(of, io, sql,
                Position.parse(Flavour.MARIADB, "0-1-100"), Position.parse(Flavour.MARIADB, "0-1-100"), 0, "", sql ? 0 : 1062,
                sql ? "" : "Duplicate entry", behind)), false, 0, version);
    }

    static NodeProbe replica(NodeAddress n, String version) {
        return replica(n, version, ReplicaThreads.IoState.YES, true, 0, M);
    }

    static UpgradePlan.GroupFacts facts(Map<NodeAddress, NodeProbe> probes) {
        return facts(probes, Map.of(), Optional.empty(), GroupTopology.Phase.SERVING);
    }

    static UpgradePlan.GroupFacts facts(Map<NodeAddress, NodeProbe> probes, Map<NodeAddress, Maintenance> drained,
                                        Optional<String> active, GroupTopology.Phase phase) {
        List<NodeAddress> replicas = probes.keySet().stream().filter(n -> !n.equals(M)).toList();
        return new UpgradePlan.GroupFacts("g0", new GroupTopology("g0", M, replicas, 7, phase), probes, drained, active);
    }

    static Map<NodeAddress, NodeProbe> group(NodeProbe... probes) {
        Map<NodeAddress, NodeProbe> m = new LinkedHashMap<>();
        for (NodeProbe p : probes) {
            m.put(p.node(), p);
        }
        return m;
    }

    static UpgradePlan plan(UpgradePlan.GroupFacts... groups) {
        return UpgradePlan.plan(TargetVersion.parse("11.4"), List.of(groups), COMMANDS, 1000);
    }

    static List<String> names(UpgradePlan p) {
        return p.steps().stream().map(s -> s.node() + " " + s.action().name()).toList();
    }

    @Test
    void replicasOneAtATimeThenSwitchoverThenTheOldMaster() {
        UpgradePlan p = plan(facts(group(master(OLD), replica(R2, OLD), replica(R1, OLD))));
        assertFalse(p.refused(), p.refusals().toString());
        List<String> per = List.of("drain", "stop", "install", "start", "gate", "undrain");
        List<String> expected = new java.util.ArrayList<>();
        for (NodeAddress n : List.of(R1, R2)) { // sorted by address, not probe order
            per.forEach(a -> expected.add(n + " " + a));
        }
        expected.add(" switchover");
        per.forEach(a -> expected.add(M + " " + a));
        assertEquals(expected, names(p));
        Step stop = p.steps().get(1);
        assertEquals("stop db2:3306", stop.action().parameter("command"));
        assertEquals("install 11.4 on db2", p.steps().get(2).action().parameter("command"));
        assertEquals("start 3306", p.steps().get(3).action().parameter("command"));
        assertEquals(OLD, stop.action().parameter("from"));
        assertEquals("7", stop.action().parameter("epoch"));
        assertEquals("g0/db2:3306", stop.action().parameter(Runner.UNIT));
        assertFalse(p.steps().get(6 * 2).action().parameters().containsKey(Runner.UNIT), "switchover is no node's unit");
    }

    @Test
    void postStartOnlyWhenConfigured() {
        UpgradeSettings with = new UpgradeSettings("a", "b", "c", "mariadb-upgrade -h{host} -P{port}", List.of(), 1000, 1000,
                1000, 0, 1000);
        UpgradePlan p = UpgradePlan.plan(TargetVersion.parse("11.4"), List.of(facts(group(master(NEW), replica(R1, OLD)))),
                with, 1000);
        assertEquals(List.of(R1 + " drain", R1 + " stop", R1 + " install", R1 + " start", R1 + " post-start", R1 + " gate",
                R1 + " undrain"), names(p));
        assertEquals("mariadb-upgrade -hdb2 -P3306", p.steps().get(4).action().parameter("command"));
    }

    @Test
    void upgradedNodesGetNoStepsAndAGroupAllAtTargetIsUpToDate() {
        UpgradePlan half = plan(facts(group(master(OLD), replica(R1, NEW), replica(R2, OLD))));
        assertEquals(R2 + " drain", names(half).get(0));
        assertTrue(names(half).contains(" switchover"));
        assertFalse(names(half).stream().anyMatch(s -> s.startsWith(R1.toString())));

        UpgradePlan onlyMaster = plan(facts(group(master(OLD), replica(R1, NEW))));
        assertEquals(" switchover", names(onlyMaster).get(0));

        UpgradePlan done = plan(facts(group(master(NEW), replica(R1, "11.4.7-MariaDB"))));
        assertTrue(done.steps().isEmpty());
        assertEquals(List.of("g0"), done.upToDate());
        assertTrue(done.describe().contains("nothing to upgrade"));
    }

    @Test
    void refusals() {
        record Case(String why, UpgradePlan.GroupFacts facts, String expected) {
        }
        Map<NodeAddress, NodeProbe> unreachable = group(master(OLD), NodeProbe.unreachable(R1, "Connection refused", 0));
        List<Case> cases = List.of(
                new Case("no replica", facts(group(master(OLD))), "has no replica"),
                new Case("downgrade", facts(group(master(OLD), replica(R1, "11.8.1-MariaDB"))),
                        "newer than the target 11.4: downgrades are not supported"),
                new Case("unreachable", facts(unreachable), "db2:3306 (replica of g0) is not reachable (Connection refused)"),
                new Case("stopped", facts(group(master(OLD), replica(R1, OLD, ReplicaThreads.IoState.YES, false, 0, M))),
                        "is not replicating (io YES, sql stopped: Duplicate entry)"),
                new Case("lagging", facts(group(master(OLD), replica(R1, OLD, ReplicaThreads.IoState.YES, true, 5, M))),
                        "is 5 s behind its master, beyond readPolicy.maxReplicaLagMs=1000"),
                new Case("wrong master", facts(group(master(OLD), replica(R1, OLD, ReplicaThreads.IoState.YES, true, 0, R2)))
                        , "replicates from db3:3306, not from the master db1:3306"),
                new Case("unknown version", facts(group(master(""), replica(R1, OLD))), "did not report its version"),
                new Case("read-only master", facts(group(new NodeProbe(M, true, "", 1, true, Position.parse(Flavour.MARIADB, "0-1-1"),
                        Optional.empty(), false, 0, OLD), replica(R1, OLD))), "db1:3306 (master of g0) is read_only"),
                new Case("maintenance", facts(group(master(OLD), replica(R1, OLD)), Map.of(R1, new Maintenance(R1,
                        "disk swap", "ops@cli", 1)), Optional.empty(), GroupTopology.Phase.SERVING),
                        "is under maintenance (disk swap, by ops@cli)"),
                new Case("operation", facts(group(master(OLD), replica(R1, OLD)), Map.of(), Optional.of("upgrade-1"),
                        GroupTopology.Phase.SERVING), "operation upgrade-1 is already active on it; continue it with"
                        + " 'ballast upgrade resume upgrade-1'"),
                new Case("switching", facts(group(master(OLD), replica(R1, OLD)), Map.of(), Optional.empty(),
                        GroupTopology.Phase.SWITCHING), "a switchover is in progress"));
        for (Case c : cases) {
            UpgradePlan p = plan(c.facts());
            assertTrue(p.refused(), c.why() + ": not refused");
            assertTrue(p.steps().isEmpty(), c.why() + ": a refused group gets no steps");
            assertTrue(p.refusals().get(0).contains(c.expected()), c.why() + ": " + p.refusals());
            assertTrue(p.describe().startsWith("refused: nothing was changed"), c.why());
        }
    }

    @Test
    void oneRefusedGroupRefusesThePlanButNamesOnlyItself() {
        Map<NodeAddress, NodeProbe> ok = group(master(OLD), replica(R1, OLD));
        UpgradePlan.GroupFacts g1 = new UpgradePlan.GroupFacts("g1", new GroupTopology("g1", M, List.of(), 1,
                GroupTopology.Phase.SERVING), group(master(OLD)), Map.of(), Optional.empty());
        UpgradePlan p = plan(facts(ok), g1);
        assertTrue(p.refused());
        assertEquals(1, p.refusals().size());
        assertTrue(p.refusals().get(0).startsWith("group g1: "), p.refusals().toString());
    }

    @Test
    void targetVersions() {
        TargetVersion t = TargetVersion.parse("11.4");
        assertTrue(t.reachedBy(dev.ballast.replication.ServerVersion.parse("11.4.5-MariaDB-log").orElseThrow()));
        assertTrue(t.compare(dev.ballast.replication.ServerVersion.parse("10.11.19-MariaDB").orElseThrow()) < 0);
        assertTrue(t.compare(dev.ballast.replication.ServerVersion.parse("11.8.0").orElseThrow()) > 0);
        assertTrue(TargetVersion.parse("11.4.5").compare(dev.ballast.replication.ServerVersion.parse("11.4.6").orElseThrow()) > 0);
        for (String bad : new String[]{"", "latest", "11.4.5.1", "11.4;rm -rf /", "v11"}) {
            assertThrows(IllegalArgumentException.class, () -> TargetVersion.parse(bad), bad);
        }
    }

    @Test
    void commandTemplatesRefuseUnsafeValues() {
        assertEquals("x db1 3306 db1:3306 11.4", UpgradeSettings.render("x {host} {port} {node} {version}", M, "11.4"));
        assertThrows(IllegalArgumentException.class, () -> UpgradeSettings.render("{host}", new NodeAddress("a;b", 1), "1"));
    }

    @Test
    void failoverSinceTheLastEpochSeenPausesOnceAndResumeAcknowledgesIt() {
        UpgradePlan p = plan(facts(group(master(OLD), replica(R1, OLD))));
        dev.ballast.upgrade.Operation op = dev.ballast.upgrade.Operation.create("u1", UpgradePlan.KIND, "c", "me", 0, p.steps());
        Step first = op.steps().get(0);
        GroupTopology same = new GroupTopology("g0", M, List.of(R1), 7, GroupTopology.Phase.SERVING);
        assertTrue(ServerUpgradeActions.failoverSince(op, first, same).isEmpty());
        GroupTopology after = new GroupTopology("g0", R1, List.of(M), 8, GroupTopology.Phase.SERVING);
        String why = ServerUpgradeActions.failoverSince(op, first, after).orElseThrow();
        assertTrue(why.contains("epoch 7 → 8, master now db2:3306"), why);
        Step refused = first.ended(Step.State.FAILED, 1, 2, "", "not ready: " + why);
        assertTrue(ServerUpgradeActions.failoverSince(op, refused, after).isEmpty(), "resume after the refusal goes on");
        // a step done after the failover records the epoch it saw: the next step does not refuse again
        dev.ballast.upgrade.Operation later = op.withStep(0, first.ended(Step.State.DONE, 1, 2, "drained [epoch 8]", ""));
        assertTrue(ServerUpgradeActions.failoverSince(later, later.steps().get(1), after).isEmpty());
        GroupTopology again = new GroupTopology("g0", M, List.of(R1), 9, GroupTopology.Phase.SERVING);
        assertTrue(ServerUpgradeActions.failoverSince(later, later.steps().get(1), again).isPresent());
    }
}
