package dev.ballast.topology;

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
        assertTrue(e.getMessage().contains("missing 'master'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GroupTopology.fromJson("{\"group\":\"g0\""));
        assertThrows(IllegalArgumentException.class, () -> new GroupTopology("g0", A, List.of(A), 0, GroupTopology.Phase.SERVING));
    }

    @Test
    void quotingSurvivesTheParser() {
        String nasty = "a\"b\\c\nd\u0001";
        Json.Obj o = Json.parseObject("{\"k\":" + Json.quote(nasty) + "}");
        assertEquals(nasty, o.string("k"));
    }
}
