package dev.ballast.it.topology;

import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.topology.SchemaVersion;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13: {@link TopologyStore#bumpSchemaVersion} against a real ZooKeeper: the version starts at 1, rises by one per
 * bump, and concurrent bumps (compare-and-set on the znode version) are all counted, none lost.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SchemaVersionStoreTest {

    ZooKeeperBed zk;
    CuratorFramework client;
    TopologyStore store;

    @BeforeEach
    void start() throws Exception {
        zk = ZooKeeperBed.start();
        client = CuratorFrameworkFactory.newClient(zk.connectString(), 10_000, 2_000, new RetryOneTime(100));
        client.start();
        assertTrue(client.blockUntilConnected(10, TimeUnit.SECONDS));
        store = new TopologyStore(client, "/ballast/schemas");
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

    @Test
    void firstBumpIsVersionOneAndEachNextRisesByOneNamingTheTablesAndTheAuthor() throws Exception {
        assertTrue(store.schemaVersion().isEmpty());
        SchemaVersion first = store.bumpSchemaVersion(List.of("t_order"));
        assertEquals(1, first.version());
        assertEquals(List.of("t_order"), first.tables());
        assertTrue(first.by().contains("@"), first.by());
        SchemaVersion second = store.bumpSchemaVersion(List.of("t_order", "t_order_item"), "op-7");
        assertEquals(2, second.version());
        SchemaVersion stored = store.schemaVersion().orElseThrow();
        assertEquals(second, stored);
        String json = new String(client.getData().forPath("/ballast/schemas/schema"), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"version\":2") && json.contains("\"tables\":[\"t_order\",\"t_order_item\"]")
                && json.contains("\"by\":\"op-7\""), json);
        assertEquals(1, client.checkExists().forPath("/ballast/schemas/schema").getVersion());
    }

    @Test
    void concurrentBumpsAreAllCounted() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Long>>> futures = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                String table = "t" + w;
                futures.add(pool.submit(() -> {
                    List<Long> seen = new ArrayList<>();
                    for (int i = 0; i < 10; i++) {
                        seen.add(store.bumpSchemaVersion(List.of(table)).version());
                    }
                    return seen;
                }));
            }
            List<Long> all = new ArrayList<>();
            for (Future<List<Long>> f : futures) {
                all.addAll(f.get(30, TimeUnit.SECONDS));
            }
            all.sort(null);
            List<Long> expected = new ArrayList<>();
            for (long v = 1; v <= 40; v++) {
                expected.add(v);
            }
            assertEquals(expected, all, "every bump got its own version");
            assertEquals(40, store.schemaVersion().orElseThrow().version());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBumpWithoutTablesIsRefusedAndAnUnreadableDocumentIsNamed() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> store.bumpSchemaVersion(List.of()));
        assertTrue(store.schemaVersion().isEmpty(), "nothing written");
        client.create().creatingParentsIfNeeded().forPath("/ballast/schemas/schema", "not json".getBytes(StandardCharsets.UTF_8));
        TopologyStore.TopologyException e = assertThrows(TopologyStore.TopologyException.class,
                () -> store.bumpSchemaVersion(List.of("t_order")));
        assertTrue(e.getMessage().contains("/ballast/schemas/schema"), e.getMessage());
    }
}
