package dev.ballast.cli;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ReplicaThreads.IoState;
import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusViewTest {

    static final NodeAddress M = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress R1 = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress R2 = NodeAddress.parse("127.0.0.1:3313");

    static Position pos(String text) {
        return Position.parse(Flavour.MARIADB, text);
    }

    static NodeProbe master(String executed) {
        return new NodeProbe(M, true, "", 1, false, pos(executed), Optional.empty(), true, 1_000);
    }

    static NodeProbe replica(NodeAddress n, NodeAddress of, IoState io, boolean sql, String applied, long secondsBehind) {
        return new NodeProbe(n, true, "", 2, true, pos(applied), Optional.of(new ReplicaThreads(of, io, sql, pos(applied),
                pos(applied), 0, "", 0, "", secondsBehind)), false, 1_000);
    }

    static StatusView.ProbeView judge(NodeProbe replica, NodeProbe master) {
        return StatusView.judge(StatusView.REPLICA, replica, M, master, 1_000);
    }

    @Test
    void aReplicaThatAppliedAllTheMasterHadLagsZeroEvenWhenSecondsBehindSaysOtherwise() {
        var v = judge(replica(R1, M, IoState.YES, true, "0-1-10", 7), master("0-1-10"));
        assertEquals("replicating", v.state());
        assertEquals(0L, v.lagMs());
        assertTrue(v.caughtUp());
        assertEquals("0-1-10", v.gtid());
    }

    @Test
    void aReplicaBehindTheMasterLagsItsSecondsBehindAndIsLaggingAboveMaxReplicaLag() {
        var v = judge(replica(R1, M, IoState.YES, true, "0-1-8", 3), master("0-1-10"));
        assertEquals("lagging", v.state());
        assertEquals(3_000L, v.lagMs());
        assertFalse(v.caughtUp());
        var small = judge(replica(R1, M, IoState.YES, true, "0-1-9", 0), master("0-1-10"));
        assertEquals("replicating", small.state(), "behind by less than a second");
        assertEquals(0L, small.lagMs());
        assertFalse(small.caughtUp());
    }

    @Test
    void stoppedConnectingWrongMasterAndUnreachableAreNamed() {
        var stopped = judge(replica(R1, M, IoState.NO, true, "0-1-8", -1), master("0-1-10"));
        assertEquals("stopped", stopped.state());
        assertFalse(stopped.caughtUp(), "a stopped replica still says whether it is behind");
        assertNull(stopped.lagMs());
        assertEquals("stopped", judge(replica(R1, M, IoState.YES, false, "0-1-8", -1), master("0-1-10")).state());
        assertEquals("connecting", judge(replica(R1, M, IoState.CONNECTING, true, "0-1-8", -1), master("0-1-10")).state());
        var wrong = judge(replica(R1, R2, IoState.YES, true, "0-1-10", 0), master("0-1-10"));
        assertEquals("wrong-master", wrong.state());
        assertTrue(wrong.detail().contains(R2.toString()), wrong.detail());
        var gone = judge(NodeProbe.unreachable(R1, "Connection refused", 5), master("0-1-10"));
        assertEquals("unreachable", gone.state());
        assertNull(gone.lagMs());
        assertEquals("Connection refused", gone.detail());
    }

    @Test
    void lagIsUnknownWhenTheMasterWasNotProbedAndSecondsBehindIsNull() {
        var v = judge(replica(R1, M, IoState.YES, true, "0-1-8", -1), NodeProbe.unreachable(M, "down", 5));
        assertNull(v.lagMs());
        assertNull(v.caughtUp());
        assertEquals("replicating", v.state());
    }

    @Test
    void monitorsThatDisagreeMakeTheNodeDisputedWithEachView() {
        var t = new GroupTopology("g0", M, List.of(R1, R2), 4, GroupTopology.Phase.SERVING);
        Map<NodeAddress, Map<String, NodeProbe>> probes = Map.of(
                M, Map.of("m1", master("0-1-10"), "m2", master("0-1-10")),
                R1, Map.of("m1", replica(R1, M, IoState.YES, true, "0-1-10", 0),
                        "m2", NodeProbe.unreachable(R1, "timeout", 2_000)),
                R2, Map.of("m1", replica(R2, M, IoState.YES, true, "0-1-10", 0)));
        var g = StatusView.group("g0", Optional.of(t), List.of(M, R1, R2), probes, 1_000);
        assertEquals(4L, g.epoch());
        assertEquals(M.toString(), g.master());
        assertEquals(List.of("master", "replica", "replica"), g.nodes().stream().map(StatusView.NodeView::role).toList());
        var r1 = g.nodes().get(1);
        assertTrue(r1.disputed());
        assertEquals("disputed", r1.state());
        assertEquals("replicating", r1.monitors().get("m1").state());
        assertEquals("unreachable", r1.monitors().get("m2").state());
        assertFalse(g.nodes().get(2).disputed());
        String tree = new StatusTree(false).render(new StatusView("shop", "zk:2181", 0, List.of("m1", "m2"), List.of(g), List.of()));
        assertTrue(tree.contains("seen by m2: unreachable"), tree);
        assertTrue(tree.contains("seen by m1: replicating"), tree);
        assertFalse(tree.contains("\u001b["), "no colour unless asked");
        String coloured = new StatusTree(true).render(new StatusView("shop", "zk:2181", 0, List.of("m1", "m2"), List.of(g), List.of()));
        assertTrue(coloured.contains("\u001b[32mreplicating"), "green for a healthy replica: " + coloured);
    }

    @Test
    void aConfiguredServerMissingFromTheTopologyIsShownOutside() {
        var t = new GroupTopology("g0", R1, List.of(R2), 1, GroupTopology.Phase.SERVING);
        var g = StatusView.group("g0", Optional.of(t), List.of(M, R1, R2), Map.of(), 1_000);
        assertEquals(List.of(R1.toString(), R2.toString(), M.toString()), g.nodes().stream().map(StatusView.NodeView::address).toList());
        assertEquals("outside", g.nodes().get(2).role());
        assertEquals("no-probe", g.nodes().get(2).state());
    }

    @Test
    void recoveriesAreReadFromTheAuditJsonAndAnUnreadableOneIsShown() {
        var list = StatusView.recoveries(List.of(
                new String[]{"/b/c/recoveries/r-0000000001", "{\"kind\":\"failover\",\"group\":\"g0\",\"by\":\"m1\","
                        + "\"startedAt\":1700000000000,\"state\":\"done\",\"acknowledged\":false,"
                        + "\"before\":{\"group\":\"g0\",\"master\":\"127.0.0.1:3311\",\"replicas\":[],\"epoch\":0},"
                        + "\"after\":{\"group\":\"g0\",\"master\":\"127.0.0.1:3312\",\"replicas\":[],\"epoch\":1},"
                        + "\"problem\":\"DeadMaster: \\\"x\\\" gone\"}"},
                new String[]{"/b/c/recoveries/r-0000000002", "{oops"}), 10);
        var r = list.get(0);
        assertEquals("r-0000000001", r.id());
        assertEquals("127.0.0.1:3311", r.beforeMaster());
        assertEquals("127.0.0.1:3312", r.afterMaster());
        assertEquals(false, r.acknowledged());
        assertEquals("DeadMaster: \"x\" gone", r.reason());
        assertEquals("unreadable", list.get(1).kind());
        assertEquals(1, StatusView.recoveries(List.of(new String[]{"/r-1", "{}"}, new String[]{"/r-2", "{}"}), 1).size());
    }

    @Test
    void aSwitchoverThatDidNotFinishShowsItsCandidate() {
        var list = StatusView.recoveries(List.<String[]>of(new String[]{"/b/c/recoveries/r-0000000003",
                "{\"kind\":\"switchover\",\"group\":\"g0\",\"by\":\"root@cli\",\"startedAt\":1700000000000,"
                        + "\"state\":\"started\",\"before\":{\"group\":\"g0\",\"master\":\"127.0.0.1:3311\","
                        + "\"replicas\":[\"127.0.0.1:3312\"],\"epoch\":0},\"candidate\":\"127.0.0.1:3312\"}"}), 10);
        assertEquals("127.0.0.1:3312", list.get(0).candidate());
        String tree = new StatusTree(false).render(new StatusView("shop", "zk:2181", 0, List.of(), List.of(), list));
        assertTrue(tree.contains("127.0.0.1:3311 → ? (candidate 127.0.0.1:3312)  started"), tree);
    }

    @Test
    void dataPlanesAreListedWithTheirSchemaVersionAndThoseBehindAreMarked() {
        StatusView v = new StatusView("shop", "zk:2181", 0, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), 4,
                List.of(new StatusView.DataPlaneView("p-0000000001", "11@app1", "com.shop.Main", 4, ""),
                        new StatusView.DataPlaneView("p-0000000002", "12@app2", "dev.ballast.cli.BallastCli", 3,
                                "reloading schema version 4 failed: boom")));
        String tree = new StatusTree(false).render(v);
        assertTrue(tree.contains("data planes (schema version 4)"), tree);
        assertTrue(tree.contains("p-0000000001  11@app1  com.shop.Main  schema version 4\n"), tree);
        assertTrue(tree.contains("p-0000000002  12@app2  dev.ballast.cli.BallastCli  schema version 3  BEHIND  (reloading"
                + " schema version 4 failed: boom)"), tree);
    }
}
