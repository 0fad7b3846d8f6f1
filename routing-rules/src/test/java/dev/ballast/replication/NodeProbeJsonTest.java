package dev.ballast.replication;

import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeProbeJsonTest {

    @Test
    void aReplicasSilenceAndHeartbeatReachTheOtherMonitors() {
        Position p = Position.parse(Flavour.MARIADB, "0-1-42");
        NodeProbe probe = new NodeProbe(NodeAddress.parse("127.0.0.1:3312"), true, "", 2, true, p,
                Optional.of(new ReplicaThreads(NodeAddress.parse("127.0.0.1:3311"), ReplicaThreads.IoState.YES, true, p, p,
                        0, "", 0, "", 0, 500, "binlog.000001:476 gtid 0-1-42 hb 7", 1_523)), false, 1_000);
        NodeProbe back = NodeProbe.fromJson(probe.toJson(), Flavour.MARIADB);
        assertEquals(probe, back);
        assertEquals(1_523, back.replication().orElseThrow().silentMs());
    }

    @Test
    void theServerVersionRoundTripsAndARecordWithoutItReadsAsUnknown() {
        Position p = Position.parse(Flavour.MARIADB, "0-1-42");
        NodeProbe probe = new NodeProbe(NodeAddress.parse("127.0.0.1:3312"), true, "", 2, true, p, Optional.empty(), false,
                1_000, "11.4.5-MariaDB-log");
        NodeProbe back = NodeProbe.fromJson(probe.toJson(), Flavour.MARIADB);
        assertEquals(probe, back);
        assertEquals("11.4.5", back.serverVersion().orElseThrow().number());

        // a health record written by a monitor before the field existed
        String old = "{\"node\":\"127.0.0.1:3312\",\"reachable\":true,\"error\":\"\",\"serverId\":2,\"readOnly\":true,"
                + "\"executed\":\"0-1-42\",\"semiSyncMaster\":false,\"probedAt\":1000}";
        NodeProbe fromOld = NodeProbe.fromJson(old, Flavour.MARIADB);
        assertEquals("", fromOld.version());
        assertTrue(fromOld.serverVersion().isEmpty());
    }
}
