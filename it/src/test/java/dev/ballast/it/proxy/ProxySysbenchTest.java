package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sysbench (a C client on libmariadb, binary protocol) through the proxy on a 2-group sharded bed: no error reaches it
 * but the deadlocks and lock wait timeouts it retries (which a single server reports too).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ProxySysbenchTest {

    static TestBed bed;
    static ProxyServer proxy;
    static Sysbench sysbench;

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(2, 1);
        String yaml = ClusterYaml.forBed("sysbench", bed).with("""
                tables:
                  sbtest1:
                    shardingColumn: id
                    tablesPerGroup: 2
                    algorithm: {type: hash-mod}
                """ + ClusterYaml.proxySection("sb", "sb_pw", false)).text();
        proxy = new ProxyServer(ClusterConfigLoader.parse(yaml, System::getenv)).start();
        sysbench = new Sysbench("127.0.0.1", proxy.port(), "sb", "sb_pw", bed.database());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void oltpReadWriteAndPointSelectRunWithoutErrors() throws Exception {
        Sysbench.Result prepare = sysbench.run("oltp_read_write", "prepare", 1, 2_000, 1, 60);
        assertEquals(0, prepare.exitCode(), prepare.output());
        try {
            Sysbench.Result rw = sysbench.run("oltp_read_write", "run", 1, 2_000, 4, 10);
            assertTrue(rw.ok(), rw.output());
            assertTrue(rw.tps() > 0, rw.output());
            Sysbench.Result point = sysbench.run("oltp_point_select", "run", 1, 2_000, 4, 5);
            assertTrue(point.ok(), point.output());
            assertTrue(point.tps() > 0, point.output());
            System.out.printf("SYSBENCH through the proxy (2 groups, sbtest1 in 4 shards): oltp_read_write %.0f tps, p95 %.2f ms;"
                    + " oltp_point_select %.0f tps, p95 %.2f ms; deadlocks/lock waits retried %d / %d, fatal 0%n", rw.tps(), rw.p95Ms(), point.tps(),
                    point.p95Ms(), rw.errors(), point.errors());
            // the rows sit on both groups
            long g0 = rows(0, "sbtest1_0") + rows(0, "sbtest1_1");
            long g1 = rows(1, "sbtest1_2") + rows(1, "sbtest1_3");
            assertEquals(2_000, g0 + g1, "oltp_read_write deletes and re-inserts: the count stays");
            assertTrue(g0 > 0 && g1 > 0);
        } finally {
            Sysbench.Result cleanup = sysbench.run("oltp_read_write", "cleanup", 1, 2_000, 1, 60);
            assertEquals(0, cleanup.exitCode(), cleanup.output());
        }
    }

    private static long rows(int group, String table) {
        return Long.parseLong(bed.group(group).master().query("SELECT COUNT(*) AS n FROM " + bed.database() + "." + table)
                .get(0).get("n"));
    }
}
