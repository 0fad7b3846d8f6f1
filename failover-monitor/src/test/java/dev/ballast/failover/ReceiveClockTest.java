package dev.ballast.failover;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ReplicaThreads.IoState;
import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class ReceiveClockTest {

    static final NodeAddress M = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress M2 = NodeAddress.parse("127.0.0.1:3313");
    static final NodeAddress R = NodeAddress.parse("127.0.0.1:3312");

    final ReceiveClock clock = new ReceiveClock();

    static NodeProbe probe(NodeAddress master, String mark, long at) {
        Position p = Position.parse(Flavour.MARIADB, "0-1-42");
        return new NodeProbe(R, true, "", 2, true, p, Optional.of(new ReplicaThreads(master, IoState.YES, true, p, p, 0, "",
                0, "", 0, 500, mark, -1)), false, at);
    }

    static long silence(NodeProbe p) {
        return p.replication().orElseThrow().silentMs();
    }

    @Test
    void firstProbeOfAReplicaLeavesItsSilenceUnknown() {
        assertEquals(-1, silence(clock.stamp(probe(M, "binlog.000001:476 hb 6", 1_000))));
    }

    @Test
    void silenceCountsFromTheFirstProbeThatSawTheCurrentMark() {
        clock.stamp(probe(M, "binlog.000001:476 hb 6", 1_000));
        assertEquals(0, silence(clock.stamp(probe(M, "binlog.000001:476 hb 7", 1_500))), "a heartbeat arrived");
        assertEquals(500, silence(clock.stamp(probe(M, "binlog.000001:476 hb 7", 2_000))));
        assertEquals(1_700, silence(clock.stamp(probe(M, "binlog.000001:476 hb 7", 3_200))), "a hung master: nothing arrives");
        assertEquals(0, silence(clock.stamp(probe(M, "binlog.000001:900 hb 7", 3_700))), "an event arrived");
    }

    @Test
    void anotherMasterStartsAgainFromUnknown() {
        clock.stamp(probe(M, "binlog.000001:476 hb 6", 1_000));
        clock.stamp(probe(M, "binlog.000001:476 hb 6", 2_000));
        assertEquals(-1, silence(clock.stamp(probe(M2, "binlog.000001:476 hb 6", 2_500))));
        assertEquals(500, silence(clock.stamp(probe(M2, "binlog.000001:476 hb 6", 3_000))));
    }

    @Test
    void anUnreachableProbeNeitherChangesNorResetsTheClock() {
        clock.stamp(probe(M, "a", 1_000));
        NodeProbe down = NodeProbe.unreachable(R, "Read timed out", 1_500);
        assertSame(down, clock.stamp(down));
        assertEquals(1_000, silence(clock.stamp(probe(M, "a", 2_000))));
    }

    @Test
    void aServerThatDoesNotTellLeavesTheSilenceUnknown() {
        clock.stamp(probe(M, "", 1_000));
        assertEquals(-1, silence(clock.stamp(probe(M, "", 2_000))));
    }
}
