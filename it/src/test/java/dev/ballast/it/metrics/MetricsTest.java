package dev.ballast.it.metrics;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.MonitorMetrics;
import dev.ballast.failover.Switchover;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.failover.WriteLoad;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.replication.GroupTopology;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mariadb.jdbc.MariaDbDataSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Metrics on the real bed: a workload through a {@link BallastDataSource} bound to an application's registry and through
 * the proxy, then a kill -9 of the master and the monitor's failover; the application's registry, the proxy's
 * {@code GET /metrics} and the monitor's {@code GET /metrics} must each show the series that should have moved, and pass
 * {@code promtool check metrics}.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MetricsTest {

    static final int ROWS = 200;

    FailoverBed bed;
    BallastDataSource ds;
    ProxyServer proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void aWorkloadAndAFailoverMoveTheRightSeriesOnTheDriverTheProxyAndTheMonitor() throws Exception {
        bed = FailoverBed.start("metrics", 2, "tables:\n  t_ack:\n    group: g0\n"
                + ClusterYaml.proxySection("app2", "pw2", false, "health: 127.0.0.1:0"));
        Monitor monitor = bed.startMonitor("m1", "  antiFlapWindowMs: 0", "  metrics: 127.0.0.1:0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), monitor::acting);
        assertTrue(monitor.metrics().port() > 0, "the monitor serves /metrics");

        PrometheusMeterRegistry app = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ds = new BallastDataSource(bed.config());
        ds.bindTo(app);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
        }
        bed.bed().awaitReplication();
        proxy = new ProxyServer(bed.config()).start();
        Prom before = Prom.parse(app.scrape());

        // ---- the workload through the driver: fast-path writes and reads, ShardingSphere statements, one error ----
        try (Connection c = ds.getConnection();
             PreparedStatement insert = c.prepareStatement("INSERT INTO t_ack (id, writer) VALUES (?, ?)")) {
            for (int i = 1; i <= ROWS; i++) {
                insert.setLong(1, i);
                insert.setInt(2, 1);
                insert.executeUpdate();
            }
            insert.setLong(1, 1);
            SQLException duplicate = assertThrows(SQLException.class, insert::executeUpdate);
            assertEquals("23", duplicate.getSQLState().substring(0, 2), duplicate.toString());
        }
        bed.bed().awaitReplication();
        FailoverBed.await("both replicas serve reads", Duration.ofSeconds(20),
                () -> ds.health("g0").replicas().values().stream().filter(r -> r.qualifies(1000)).count() == 2);
        try (Connection c = ds.getConnection();
             PreparedStatement select = c.prepareStatement("SELECT writer FROM t_ack WHERE id = ?")) {
            for (int i = 1; i <= ROWS; i++) {
                select.setLong(1, i);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next());
                }
            }
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 20; i++) {
                try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM t_ack")) {
                    assertTrue(rs.next());
                }
            }
        }

        // ---- the same through DriverManager: jdbc:ballast: connections share the URL's data source ----
        String url = "jdbc:ballast:" + bed.yaml().writeTo(bed.bed().directory().resolve("metrics-driver.yaml"));
        PrometheusMeterRegistry viaUrl = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try {
            dev.ballast.jdbc.BallastDriver.dataSource(url).bindTo(viaUrl);
            try (Connection c = java.sql.DriverManager.getConnection(url);
                 PreparedStatement select = c.prepareStatement("SELECT writer FROM t_ack WHERE id = ?")) {
                for (int i = 1; i <= 10; i++) {
                    select.setLong(1, i);
                    try (ResultSet rs = select.executeQuery()) {
                        assertTrue(rs.next());
                    }
                }
            }
            assertEquals(10, Prom.parse(viaUrl.scrape()).sum("ballast_statements_total", "route", "fastpath", "group", "g0"),
                    "fast-path reads through a jdbc:ballast: URL");
        } finally {
            dev.ballast.jdbc.BallastDriver.close(url);
        }

        // ---- the workload through the proxy: relayed prepared reads, one relayed error ----
        MariaDbDataSource clients = new MariaDbDataSource("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/"
                + bed.bed().database() + "?user=app2&password=pw2&useServerPrepStmts=true");
        try (Connection c = clients.getConnection();
             PreparedStatement select = c.prepareStatement("SELECT writer FROM t_ack WHERE id = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO t_ack (id, writer) VALUES (?, ?)")) {
            for (int i = 1; i <= 100; i++) {
                select.setLong(1, i);
                try (ResultSet rs = select.executeQuery()) {
                    assertTrue(rs.next());
                }
            }
            for (int i = 0; i < 3; i++) { // the first may take the JDBC path while its relay connection opens
                insert.setLong(1, 2);
                insert.setInt(2, 2);
                assertThrows(SQLException.class, insert::executeUpdate);
            }
        }
        Prom afterWorkload = Prom.parse(app.scrape());
        double fastWrites = afterWorkload.sum("ballast_statements_total", "route", "fastpath", "group", "g0", "role", "master")
                - before.sum("ballast_statements_total", "route", "fastpath", "group", "g0", "role", "master");
        double fastReads = afterWorkload.sum("ballast_statements_total", "route", "fastpath", "group", "g0", "role", "replica")
                - before.sum("ballast_statements_total", "route", "fastpath", "group", "g0", "role", "replica");
        double ssReads = afterWorkload.sum("ballast_statements_total", "route", "shardingsphere", "group", "g0", "role", "replica")
                - before.sum("ballast_statements_total", "route", "shardingsphere", "group", "g0", "role", "replica");
        System.out.printf("METRICS driver: fastpath master +%.0f, fastpath replica +%.0f, shardingsphere replica +%.0f%n",
                fastWrites, fastReads, ssReads);
        assertEquals(ROWS + 1, fastWrites, "fast-path inserts (and the duplicate) counted on g0's master");
        assertEquals(ROWS, fastReads, "fast-path reads counted on g0's replicas");
        assertEquals(20, ssReads, "ShardingSphere's reads counted on g0's replicas");
        assertEquals(1, afterWorkload.sum("ballast_statement_errors_total", "route", "fastpath", "sqlstate_class", "23"),
                "the duplicate key, by its SQLSTATE class");
        assertEquals(2, afterWorkload.series("ballast_replica_lag_seconds", "group", "g0"), "one lag gauge per replica");
        assertEquals(2, afterWorkload.sum("ballast_replica_serving", "group", "g0"), "both replicas serve reads");
        assertTrue(afterWorkload.sum("ballast_probe_seconds_count", "component", "dataplane") > 0, "data-plane probes timed");
        assertTrue(afterWorkload.series("hikaricp_connections_active") >= 3, "HikariCP's own meters, one per pool");
        assertEquals(0, afterWorkload.sum("ballast_topology_epoch", "group", "g0"));

        // ---- kill -9 of the master: the monitor fails over; a write waits for the new master ----
        GroupTopology topologyBefore = bed.topology();
        MariaDbNode master = bed.node(topologyBefore.master());
        master.crash();
        long id = 10_000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection c = ds.getConnection();
                 PreparedStatement insert = c.prepareStatement("INSERT INTO t_ack (id, writer) VALUES (?, ?)")) {
                insert.setLong(1, ++id);
                insert.setInt(2, 3);
                insert.executeUpdate();
                break;
            } catch (SQLException e) {
                assertTrue(System.nanoTime() < deadline, "no write after the kill within 30 s: " + e);
            }
        }
        FailoverBed.await("the new epoch", Duration.ofSeconds(20), () -> bed.topology().epoch() == topologyBefore.epoch() + 1);
        FailoverBed.await("the proxy's data plane on the new epoch", Duration.ofSeconds(20),
                () -> proxy.meterRegistry() != null && Prom.parse(proxy.meterRegistry().scrape())
                        .sum("ballast_topology_epoch", "group", "g0") == topologyBefore.epoch() + 1);

        Prom driver = Prom.parse(app.scrape());
        String proxyText = get("http://127.0.0.1:" + proxy.healthPort() + "/metrics");
        String monitorText = get("http://127.0.0.1:" + monitor.metrics().port() + "/metrics");
        Prom proxied = Prom.parse(proxyText);
        Prom monitored = Prom.parse(monitorText);

        assertEquals(1, driver.sum("ballast_topology_epoch", "group", "g0"), "the driver follows the new epoch");
        assertTrue(driver.sum("ballast_write_hold_seconds_count", "group", "g0", "outcome", "released") >= 1,
                "the write after the kill waited for the new master");
        assertTrue(driver.sum("ballast_write_hold_seconds_sum", "group", "g0", "outcome", "released") > 0);

        // reads go to a replica that qualifies then, else to the master (readPolicy.fallback): count both roles
        double relayedReplica = proxied.sum("ballast_statements_total", "route", "relay", "group", "g0", "role", "replica");
        double relayedMaster = proxied.sum("ballast_statements_total", "route", "relay", "group", "g0", "role", "master");
        System.out.printf("METRICS proxy relayed: replica %.0f, master %.0f%n", relayedReplica, relayedMaster);
        // a relayable statement takes the JDBC path (fast path or ShardingSphere) while its event loop's relay connection
        // opens: every statement counts on one route or another
        double proxyAll = proxied.sum("ballast_statements_total", "group", "g0");
        System.out.printf("METRICS proxy all routes: %.0f%n", proxyAll);
        assertTrue(proxyAll >= 103, "100 reads and 3 inserts through the proxy: relayed "
                + (relayedReplica + relayedMaster) + ", all routes " + proxyAll);
        assertTrue(relayedReplica >= 50, "most reads relayed to replicas: " + relayedReplica);
        assertTrue(proxied.sum("ballast_statement_errors_total", "route", "relay", "sqlstate_class", "23") >= 1,
                "the relayed duplicate key");
        assertTrue(proxied.sum("ballast_proxy_connections_accepted_total") >= 1);
        assertEquals(0, proxied.sum("ballast_proxy_connections_open"), "the client closed");
        assertEquals(1, proxied.sum("ballast_topology_epoch", "group", "g0"));
        assertTrue(proxied.series("jvm_memory_used_bytes") > 0, "the JVM's meters");

        assertEquals(1, monitored.sum("ballast_failover_seconds_count", "group", "g0", "outcome", "done"), "one failover");
        assertTrue(monitored.sum("ballast_failover_seconds_sum", "group", "g0", "outcome", "done") > 0);
        assertEquals(1, monitored.sum("ballast_topology_epoch", "group", "g0"));
        assertEquals(1, monitored.sum("ballast_monitor_leader", "monitor", "m1"));
        assertTrue(monitored.sum("ballast_probe_seconds_count", "component", "monitor", "outcome", "failed") >= 1,
                "probes of the dead master failed");
        System.out.printf("METRICS failover: monitor %.3f s, write held %.3f s; proxy relayed %.0f statements%n",
                monitored.sum("ballast_failover_seconds_sum", "group", "g0"),
                driver.sum("ballast_write_hold_seconds_sum", "group", "g0"),
                proxied.sum("ballast_statements_total", "route", "relay"));

        for (String[] exposition : new String[][]{{"driver", app.scrape()}, {"proxy", proxyText}, {"monitor", monitorText}}) {
            checkFormat(exposition[0], exposition[1]);
        }

        // ---- a planned switchover records its count and duration in the registry its caller gives ----
        PrometheusMeterRegistry operations = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Switchover.Result r = new Switchover(bed.config(), bed.store(), "test", new MonitorMetrics(bed.config(), operations))
                .run("g0", Optional.empty());
        Prom switched = Prom.parse(operations.scrape());
        assertEquals(1, switched.sum("ballast_switchover_seconds_count", "group", "g0", "outcome", "done"));
        assertTrue(switched.sum("ballast_switchover_seconds_sum", "group", "g0", "outcome", "done") > 0);
        assertEquals(r.after().epoch(), switched.sum("ballast_topology_epoch", "group", "g0"), "the epoch it published");
        FailoverBed.await("the driver on the switchover's epoch", Duration.ofSeconds(20),
                () -> Prom.parse(app.scrape()).sum("ballast_topology_epoch", "group", "g0") == r.after().epoch());
        checkFormat("switchover", operations.scrape());
        FailoverBed.await("the monitor counts the switchover from the audit log", Duration.ofSeconds(10), () -> {
            try {
                return Prom.parse(get("http://127.0.0.1:" + monitor.metrics().port() + "/metrics"))
                        .sum("ballast_switchover_seconds_count", "group", "g0", "outcome", "done") == 1;
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Prom monitorAfter = Prom.parse(get("http://127.0.0.1:" + monitor.metrics().port() + "/metrics"));
        assertEquals(1, monitorAfter.sum("ballast_switchover_seconds_count", "group", "g0"), "counted once, as done");
        assertEquals(1, monitorAfter.sum("ballast_failover_seconds_count", "group", "g0"), "still one failover");
        assertEquals(r.after().epoch(), monitorAfter.sum("ballast_topology_epoch", "group", "g0"));
    }

    static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url);
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                url + " content type " + r.headers().firstValue("Content-Type"));
        return r.body();
    }

    /** promtool check metrics where it is installed; else a looser check of each line's shape, said in the output. */
    static void checkFormat(String what, String text) throws IOException, InterruptedException {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool)) {
            System.out.println("METRICS promtool not found: checking the " + what + " exposition's line format only");
            for (String line : text.lines().toList()) {
                assertTrue(line.isEmpty() || line.startsWith("# HELP ") || line.startsWith("# TYPE ")
                        || line.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*})? -?([0-9.eE+-]+|NaN|\\+Inf|-Inf)"), what + ": " + line);
            }
            return;
        }
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        System.out.println("METRICS promtool check metrics (" + what + ", " + text.lines().count() + " lines): exit "
                + p.exitValue() + (out.isBlank() ? "" : "\n" + out));
        assertEquals(0, p.exitValue(), what + ": promtool check metrics says\n" + out);
    }
}
