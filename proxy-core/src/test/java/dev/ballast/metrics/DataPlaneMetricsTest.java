package dev.ballast.metrics;

import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.replication.Position;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.LiveTopology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataPlaneMetricsTest {

    static final NodeAddress R1 = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress R2 = NodeAddress.parse("127.0.0.1:3313");

    static ClusterConfig config() {
        return ClusterConfigLoader.parse("""
                name: shop
                database: shop
                credentials: {user: app}
                groups:
                  g0:
                    master: 127.0.0.1:3311
                    replicas: [127.0.0.1:3312, 127.0.0.1:3313]
                """, System::getenv);
    }

    @Test
    void countersResolvedBeforeBindingCountOnceBound() {
        DataPlaneMetrics m = new DataPlaneMetrics(config());
        DataPlaneMetrics.StatementCounters master = m.statements("g0", "master");
        assertSame(master, m.statements("g0", "master"), "one object per group and role");
        master.fastPath(); // not bound yet: a no-op
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (LiveTopology t = LiveTopology.fixed(config())) {
            assertTrue(m.bindTo(r, t));
            assertFalse(m.bindTo(r, t), "binding twice to the same registry changes nothing");
            assertThrows(IllegalStateException.class, () -> m.bindTo(new SimpleMeterRegistry(), t));
            master.fastPath();
            master.fastPath();
            master.relay();
            m.statements("g0", "replica").shardingSphere();
            assertEquals(2, r.get("ballast.statements").tags("route", "fastpath", "role", "master").counter().count());
            assertEquals(1, r.get("ballast.statements").tags("route", "relay", "role", "master").counter().count());
            assertEquals(1, r.get("ballast.statements").tags("route", "shardingsphere", "role", "replica").counter().count());
            assertEquals(0, r.get("ballast.topology.epoch").tags("group", "g0").gauge().value());
        }
    }

    @Test
    void errorsCountBySqlStateClass() {
        DataPlaneMetrics m = new DataPlaneMetrics(config());
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        m.error(DataPlaneMetrics.FAST_PATH, "23000"); // before binding: not counted
        try (LiveTopology t = LiveTopology.fixed(config())) {
            m.bindTo(r, t);
        }
        m.error(DataPlaneMetrics.FAST_PATH, "23000");
        m.error(DataPlaneMetrics.FAST_PATH, "23505");
        m.error(DataPlaneMetrics.SHARDING_SPHERE, "08S01");
        m.error(DataPlaneMetrics.SHARDING_SPHERE, null);
        assertEquals(2, r.get("ballast.statement.errors").tags("route", "fastpath", "sqlstate_class", "23").counter().count());
        assertEquals(1, r.get("ballast.statement.errors").tags("route", "shardingsphere", "sqlstate_class", "08").counter().count());
        assertEquals(1, r.get("ballast.statement.errors").tags("route", "shardingsphere", "sqlstate_class", "none").counter().count());
    }

    @Test
    void replicaGaugesFollowTheProbeAndLeaveWithTheReplica() {
        DataPlaneMetrics m = new DataPlaneMetrics(config());
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        try (LiveTopology t = LiveTopology.fixed(config())) {
            m.bindTo(r, t);
        }
        Position p = Position.parse(Flavour.MARIADB, "0-1-5");
        Map<NodeAddress, ReplicaStatus> both = new LinkedHashMap<>();
        both.put(R1, new ReplicaStatus(R1, true, true, 250, p, 0, ""));
        both.put(R2, new ReplicaStatus(R2, true, true, -1, p, 0, "lag unknown"));
        m.health(new GroupHealth("g0", p, true, both));
        assertEquals(0.25, r.get("ballast.replica.lag").tags("node", R1.toString()).gauge().value());
        assertTrue(Double.isNaN(r.get("ballast.replica.lag").tags("node", R2.toString()).gauge().value()), "unknown lag");
        assertEquals(1, r.get("ballast.replica.serving").tags("node", R1.toString()).gauge().value());
        assertEquals(0, r.get("ballast.replica.serving").tags("node", R2.toString()).gauge().value());
        m.health(new GroupHealth("g0", p, true, Map.of(R1, both.get(R1))));
        assertNull(r.find("ballast.replica.lag").tags("node", R2.toString()).gauge(), "a replica that left has no gauge");
        assertEquals(1, r.find("ballast.replica.lag").gauges().size());
    }

    @Test
    void countingAStatementAllocatesNothingBoundOrNot() {
        DataPlaneMetrics m = new DataPlaneMetrics(config());
        DataPlaneMetrics.StatementCounters c = m.statements("g0", "replica");
        long unbound = allocatedPerMillion(c);
        try (LiveTopology t = LiveTopology.fixed(config())) {
            m.bindTo(new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT), t);
        }
        long bound = allocatedPerMillion(c);
        assertTrue(unbound < 10_000 && bound < 10_000, "bytes allocated by 1 000 000 statements counted: unbound "
                + unbound + ", bound to Prometheus " + bound);
    }

    private static long allocatedPerMillion(DataPlaneMetrics.StatementCounters c) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        for (int i = 0; i < 200_000; i++) {
            c.fastPath();
        }
        long before = threads.getThreadAllocatedBytes(me);
        for (int i = 0; i < 1_000_000; i++) {
            c.fastPath();
        }
        return threads.getThreadAllocatedBytes(me) - before;
    }
}
