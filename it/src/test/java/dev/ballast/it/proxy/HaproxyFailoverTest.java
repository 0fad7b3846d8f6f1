package dev.ballast.it.proxy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.failover.WriteLoad;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The entry layer of {@code samples/haproxy/}: HAProxy (that very configuration file, ports moved) in front of two Ballast
 * proxies, each its own JVM, health-checked through {@code GET /health}; sysbench and a JDBC writer (MySQL Connector/J
 * in HikariCP) connect to HAProxy only. A proxy is {@code kill -9}ed under that load, then restarted; another is stopped
 * with SIGTERM (a planned restart). Measured: how long each client is without service, what errors it sees, that no
 * acknowledged insert is lost, and that HAProxy takes the restarted proxy back.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class HaproxyFailoverTest {

    static final String USER = "lb";
    static final String PASSWORD = "lb_pw";
    static final int TABLE_SIZE = 2_000;

    static FailoverBed bed;
    static final List<ProxyProcess> proxies = new ArrayList<>();
    static final List<HaproxyFront.Backend> backends = new ArrayList<>();
    static HaproxyFront haproxy;
    static Sysbench sysbench;

    @BeforeAll
    static void start() throws Exception {
        bed = FailoverBed.start("lb", 1, "tables:\n  t_ack:\n    group: g0\n  sbtest1:\n    group: g0\n");
        bed.store().bootstrap(bed.config()); // the proxies follow the topology in ZooKeeper
        // the tables exist before the proxies start: a proxy learns the tables' metadata when it starts (and from DDL it
        // runs itself), so a table one proxy created would be unknown to the other
        try (Connection c = bed.master().connect(bed.bed().database()); Statement s = c.createStatement()) {
            s.execute(WriteLoad.CREATE_TABLE);
        }
        Sysbench.Result prepare = new Sysbench("127.0.0.1", bed.master().port(), dev.ballast.it.testbed.TestBed.APP_USER,
                dev.ballast.it.testbed.TestBed.APP_PASSWORD, bed.bed().database()).run("oltp_read_write", "prepare", 1, TABLE_SIZE, 1, 60);
        assertEquals(0, prepare.exitCode(), prepare.output());
        Path dir = bed.bed().directory();
        for (String name : List.of("proxy1", "proxy2")) {
            int port = freePort();
            int health = freePort();
            Path config = bed.yaml().with(ClusterYaml.proxySection(USER, PASSWORD, false, "listen: 127.0.0.1:" + port,
                    "health: 127.0.0.1:" + health, "drainTimeoutMs: 45000")).writeTo(dir.resolve("cluster-" + name + ".yaml"));
            backends.add(new HaproxyFront.Backend(name, port, health));
            proxies.add(ProxyProcess.start(config, dir.resolve(name + ".log"), 120_000));
        }
        haproxy = HaproxyFront.start(Files.readString(sample()), backends);
        awaitStatus("proxy1", "UP", Duration.ofSeconds(20));
        awaitStatus("proxy2", "UP", Duration.ofSeconds(20));
        sysbench = new Sysbench("127.0.0.1", haproxy.port(), USER, PASSWORD, bed.bed().database());
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.close();
        }
        for (ProxyProcess p : proxies) {
            p.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @BeforeEach
    void bothProxiesServe() throws Exception {
        for (int i = 0; i < proxies.size(); i++) {
            if (!proxies.get(i).alive()) {
                proxies.get(i).restart(120_000);
            }
            awaitStatus(backends.get(i).name(), "UP", Duration.ofSeconds(30));
        }
        try (HikariDataSource ds = pool(1); Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM t_ack"); // the write load numbers its ids from 0 again
        }
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void killNineOfAProxyUnderSysbenchAndAWriterLosesNoAcknowledgedWriteAndTheRestartedProxyIsTakenBack() throws Exception {
        HikariDataSource pool = pool(4);
        WriteLoad load = WriteLoad.start(pool, 4, 150);
        SysbenchLoop bench = SysbenchLoop.start("oltp_read_write", 4, 40);
        try {
            FailoverBed.await("writes through HAProxy", Duration.ofSeconds(30), () -> load.acked().size() > 200);
            Thread.sleep(5_000);
            Map<String, HaproxyFront.ServerStat> before = haproxy.servers("ballast_proxies");
            ProxyProcess victim = proxies.get(0);
            long pid = victim.pid();
            long killedAt = System.nanoTime();
            victim.kill9();
            long deadAt = System.nanoTime();
            long downMs = awaitStatus("proxy1", "DOWN", Duration.ofSeconds(20));
            FailoverBed.await("every writer acknowledged after the kill", Duration.ofSeconds(30), () -> {
                for (WriteLoad.WriterOutage o : load.outages(deadAt, System.nanoTime())) {
                    if (o.errors() > 0 && o.outageMs() < 0) {
                        return false;
                    }
                }
                return load.firstSuccessAfter(deadAt) > 0;
            });
            Thread.sleep(3_000);
            List<WriteLoad.WriterOutage> outages = load.outages(deadAt, System.nanoTime());
            List<WriteLoad.Failure> failed = load.failuresBetween(killedAt, System.nanoTime());

            long restartAt = System.nanoTime();
            victim.restart(120_000);
            long listeningMs = (System.nanoTime() - restartAt) / 1_000_000L;
            long upMs = awaitStatus("proxy1", "UP", Duration.ofSeconds(30)) + listeningMs;
            long totalBefore = haproxy.servers("ballast_proxies").get("proxy1").total();
            // new clients after the restart: leastconn sends them to the proxy with fewer sessions, the restarted one
            Sysbench.Result fresh = sysbench.run("oltp_point_select", "run", 1, TABLE_SIZE, 4, 3);
            HaproxyFront.ServerStat after = haproxy.servers("ballast_proxies").get("proxy1");
            long newSessions = after.total() - totalBefore;
            String restartedMetrics = http("http://127.0.0.1:" + backends.get(0).healthPort() + "/metrics");

            List<SysbenchLoop.Round> rounds = bench.await(180);
            load.stop();
            Set<Long> lost;
            try (Connection c = bed.master().connect(bed.bed().database())) {
                lost = load.missingOn(c);
            }
            String errors = failed.stream().map(f -> f.error().getSQLState() + " " + firstLine(f.error().getMessage()))
                    .collect(Collectors.groupingBy(e -> e, java.util.TreeMap::new, Collectors.counting())).toString();
            System.out.printf("HAPROXY KILL: kill -9 of proxy1 (PID %d; sessions before: proxy1 %d, proxy2 %d); HAProxy marked it DOWN"
                            + " %d ms after; JDBC writers (HikariCP, 4): errors %s, outage first error -> first acknowledged insert %s ms,"
                            + " longest pause %s ms; error kinds %s; sysbench oltp_read_write 4 threads, 40 s in rounds restarted when"
                            + " one ends: %s; restarted proxy listening after %d ms, UP in HAProxy after %d ms, %d new sessions on it"
                            + " from a fresh sysbench (%.0f tps); %d acknowledged, lost %d%n",
                    pid, before.get("proxy1").current(), before.get("proxy2").current(), downMs,
                    outages.stream().map(o -> Integer.toString(o.errors())).toList(),
                    outages.stream().map(o -> Long.toString(o.outageMs())).toList(),
                    outages.stream().map(o -> Long.toString(o.longestPauseMs())).toList(), errors,
                    rounds.stream().map(r -> r.describe(killedAt)).toList(), listeningMs, upMs, newSessions, fresh.tps(),
                    load.acked().size(), lost.size());

            assertEquals(Set.of(), lost, "acknowledged inserts lost");
            for (WriteLoad.WriterOutage o : outages) {
                assertTrue(o.outageMs() >= 0 && o.outageMs() < 10_000, "writer " + o.writer() + " without service: " + o);
            }
            for (SysbenchLoop.Round r : rounds.subList(0, rounds.size() - 1)) {
                assertTrue(r.lostConnection(), "a sysbench round ended for another reason than its lost connection:\n"
                        + r.result().output());
            }
            SysbenchLoop.Round last = rounds.get(rounds.size() - 1);
            assertTrue(last.result().ok() && last.result().tps() > 0, "sysbench is not served again after the kill:\n"
                    + last.result().output());
            assertTrue(fresh.ok() && fresh.tps() > 0, fresh.output());
            assertTrue(newSessions >= 1, "HAProxy sent no new session to the restarted proxy: " + after);
            assertTrue(accepted(restartedMetrics) >= newSessions, "the restarted proxy's own counter:\n" + restartedMetrics);
        } finally {
            load.stop();
            pool.close();
            bench.stop();
        }
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void sigtermDrainsAProxyWithoutAClientError() throws Exception {
        // a pool that retires its connections within the drain timeout (30 s, HikariCP's shortest) leaves the draining
        // proxy by itself, between two borrowings
        HikariDataSource pool = pool(4, 30_000);
        WriteLoad load = WriteLoad.start(pool, 4, 150);
        CompletableFuture<Sysbench.Result> bench = background("oltp_read_write", 2, 15);
        try {
            FailoverBed.await("writes through HAProxy", Duration.ofSeconds(30), () -> load.acked().size() > 200);
            Thread.sleep(3_000);
            ProxyProcess victim = proxies.get(1);
            long termAt = System.nanoTime();
            CompletableFuture<Boolean> exited = CompletableFuture.supplyAsync(() -> {
                try {
                    return victim.terminate(90_000);
                } catch (InterruptedException e) {
                    return false;
                }
            });
            String draining = "";
            long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!draining.startsWith("DRAINING") && System.nanoTime() < drainDeadline) {
                draining = http("http://127.0.0.1:" + backends.get(1).healthPort() + "/health"); // once the JVM runs its hook
                Thread.sleep(20);
            }
            long nolbMs = awaitStatus("proxy2", "NOLB", Duration.ofSeconds(20));
            assertTrue(exited.get(120, TimeUnit.SECONDS), "the proxy did not exit after SIGTERM:\n" + victim.tail());
            long exitMs = (System.nanoTime() - termAt) / 1_000_000L;
            Thread.sleep(2_000);
            long end = System.nanoTime();
            List<WriteLoad.WriterOutage> outages = load.outages(termAt, end);
            List<WriteLoad.Failure> failed = load.failuresBetween(termAt, end);
            Sysbench.Result rw = bench.get(120, TimeUnit.SECONDS);
            load.stop();
            Set<Long> lost;
            try (Connection c = bed.master().connect(bed.bed().database())) {
                lost = load.missingOn(c);
            }
            System.out.printf("HAPROXY DRAIN: SIGTERM to proxy2; /health answered '%s'; HAProxy NOLB after %d ms; the proxy exited"
                            + " after %d ms (%s); JDBC writers (HikariCP maxLifetime 30 s, 4): errors %s, longest pause %s ms;"
                            + " sysbench oltp_read_write 2 threads 15 s: %.0f tps, %d errors, %d reconnects, exit %d; %d acknowledged,"
                            + " lost %d%n", firstLine(draining), nolbMs, exitMs, lastLine(victim.tail()),
                    outages.stream().map(o -> Integer.toString(o.errors())).toList(),
                    outages.stream().map(o -> Long.toString(o.longestPauseMs())).toList(), rw.tps(), rw.errors(), rw.reconnects(),
                    rw.exitCode(), load.acked().size(), lost.size());

            assertTrue(draining.startsWith("DRAINING"), draining);
            assertEquals(Set.of(), lost, "acknowledged inserts lost");
            assertEquals(List.of(), failed, "a client saw an error during the drain");
            // deadlocks and lock wait timeouts (1213, 1205) may happen with or without a drain; a lost connection may not
            assertTrue(rw.ok() && rw.reconnects() == 0, rw.output());
            assertTrue(victim.tail().contains("0 client connections cut"), victim.tail());
        } finally {
            load.stop();
            pool.close();
            bench.cancel(true);
        }
    }

    /**
     * Last, since it replaces the master: a master failover seen through HAProxy. Each proxy's {@code /health} answers 503
     * while its group's master is unreachable, so HAProxy may take every proxy out (and cut their sessions) while the
     * monitor fails over: measured here, with the acknowledged writes checked on the new master.
     */
    @Test
    @org.junit.jupiter.api.Order(3)
    void aMasterFailoverBehindHaproxy() throws Exception {
        dev.ballast.failover.Monitor monitor = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(20), monitor::acting);
        HikariDataSource pool = pool(4);
        WriteLoad load = WriteLoad.start(pool, 4, 120);
        java.util.concurrent.ConcurrentLinkedQueue<String> transitions = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicBoolean watching = new java.util.concurrent.atomic.AtomicBoolean(true);
        long[] zero = new long[1];
        Thread watcher = new Thread(() -> {
            Map<String, String> last = new java.util.HashMap<>();
            while (watching.get()) {
                try {
                    haproxy.servers("ballast_proxies").forEach((name, st) -> {
                        if (!st.status().equals(last.put(name, st.status())) && zero[0] != 0) {
                            transitions.add(name + " " + st.status() + " at +" + (System.nanoTime() - zero[0]) / 1_000_000L + " ms");
                        }
                    });
                    Thread.sleep(20);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "haproxy-watch");
        try {
            FailoverBed.await("writes through HAProxy", Duration.ofSeconds(30), () -> load.acked().size() > 200);
            watcher.start();
            Thread.sleep(1_000);
            var before = bed.topology();
            zero[0] = System.nanoTime();
            bed.node(before.master()).crash();
            long deadAt = System.nanoTime();
            FailoverBed.await("a write through HAProxy after the kill", Duration.ofSeconds(30), () -> load.firstSuccessAfter(deadAt) > 0);
            long firstWriteMs = (load.firstSuccessAfter(deadAt) - zero[0]) / 1_000_000L;
            Thread.sleep(6_000);
            List<WriteLoad.WriterOutage> outages = load.outages(deadAt, System.nanoTime());
            load.stop();
            watching.set(false);
            watcher.join(5_000);
            Set<Long> lost;
            try (Connection c = bed.master().connect(bed.bed().database())) {
                lost = load.missingOn(c);
            }
            System.out.printf("HAPROXY MASTER FAILOVER: kill -9 of the master (epoch %d -> %d); first acknowledged insert through HAProxy"
                            + " %d ms after; HAProxy server states %s; writers: errors %s, outage %s ms, longest pause %s ms;"
                            + " %d acknowledged, lost %d%n", before.epoch(), bed.topology().epoch(), firstWriteMs, List.copyOf(transitions),
                    outages.stream().map(o -> Integer.toString(o.errors())).toList(),
                    outages.stream().map(o -> Long.toString(o.outageMs())).toList(),
                    outages.stream().map(o -> Long.toString(o.longestPauseMs())).toList(), load.acked().size(), lost.size());
            assertEquals(Set.of(), lost, "acknowledged inserts lost");
            for (WriteLoad.WriterOutage o : outages) {
                assertTrue(o.outageMs() >= 0 && o.outageMs() < 10_000, "writer " + o.writer() + " without service: " + o);
            }
        } finally {
            watching.set(false);
            load.stop();
            pool.close();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------

    /**
     * sysbench through HAProxy in rounds until {@code seconds} have passed: a round that ends (sysbench 1.0.20 ends the
     * whole run when one thread loses its connection) is started again at once, as a supervisor restarts a client.
     * sysbench cannot reconnect by itself here: with the lost-connection codes in {@code --mysql-ignore-errors} it
     * reconnects and then crashes (SIGSEGV, Debian's build on libmariadb, seen against a plain MariaDB too).
     */
    static final class SysbenchLoop {
        record Round(long startNanos, long endNanos, Sysbench.Result result) {
            boolean lostConnection() {
                return result.output().contains("Lost connection") || result.output().contains("errno = 2013")
                        || result.output().contains("errno = 2006") || result.output().contains("gone away");
            }

            /** start and end relative to {@code zero} in ms, exit, tps, the first second with tps > 0, how it ended */
            String describe(long zero) {
                List<double[]> intervals = Sysbench.intervals(result.output());
                double firstServed = intervals.stream().filter(i -> i[1] > 0).mapToDouble(i -> i[0]).findFirst().orElse(-1);
                String fatal = result.output().lines().filter(l -> l.startsWith("FATAL: mysql")).findFirst().orElse("");
                return String.format("[%+d..%+d ms exit %d, %.0f tps, first second with transactions: %.0f%s]",
                        (startNanos - zero) / 1_000_000L, (endNanos - zero) / 1_000_000L, result.exitCode(),
                        result.tps(), firstServed, fatal.isEmpty() ? "" : ", " + fatal);
            }
        }

        private final List<Round> rounds = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final CompletableFuture<Void> done;
        private volatile boolean stopped;

        private SysbenchLoop(String test, int threads, int seconds) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            done = CompletableFuture.runAsync(() -> {
                try {
                    while (!stopped) {
                        int left = (int) TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime());
                        if (left < 3) {
                            return;
                        }
                        long start = System.nanoTime();
                        Sysbench.Result r = sysbench.run(test, "run", 1, TABLE_SIZE, threads, left, "--report-interval=1");
                        rounds.add(new Round(start, System.nanoTime(), r));
                        if (r.ok() || !rounds.get(rounds.size() - 1).lostConnection()) {
                            return; // done, or failed for a reason a restart would not cure: the test shows it
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        static SysbenchLoop start(String test, int threads, int seconds) {
            return new SysbenchLoop(test, threads, seconds);
        }

        List<Round> await(long timeoutSeconds) throws Exception {
            done.get(timeoutSeconds, TimeUnit.SECONDS);
            return List.copyOf(rounds);
        }

        void stop() {
            stopped = true;
        }
    }

    /**
     * sysbench through HAProxy in the background, a report every second; deadlocks and lock wait timeouts (1213, 1205)
     * retried as usual, any other error ends it.
     */
    private static CompletableFuture<Sysbench.Result> background(String test, int threads, int seconds) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return sysbench.run(test, "run", 1, TABLE_SIZE, threads, seconds, "--report-interval=1");
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** HikariCP over MySQL Connector/J to HAProxy: how an application in front of the entry layer connects. */
    private static HikariDataSource pool(int size) {
        return pool(size, 1_800_000);
    }

    private static HikariDataSource pool(int size, long maxLifetimeMs) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl("jdbc:mysql://127.0.0.1:" + haproxy.port() + "/" + bed.bed().database()
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true&connectTimeout=3000&socketTimeout=10000");
        c.setUsername(USER);
        c.setPassword(PASSWORD);
        c.setMaximumPoolSize(size);
        c.setConnectionTimeout(10_000);
        c.setMaxLifetime(maxLifetimeMs);
        c.setPoolName("haproxy-test");
        return new HikariDataSource(c);
    }

    /** Waits until HAProxy shows {@code server} in {@code status}; returns how long that took, in ms. */
    private static long awaitStatus(String server, String status, Duration timeout) throws Exception {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (true) {
            HaproxyFront.ServerStat s = haproxy.servers("ballast_proxies").get(server);
            if (s != null && s.status().equals(status)) {
                return (System.nanoTime() - start) / 1_000_000L;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("HAProxy shows " + server + " as " + s + ", not " + status + " after " + timeout.toMillis()
                        + " ms\n" + haproxy.log());
            }
            Thread.sleep(20);
        }
    }

    private static String http(String url) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(2_000);
        c.setReadTimeout(5_000);
        try (InputStream in = c.getResponseCode() < 400 ? c.getInputStream() : c.getErrorStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
    }

    private static long accepted(String metrics) {
        return metrics.lines().filter(l -> l.startsWith("ballast_proxy_connections_accepted_total"))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static Path sample() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("samples/haproxy/haproxy.cfg"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("samples/haproxy/haproxy.cfg not found above " + System.getProperty("user.dir"));
        }
        return dir.resolve("samples/haproxy/haproxy.cfg");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    private static String firstLine(String text) {
        return text == null ? "" : text.lines().findFirst().orElse("");
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().toList();
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }
}
