package dev.ballast.jdbc.health;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lifecycle and errors, with nothing listening on the configured ports (connection refused at once). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HealthProbeLifecycleTest {

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    static final NodeAddress MASTER;
    static final NodeAddress REPLICA;

    static {
        try {
            MASTER = new NodeAddress("127.0.0.1", closedPort());
            REPLICA = new NodeAddress("127.0.0.1", closedPort());
        } catch (IOException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static ClusterConfig config() {
        return ClusterConfigLoader.parse("""
                name: nowhere
                database: shop
                credentials: {user: app, password: pw}
                pool: {connectTimeoutMs: 500}
                readPolicy: {probeIntervalMs: 100}
                groups:
                  g0:
                    master: %s
                    replicas: [%s]
                """.formatted(MASTER, REPLICA), System::getenv);
    }

    @Test
    void everyServerDownAtStartIsReportedUnreachableAndStartDoesNotThrow() {
        try (HealthProbe probe = new HealthProbe(config())) {
            long t0 = System.nanoTime();
            probe.start();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "start() is bounded by the timeouts");
            GroupHealth g0 = probe.group("g0");
            assertFalse(g0.masterReachable());
            assertTrue(g0.master().isEmpty());
            ReplicaStatus r = g0.replica(REPLICA);
            assertFalse(r.reachable());
            assertEquals(-1, r.lagMillis());
            assertFalse(r.qualifies(Long.MAX_VALUE));
            assertTrue(r.problem().startsWith("[cluster=nowhere group=g0 node=" + REPLICA + "] unreachable: "), r.problem());
        }
    }

    @Test
    void groupBeforeStartAndUnknownNamesAreErrorsThatSayWhy() {
        try (HealthProbe probe = new HealthProbe(config())) {
            IllegalStateException early = assertThrows(IllegalStateException.class, () -> probe.group("g0"));
            assertTrue(early.getMessage().contains("call start() first"), early.getMessage());
            probe.start();
            IllegalArgumentException group = assertThrows(IllegalArgumentException.class, () -> probe.group("g9"));
            assertTrue(group.getMessage().contains("no group 'g9'") && group.getMessage().contains("[g0]"), group.getMessage());
            IllegalArgumentException eject = assertThrows(IllegalArgumentException.class, () -> probe.eject(MASTER, "x"));
            assertTrue(eject.getMessage().contains(MASTER + " is not a replica"), eject.getMessage());
            assertThrows(IllegalStateException.class, probe::start);
        }
    }

    @Test
    void freshAppliedFailsNamingTheNodeAndCloseIsIdempotent() {
        HealthProbe probe = new HealthProbe(config());
        probe.start();
        SQLException down = assertThrows(SQLException.class, () -> probe.freshApplied(REPLICA));
        assertTrue(down.getMessage().startsWith("[cluster=nowhere group=g0 node=" + REPLICA + "]"), down.getMessage());
        probe.close();
        probe.close();
        SQLException closed = assertThrows(SQLException.class, () -> probe.freshApplied(REPLICA));
        assertTrue(closed.getMessage().contains("closed") && closed.getMessage().contains(REPLICA.toString()), closed.getMessage());
        assertThrows(IllegalStateException.class, probe::start);
    }
}
