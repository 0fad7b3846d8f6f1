package dev.ballast.it.keys;

import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.keys.KeyGenerationException;
import dev.ballast.keys.Snowflake;
import dev.ballast.keys.WorkerLease;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.KillSession;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snowflake worker-id leases on a real ZooKeeper. Each Curator client is a ZooKeeper session of its own, which is all
 * ZooKeeper knows of a process; the four-process test ({@link SnowflakeKeysAcrossProcessesTest}) uses real processes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerLeaseTest {

    static final String CLUSTER_PATH = "/ballast/shop";
    static final String WORKERS = CLUSTER_PATH + "/workers";

    ZooKeeperBed zk;
    final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() {
        zk = ZooKeeperBed.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        zk.close();
    }

    CuratorFramework client(int sessionTimeoutMs) throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(zk.connectString())
                .sessionTimeoutMs(sessionTimeoutMs).connectionTimeoutMs(1_000).retryPolicy(new RetryNTimes(3, 200)).build();
        c.start();
        open.add(c);
        assertTrue(c.blockUntilConnected(10, TimeUnit.SECONDS));
        return c;
    }

    WorkerLease lease(CuratorFramework c) {
        WorkerLease lease = WorkerLease.start(c, "shop", CLUSTER_PATH, 5_000);
        open.add(lease);
        return lease;
    }

    static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeoutMs + " ms: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aSecondProcessGetsAnotherIdAndAClosedLeaseIsFreedForTheNext() throws Exception {
        CuratorFramework a = client(10_000);
        CuratorFramework b = client(10_000);
        WorkerLease first = lease(a);
        WorkerLease second = lease(b);
        assertEquals(0, first.heldId());
        assertEquals(1, second.heldId());
        Stat stat = a.checkExists().forPath(WORKERS + "/0");
        assertEquals(a.getZookeeperClient().getZooKeeper().getSessionId(), stat.getEphemeralOwner(), "ephemeral, of its session");
        assertEquals(1, new Snowflake("shop", second, Snowflake.Clock.SYSTEM, 5).next() >>> 12 & 1023);

        first.close();
        assertNull(b.checkExists().forPath(WORKERS + "/0"), "released on close");
        KeyGenerationException closed = assertThrows(KeyGenerationException.class, first::current);
        assertTrue(closed.getMessage().contains("[cluster=shop]"), closed.getMessage());
        WorkerLease third = lease(client(10_000));
        assertEquals(0, third.heldId(), "the lowest free id");
        assertEquals(List.of("0", "1"), b.getChildren().forPath(WORKERS).stream().sorted().toList());
    }

    @Test
    void inATreeSecuredByTheMonitorTheReaderCredentialLeasesAndAClientWithoutItCannot() throws Exception {
        String yaml = """
                name: shop
                database: d
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:1}
                failover:
                  zookeeper: %s
                  acl:
                    admin: {user: ballast-admin, password: admin-secret}
                    reader: {user: ballast-reader, password: reader-secret}
                """.formatted(zk.connectString());
        dev.ballast.rules.ClusterConfig config = dev.ballast.rules.ClusterConfigLoader.parse(yaml, k -> null);
        CuratorFramework admin = dev.ballast.topology.TopologyStore.connect(config, dev.ballast.topology.ZkRole.CONTROL_PLANE);
        open.add(admin);
        assertTrue(admin.blockUntilConnected(10, TimeUnit.SECONDS));
        dev.ballast.topology.TreeAcl.forConfig(config, dev.ballast.topology.ZkRole.CONTROL_PLANE).orElseThrow().secure(admin);

        CuratorFramework reader = dev.ballast.topology.TopologyStore.connect(config, dev.ballast.topology.ZkRole.DATA_PLANE);
        open.add(reader);
        assertTrue(reader.blockUntilConnected(10, TimeUnit.SECONDS));
        assertEquals(0, lease(reader).heldId(), "the data plane's credential may create its lease");

        WorkerLease anonymous = lease(client(10_000));
        assertEquals(-1, anonymous.heldId());
        KeyGenerationException e = assertThrows(KeyGenerationException.class, anonymous::current);
        assertTrue(e.getMessage().contains("NoAuth"), e.getMessage());
    }

    @Test
    void aLostConnectionStopsKeysUntilTheLeaseIsHeldAgain() throws Exception {
        CuratorFramework c = client(8_000);
        WorkerLease lease = lease(c);
        Snowflake keys = new Snowflake("shop", lease, Snowflake.Clock.SYSTEM, 5);
        assertEquals(0, Snowflake.workerOf(keys.next()));

        zk.stop();
        await("keys stop once the connection is SUSPENDED", 10_000, () -> lease.heldId() < 0);
        KeyGenerationException e = assertThrows(KeyGenerationException.class, keys::next);
        assertTrue(e.getMessage().startsWith("[cluster=shop] no key generated: no snowflake worker id lease is held")
                && e.getMessage().contains("SUSPENDED") && e.getMessage().contains(WORKERS), e.getMessage());

        zk.restart(); // within the session timeout: the session and its ephemeral lease survive
        await("the lease is held again after RECONNECTED", 15_000, () -> lease.heldId() >= 0);
        assertEquals(0, Snowflake.workerOf(keys.next()), "the same znode, still this session's");
    }

    @Test
    void anExpiredSessionLeasesAnIdAgainOnTheNewSession() throws Exception {
        CuratorFramework c = client(4_000);
        WorkerLease lease = lease(c);
        assertEquals(0, lease.heldId());
        long oldSession = c.getZookeeperClient().getZooKeeper().getSessionId();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        c.getConnectionStateListenable().addListener((cl, s) -> seen.add(s.name()));

        KillSession.kill(c.getZookeeperClient().getZooKeeper());
        await("LOST, then a lease on the new session", 20_000, () -> seen.contains("LOST") && lease.heldId() >= 0);
        long newSession = c.getZookeeperClient().getZooKeeper().getSessionId();
        assertNotEquals(oldSession, newSession);
        Stat stat = c.checkExists().forPath(WORKERS + "/" + lease.heldId());
        assertEquals(newSession, stat.getEphemeralOwner(), "the lease belongs to the new session");
        // the old session's znode goes when the server expires it; until then its id is not reused
        await("the expired session's lease disappears", 15_000, () -> {
            try {
                Stat old = c.checkExists().forPath(WORKERS + "/0");
                return old == null || old.getEphemeralOwner() == newSession;
            } catch (Exception ex) {
                return false;
            }
        });
    }
}
