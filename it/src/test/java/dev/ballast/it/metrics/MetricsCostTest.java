package dev.ballast.it.metrics;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.jdbc.BallastDataSource;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What counting costs a statement: the same point selects through two data sources over the same servers, one bound to
 * a Prometheus registry and one not, in alternating rounds on one thread; allocated bytes per statement from the JVM's
 * per-thread allocation counter, time per statement from the wall clock. The fast path must allocate nothing more when
 * bound; ShardingSphere's path is shown for reference (its execution hook is one reflective instance per statement).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class MetricsCostTest {

    static final int WARM_UP = 3_000;
    static final int MEASURED = 10_000;
    static final int ROUNDS = 3;

    @Test
    void countingAStatementAllocatesNothingOnTheFastPath() throws Exception {
        try (TestBed bed = TestBed.start(1, 1)) {
            var config = ClusterYaml.forBed("cost", bed).with("tables:\n  t_cost:\n    group: g0\n").config();
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (BallastDataSource setup = new BallastDataSource(config); Connection c = setup.getConnection();
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t_cost (id BIGINT PRIMARY KEY, v INT NOT NULL)");
                s.execute("INSERT INTO t_cost VALUES (1, 1), (2, 2), (3, 3)");
            }
            bed.awaitReplication();
            try (BallastDataSource plain = new BallastDataSource(config); BallastDataSource bound = new BallastDataSource(config)) {
                bound.bindTo(registry);
                double[] fast = {0, 0, 0, 0};
                double[] sharded = {0, 0, 0, 0};
                for (int round = 0; round < ROUNDS; round++) {
                    add(fast, 0, fastPath(plain));
                    add(fast, 2, fastPath(bound));
                    add(sharded, 0, shardingSphere(plain));
                    add(sharded, 2, shardingSphere(bound));
                }
                for (int i = 0; i < 4; i++) {
                    fast[i] /= ROUNDS;
                    sharded[i] /= ROUNDS;
                }
                System.out.printf("METRICS COST fast path (prepared point select, reused): unbound %.0f B/op %.1f us/op, "
                        + "bound %.0f B/op %.1f us/op%n", fast[0], fast[1], fast[2], fast[3]);
                System.out.printf("METRICS COST ShardingSphere path (plain Statement point select): unbound %.0f B/op %.1f us/op, "
                        + "bound %.0f B/op %.1f us/op%n", sharded[0], sharded[1], sharded[2], sharded[3]);
                assertTrue(fast[2] - fast[0] < 8, "counting adds " + (fast[2] - fast[0]) + " bytes per fast-path statement");
                assertTrue(registry.scrape().contains("route=\"fastpath\""), "the bound data source counted");
            }
        }
    }

    private static void add(double[] into, int at, double[] what) {
        into[at] += what[0];
        into[at + 1] += what[1];
    }

    /** {bytes per op, microseconds per op} of prepared point selects on one reused statement. */
    private static double[] fastPath(BallastDataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT v FROM t_cost WHERE id = ?")) {
            return measure(i -> {
                ps.setLong(1, 1 + i % 3);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                }
            });
        }
    }

    private static double[] shardingSphere(BallastDataSource ds) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            return measure(i -> {
                try (ResultSet rs = s.executeQuery("SELECT v FROM t_cost WHERE id = 1")) {
                    rs.next();
                }
            });
        }
    }

    interface Op {
        void run(int i) throws Exception;
    }

    private static double[] measure(Op op) throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        for (int i = 0; i < WARM_UP; i++) {
            op.run(i);
        }
        long bytes = threads.getThreadAllocatedBytes(me);
        long start = System.nanoTime();
        for (int i = 0; i < MEASURED; i++) {
            op.run(i);
        }
        long nanos = System.nanoTime() - start;
        bytes = threads.getThreadAllocatedBytes(me) - bytes;
        return new double[]{(double) bytes / MEASURED, nanos / 1000.0 / MEASURED};
    }
}
