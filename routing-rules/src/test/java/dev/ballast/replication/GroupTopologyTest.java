package dev.ballast.replication;

import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupTopologyTest {

    static final NodeAddress A = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress B = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress C = NodeAddress.parse("127.0.0.1:3313");

    @Test
    void jsonRoundTripKeepsEverything() {
        GroupTopology t = new GroupTopology("g0", A, List.of(B, C), 7, GroupTopology.Phase.SWITCHING);
        assertEquals(t, GroupTopology.fromJson(t.toJson()));
        assertEquals(t, GroupTopology.fromJson(" { \"epoch\" : 7, \"phase\":\"SWITCHING\", \"replicas\": [ \"127.0.0.1:3312\" ,"
                + "\"127.0.0.1:3313\"], \"master\":\"127.0.0.1:3311\", \"group\":\"g0\" } "));
    }

    @Test
    void phaseDefaultsToServing() {
        GroupTopology t = GroupTopology.fromJson("{\"group\":\"g0\",\"master\":\"127.0.0.1:3311\",\"replicas\":[],\"epoch\":0}");
        assertEquals(GroupTopology.Phase.SERVING, t.phase());
    }

    @Test
    void promotionRaisesTheEpochAndDropsTheOldMaster() {
        GroupTopology t = new GroupTopology("g0", A, List.of(B, C), 3, GroupTopology.Phase.SERVING);
        GroupTopology p = t.promoted(C);
        assertEquals(C, p.master());
        assertEquals(List.of(B), p.replicas());
        assertEquals(4, p.epoch());
        assertEquals(List.of(C, B, A), p.withReplica(A).servers());
        assertThrows(IllegalArgumentException.class, () -> t.promoted(A));
    }

    @Test
    void malformedJsonIsRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GroupTopology.fromJson("{\"group\":\"g0\",\"replicas\":[],\"epoch\":0}"));
        assertTrue(e.getMessage().contains("topology of group g0 has no 'master'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> GroupTopology.fromJson("{\"group\":\"g0\",\"master\":\"127.0.0.1:3311\",\"replicas\":[],\"epoch\":\"7\"}"));
        assertTrue(e.getMessage().contains("'epoch' is not an integer"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GroupTopology.fromJson("{\"group\":\"g0\""));
        assertThrows(IllegalArgumentException.class, () -> new GroupTopology("g0", A, List.of(A), 0, GroupTopology.Phase.SERVING));
    }

    @Test
    void quotesBackslashesControlCharactersAndNonAsciiSurviveARoundTrip() {
        // Group names come from the config: the hand-written writer put them between quotes as they were.
        String nasty = "g\"0\\x\n\u0001é漢😀";
        GroupTopology t = new GroupTopology(nasty, A, List.of(B), 2, GroupTopology.Phase.SERVING);
        assertEquals(t, GroupTopology.fromJson(t.toJson()));
        NodeAddress v6 = NodeAddress.parse("[::1]:3306");
        assertEquals(v6, GroupTopology.fromJson(new GroupTopology("g", v6, List.of(), 0, GroupTopology.Phase.SERVING).toJson()).master());
    }

    @Test
    void healthRecordsRoundTripWithNastyErrorTexts() {
        String error = "Access denied for user 'app'@'h' \"x\" \\ \n\tnext line — ünïcödé";
        NodeProbe down = NodeProbe.unreachable(A, error, 1234);
        assertEquals(down, NodeProbe.fromJson(down.toJson(), dev.ballast.rules.Flavour.MARIADB));
        ReplicaThreads r = new ReplicaThreads(B, ReplicaThreads.IoState.CONNECTING, true,
                Position.parse(dev.ballast.rules.Flavour.MARIADB, "0-1-12,1-2-3"), Position.parse(dev.ballast.rules.Flavour.MARIADB, "0-1-11"),
                2003, "Can't connect to \"server\" on '127.0.0.1' (111 \"Connection refused\")", 0, "", -1);
        NodeProbe up = new NodeProbe(C, true, "", 3, true, Position.parse(dev.ballast.rules.Flavour.MARIADB, "0-1-12"),
                java.util.Optional.of(r), false, 99);
        assertEquals(up, NodeProbe.fromJson(up.toJson(), dev.ballast.rules.Flavour.MARIADB));
    }

    @Test
    void aHealthRecordFromANewerMonitorWithMoreFieldsIsStillRead() {
        String json = "{\"node\":\"127.0.0.1:3311\",\"reachable\":false,\"error\":\"x\",\"probedAt\":5,\"futureField\":{\"a\":1}}";
        assertEquals(NodeProbe.unreachable(A, "x", 5), NodeProbe.fromJson(json, dev.ballast.rules.Flavour.MARIADB));
    }
}
