package dev.ballast.it.topology;

import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: {@link TopologyStore#compareAndSet} against a real ZooKeeper (Curator's TestingServer): it never lowers the
 * epoch nor gives one epoch a second master, and a change between its read and its write makes it fail.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopologyStoreEpochTest {

    static final NodeAddress A = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress B = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress C = NodeAddress.parse("127.0.0.1:3313");

    ZooKeeperBed zk;
    CuratorFramework client;
    TopologyStore store;

    @BeforeEach
    void start() throws Exception {
        zk = ZooKeeperBed.start();
        client = CuratorFrameworkFactory.newClient(zk.connectString(), 10_000, 2_000, new RetryOneTime(100));
        client.start();
        assertTrue(client.blockUntilConnected(10, TimeUnit.SECONDS));
        store = new TopologyStore(client, "/ballast/epochs");
    }

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    static GroupTopology topology(NodeAddress master, long epoch, NodeAddress... replicas) {
        return new GroupTopology("g0", master, List.of(replicas), epoch, GroupTopology.Phase.SERVING);
    }

    /** Creates epoch 0 (A) then publishes epoch 1 (B); returns the version of epoch 1. */
    int atEpochOne() {
        assertTrue(store.compareAndSet(topology(A, 0, B, C), -1));
        assertTrue(store.compareAndSet(topology(B, 1, C), 0));
        TopologyStore.Versioned v = store.read("g0").orElseThrow();
        assertEquals(1, v.topology().epoch());
        return v.version();
    }

    @Test
    void aLowerEpochIsRefusedAndNothingIsWritten() {
        int version = atEpochOne();
        TopologyStore.EpochException e = assertThrows(TopologyStore.EpochException.class,
                () -> store.compareAndSet(topology(A, 0, B, C), version));
        assertTrue(e.getMessage().contains("refusing to lower the epoch from 1"), e.getMessage());
        assertTrue(e.getMessage().contains(store.topologyPath("g0")), e.getMessage());
        TopologyStore.Versioned after = store.read("g0").orElseThrow();
        assertEquals(topology(B, 1, C), after.topology());
        assertEquals(version, after.version(), "not written");
    }

    @Test
    void anotherMasterInTheSameEpochIsRefused() {
        int version = atEpochOne();
        TopologyStore.EpochException e = assertThrows(TopologyStore.EpochException.class,
                () -> store.compareAndSet(topology(C, 1, B), version));
        assertTrue(e.getMessage().contains("a change of master must raise the epoch"), e.getMessage());
        assertEquals(topology(B, 1, C), store.read("g0").orElseThrow().topology());
    }

    @Test
    void theSameEpochWithTheSameMasterIsAcceptedForPhaseAndReplicaChanges() {
        int version = atEpochOne();
        GroupTopology switching = topology(B, 1, C).withPhase(GroupTopology.Phase.SWITCHING);
        assertTrue(store.compareAndSet(switching, version));
        assertTrue(store.compareAndSet(switching.withPhase(GroupTopology.Phase.SERVING), version + 1));
        assertTrue(store.compareAndSet(topology(B, 1, C).withReplica(A), version + 2), "a rejoin keeps the epoch");
        assertEquals(topology(B, 1, C, A), store.read("g0").orElseThrow().topology());
        assertTrue(store.compareAndSet(topology(A, 5, B, C), version + 3), "any higher epoch");
    }

    @Test
    void aStaleVersionIsNotWrittenEvenWithAHigherEpoch() {
        int version = atEpochOne();
        assertFalse(store.compareAndSet(topology(C, 2, B), version - 1));
        assertFalse(store.compareAndSet(topology(A, 0, B, C), -1), "exists already");
        assertEquals(topology(B, 1, C), store.read("g0").orElseThrow().topology());
    }

    @Test
    void ofWritersRacingFromOneReadingExactlyOneWins() throws Exception {
        int version = atEpochOne();
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try {
            for (int i = 0; i < writers; i++) {
                NodeAddress master = i % 2 == 0 ? A : C;
                results.add(pool.submit(() -> {
                    go.await();
                    return store.compareAndSet(topology(master, 2, B), version);
                }));
            }
            go.countDown();
            int won = 0;
            for (Future<Boolean> f : results) {
                won += f.get(20, TimeUnit.SECONDS) ? 1 : 0;
            }
            assertEquals(1, won, "one promotion per epoch");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(2, store.read("g0").orElseThrow().topology().epoch());
    }
}
