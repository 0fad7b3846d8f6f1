package dev.ballast.it.mysql;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ServerDialect;
import dev.ballast.replication.Position;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.containers.MySQLContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code ServerDialect.of(Flavour.MYSQL)} on real MySQL 8.4 servers: a source and two replicas in containers on one
 * Docker network, replicating by GTID auto-position. Every step under test goes through the dialect; hand-written SQL
 * only builds the scene (users, tables, rows, a delayed replica) and reads the outcome.
 *
 * <p>Needs a Docker daemon; without one the class is reported as skipped ({@code disabledWithoutDocker}). The tests
 * share the servers and build on each other, so they run in order; the failover, which kills the source, runs last.
 *
 * <p>Addresses: the servers know each other by network alias on port 3306 (a replica resolves its source inside the
 * Docker network), so those are the {@link NodeAddress}es given to the dialect; the test JVM itself connects through
 * the mapped ports.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MySql8FailoverDialectTest {

    static final DockerImageName IMAGE = DockerImageName.parse("mysql:8.4");
    static final String ROOT_PASSWORD = "ballast-root";
    static final Credentials REPLICATION = new Credentials("repl", "ballast-repl");
    static final Credentials APP = new Credentials("app", "ballast-app");
    /** As {@code failover.probeTimeoutMs} by default: the socket timeout of the monitor's kept connections. */
    static final int PROBE_TIMEOUT_MS = 1_000;
    /** Socket timeout of the other admin connections: a STOP REPLICA on a replica of a dead source may take a while. */
    static final int ADMIN_SOCKET_TIMEOUT_MS = 20_000;
    static final Duration CONVERGE = Duration.ofSeconds(60);
    /** A GTID no server here ever writes (server uuids are random). */
    static final String NEVER = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1";

    static final ServerDialect DIALECT = ServerDialect.of(Flavour.MYSQL);

    static Network network;
    static Server source;
    static Server replicaA;
    static Server replicaB;

    /** One server: its container, and its address inside the Docker network. */
    record Server(MySQLContainer<?> container, NodeAddress address, int serverId) {

        Connection admin() throws SQLException {
            return connect("root", ROOT_PASSWORD, ADMIN_SOCKET_TIMEOUT_MS);
        }

        /** Like {@code NodeConnections}: the probe timeout as socket timeout. */
        Connection monitor() throws SQLException {
            return connect("root", ROOT_PASSWORD, PROBE_TIMEOUT_MS);
        }

        Connection app() throws SQLException {
            return connect(APP.user(), APP.password(), ADMIN_SOCKET_TIMEOUT_MS);
        }

        Connection connect(String user, String password, int socketTimeoutMs) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
            p.setProperty("connectTimeout", "5000");
            p.setProperty("socketTimeout", Integer.toString(socketTimeoutMs));
            p.setProperty("allowPublicKeyRetrieval", "true");
            p.setProperty("useSSL", "false");
            return DriverManager.getConnection("jdbc:mysql://" + container.getHost() + ":" + container.getMappedPort(3306)
                    + "/", p);
        }

        NodeProbe probe() throws SQLException {
            try (Connection c = admin()) {
                NodeProbe p = DIALECT.probe(c, address);
                assertTrue(p.reachable(), address + ": " + p.error());
                return p;
            }
        }

        @Override
        public String toString() {
            return address.toString();
        }
    }

    @BeforeAll
    @Timeout(value = 15, unit = TimeUnit.MINUTES) // may pull the image first
    static void startServers() throws SQLException {
        network = Network.newNetwork();
        // one after the other: three servers initialising at once are slow on a small machine
        source = start(1, "mysql-source");
        replicaA = start(2, "mysql-replica-a");
        replicaB = start(3, "mysql-replica-b");

        // Each container initialised its own data directory (same image, same content) and wrote GTIDs of its own
        // doing so; forget them, so that only what the source does from here on is replicated and compared.
        for (Server s : new Server[] {source, replicaA, replicaB}) {
            sql(s, "RESET BINARY LOGS AND GTIDS");
        }
        sql(source,
                "CREATE USER '" + REPLICATION.user() + "'@'%' IDENTIFIED WITH caching_sha2_password BY '"
                        + REPLICATION.password() + "'",
                "GRANT REPLICATION SLAVE ON *.* TO '" + REPLICATION.user() + "'@'%'",
                "CREATE USER '" + APP.user() + "'@'%' IDENTIFIED BY '" + APP.password() + "'",
                "CREATE DATABASE ballast",
                "GRANT SELECT, INSERT ON ballast.* TO '" + APP.user() + "'@'%'",
                "CREATE TABLE ballast.t (id INT PRIMARY KEY, origin VARCHAR(32) NOT NULL)");
        for (Server r : new Server[] {replicaA, replicaB}) {
            sql(r,
                    "SET GLOBAL super_read_only = ON",
                    "CHANGE REPLICATION SOURCE TO SOURCE_HOST='" + source.address().host() + "', SOURCE_PORT="
                            + source.address().port() + ", SOURCE_USER='" + REPLICATION.user() + "', SOURCE_PASSWORD='"
                            + REPLICATION.password() + "', SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1, "
                            + "SOURCE_CONNECT_RETRY=1",
                    "START REPLICA");
        }
        String executed = gtidExecuted(source);
        for (Server r : new Server[] {replicaA, replicaB}) {
            awaitTrue(r + " applies the source's setup " + executed, () -> hasApplied(r, executed));
        }
    }

    static Server start(int serverId, String alias) {
        MySQLContainer<?> c = new MySQLContainer<>(IMAGE)
                .withNetwork(network)
                .withNetworkAliases(alias)
                .withUsername("root")
                .withPassword(ROOT_PASSWORD)
                .withCommand("--server-id=" + serverId, "--gtid-mode=ON", "--enforce-gtid-consistency=ON", "--log-bin",
                        "--log-replica-updates=ON", "--binlog-format=ROW")
                .withStartupTimeoutSeconds(300); // the JDBC wait of MySQLContainer counts this, not withStartupTimeout
        c.start();
        return new Server(c, new NodeAddress(alias, 3306), serverId);
    }

    @AfterAll
    static void stopServers() {
        for (Server s : new Server[] {replicaB, replicaA, source}) {
            if (s != null) {
                s.container().stop();
            }
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    @Order(1)
    void probeSeesTheSourceAndBothReplicas() throws Exception {
        insert(source, 1, 5, "probe");
        NodeProbe s = source.probe();
        assertEquals(1, s.serverId());
        assertTrue(s.replication().isEmpty(), "the source replicates from nobody: " + s.replication());
        assertFalse(s.readOnly());
        assertTrue(s.writable());
        assertFalse(s.executed().isEmpty(), "the source's @@gtid_executed");
        assertEquals(Flavour.MYSQL, s.executed().flavour());

        for (Server r : new Server[] {replicaA, replicaB}) {
            NodeProbe p = awaitProbe(r + " receives and applies " + s.executed(), r,
                    x -> x.replication().isPresent() && x.replication().get().applied().covers(s.executed())
                            && x.replication().get().io() == ReplicaThreads.IoState.YES);
            ReplicaThreads t = p.replication().orElseThrow();
            assertEquals(r.serverId(), p.serverId());
            assertTrue(p.readOnly(), r + " is super_read_only");
            assertEquals(source.address(), t.master());
            assertEquals(ReplicaThreads.IoState.YES, t.io());
            assertTrue(t.sqlRunning());
            assertTrue(t.healthy());
            assertTrue(t.received().covers(s.executed()), r + " received " + t.received() + ", source " + s.executed());
            assertTrue(t.applied().covers(s.executed()), r + " applied " + t.applied() + ", source " + s.executed());
            assertTrue(p.executed().covers(s.executed()));
            assertEquals(0, t.lastIoErrno(), t.lastIoError());
            assertEquals(0, t.lastSqlErrno(), t.lastSqlError());
            assertTrue(t.secondsBehind() >= 0, "Seconds_Behind_Source is known while both threads run");
            assertFalse(t.receiveMark().isEmpty(), "performance_schema tells what the receiver got, heartbeats included");
            assertTrue(t.heartbeatPeriodMs() > 0, "the receiver's heartbeat period: " + t.heartbeatPeriodMs());
        }

        // on a server that is no replica, stopping and starting replication are no-ops, not errors
        try (Connection c = source.admin()) {
            DIALECT.stopReceiving(c);
            DIALECT.startReplication(c);
        }
        NodeProbe again = source.probe();
        assertTrue(again.replication().isEmpty());
        assertFalse(again.readOnly());
    }

    @Test
    @Order(2)
    void awaitAppliedWaitsOnAMonitorConnectionAndTimesOut() throws Exception {
        Position executed = source.probe().executed();
        try (Connection c = replicaA.monitor()) {
            assertTrue(DIALECT.awaitApplied(c, executed.toString(), 30_000), "replica A applied " + executed);
            assertTrue(DIALECT.awaitApplied(c, "", 1), "the empty position is applied everywhere");

            for (Server s : new Server[] {source, replicaA, replicaB}) {
                assertFalse(s.probe().executed().covers(Position.parse(Flavour.MYSQL, NEVER)), s + " has " + NEVER);
            }
            long waitMs = 3 * PROBE_TIMEOUT_MS;
            long t0 = System.nanoTime();
            // longer than the connection's socket timeout: the dialect must lift it for the wait
            assertFalse(DIALECT.awaitApplied(c, NEVER, waitMs), NEVER + " never arrives");
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(tookMs >= waitMs - 100, "waited " + tookMs + " ms of " + waitMs);
            assertTrue(tookMs < waitMs + 10_000, "waited " + tookMs + " ms of " + waitMs);

            assertEquals(PROBE_TIMEOUT_MS, c.getNetworkTimeout(), "the socket timeout is put back");
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(rs.next(), "the connection is still usable");
            }
        }
    }

    @Test
    @Order(3)
    void fenceRefusesTheApplicationsWritesAndUnfenceRevertsIt() throws Exception {
        try (Connection app = source.app(); Connection admin = source.admin()) {
            appInsert(app, 100);

            DIALECT.fence(admin);
            DIALECT.fence(admin); // repeatable
            assertTrue(source.probe().readOnly());
            SQLException refused = assertThrows(SQLException.class, () -> appInsert(app, 101));
            int code = refused.getErrorCode();
            assertTrue(code == 1290 || code == 1836,
                    "ER_OPTION_PREVENTS_STATEMENT (1290) or ER_READ_ONLY_MODE (1836), got " + code + ": "
                            + refused.getMessage());

            DIALECT.unfence(admin);
            DIALECT.unfence(admin); // repeatable
            NodeProbe p = source.probe();
            assertFalse(p.readOnly());
            assertTrue(p.writable());
            appInsert(app, 101);
        }
        assertEquals(2, count(source, "SELECT COUNT(*) FROM ballast.t WHERE id IN (100, 101)"));
        String executed = gtidExecuted(source);
        for (Server r : new Server[] {replicaA, replicaB}) {
            awaitTrue(r + " applies " + executed, () -> hasApplied(r, executed));
        }
    }

    @Test
    @Order(4)
    void manualFailoverLosesNoRow() throws Exception {
        // Replica A applies 8 s behind the source: when the source dies, A has received rows it has not applied yet,
        // which awaitApplied must wait for and promote must not throw away.
        sql(replicaA, "STOP REPLICA SQL_THREAD", "CHANGE REPLICATION SOURCE TO SOURCE_DELAY=8", "START REPLICA SQL_THREAD");
        int first = 1000;
        int rows = 200;
        insert(source, first, rows, "before the crash");
        long before = count(source, "SELECT COUNT(*) FROM ballast.t");
        Position sourceExecuted = source.probe().executed();
        // asynchronous replication loses what no replica received; wait until both have it (what semi-sync ensures)
        for (Server r : new Server[] {replicaA, replicaB}) {
            awaitProbe(r + " receives " + sourceExecuted, r, x -> x.replication().isPresent()
                    && x.replication().get().received().covers(sourceExecuted));
        }

        source.container().stop(); // killed

        try (Connection a = replicaA.admin(); Connection b = replicaB.admin()) {
            DIALECT.stopReceiving(a);
            DIALECT.stopReceiving(b);
            DIALECT.stopReceiving(b); // repeatable
        }
        NodeProbe pa = replicaA.probe();
        NodeProbe pb = replicaB.probe();
        for (NodeProbe p : new NodeProbe[] {pa, pb}) {
            ReplicaThreads t = p.replication().orElseThrow(() -> new AssertionError(p.node() + " is still a replica"));
            assertNotEquals(ReplicaThreads.IoState.YES, t.io(), p.node() + " stopped receiving");
            assertEquals(source.address(), t.master());
        }
        Position ra = pa.replication().orElseThrow().received();
        Position rb = pb.replication().orElseThrow().received();
        boolean aCoversB = ra.covers(rb);
        boolean bCoversA = rb.covers(ra);
        assertTrue(aCoversB || bCoversA, "one replica received all the other did: A " + ra + ", B " + rb);
        // both received everything here; then the one with relay log left to apply, so that the wait is exercised
        boolean pickA = aCoversB && (!bCoversA || !pa.replication().orElseThrow().applied().covers(ra));
        Server candidate = pickA ? replicaA : replicaB;
        Server other = pickA ? replicaB : replicaA;
        Position received = pickA ? ra : rb;
        assertTrue(received.covers(sourceExecuted), candidate + " received all the source wrote");

        NodeAddress newMaster = candidate.address(); // alias:3306, what the other replica resolves
        try (Connection c = candidate.admin()) {
            assertTrue(DIALECT.awaitApplied(c, received.toString(), 120_000), candidate + " applies " + received);
            DIALECT.promote(c, true);
            DIALECT.promote(c, true); // repeatable: a resumed recovery runs it again
        }
        try (Connection c = other.admin()) {
            DIALECT.replicateFrom(c, newMaster, REPLICATION, false, 500);
        }

        NodeProbe promoted = candidate.probe();
        assertFalse(promoted.readOnly(), "the new master is writable");
        assertTrue(promoted.writable());
        assertTrue(promoted.replication().isEmpty(), "the new master replicates from nobody: " + promoted.replication());
        assertTrue(promoted.executed().covers(sourceExecuted), "the new master has all the source wrote");
        assertEquals(before, count(candidate, "SELECT COUNT(*) FROM ballast.t"), "rows lost in the failover");
        assertEquals(rows, count(candidate, "SELECT COUNT(*) FROM ballast.t WHERE id BETWEEN " + first + " AND "
                + (first + rows - 1)));

        int after = 5000;
        sql(candidate, "INSERT INTO ballast.t VALUES (" + after + ", 'new master')");
        Position newExecuted = candidate.probe().executed();
        NodeProbe o = awaitProbe(other + " replicates " + newExecuted + " from " + newMaster, other,
                x -> x.replication().isPresent() && x.replication().get().io() == ReplicaThreads.IoState.YES
                        && x.replication().get().applied().covers(newExecuted));
        ReplicaThreads t = o.replication().orElseThrow();
        assertEquals(newMaster, t.master());
        assertEquals(ReplicaThreads.IoState.YES, t.io());
        assertTrue(t.sqlRunning());
        assertEquals(0, t.lastIoErrno(), t.lastIoError());
        assertEquals(0, t.lastSqlErrno(), t.lastSqlError());
        assertTrue(o.readOnly(), other + " stays read-only");
        assertEquals(1, count(other, "SELECT COUNT(*) FROM ballast.t WHERE id = " + after), "the new master's row");
        assertEquals(before + 1, count(other, "SELECT COUNT(*) FROM ballast.t"));
    }

    // --- scene building and reading: plain SQL, not under test

    static void sql(Server s, String... statements) throws SQLException {
        try (Connection c = s.admin(); Statement st = c.createStatement()) {
            for (String q : statements) {
                st.execute(q);
            }
        }
    }

    static long count(Server s, String query) throws SQLException {
        try (Connection c = s.admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void insert(Server s, int firstId, int rows, String origin) throws SQLException {
        try (Connection c = s.admin();
             PreparedStatement ps = c.prepareStatement("INSERT INTO ballast.t (id, origin) VALUES (?, ?)")) {
            for (int i = 0; i < rows; i++) {
                ps.setInt(1, firstId + i);
                ps.setString(2, origin);
                ps.executeUpdate();
            }
        }
    }

    static void appInsert(Connection app, int id) throws SQLException {
        try (PreparedStatement ps = app.prepareStatement("INSERT INTO ballast.t (id, origin) VALUES (?, 'app')")) {
            ps.setInt(1, id);
            ps.executeUpdate();
        }
    }

    static String gtidExecuted(Server s) throws SQLException {
        try (Connection c = s.admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT @@GLOBAL.gtid_executed")) {
            rs.next();
            return rs.getString(1);
        }
    }

    static boolean hasApplied(Server s, String gtidSet) throws SQLException {
        try (Connection c = s.admin();
             PreparedStatement ps = c.prepareStatement("SELECT GTID_SUBSET(?, @@GLOBAL.gtid_executed)")) {
            ps.setString(1, gtidSet);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    interface Check {
        boolean done() throws Exception;
    }

    static void awaitTrue(String what, Check check) {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (check.done()) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            pause();
        }
        fail("not within " + CONVERGE + ": " + what + (last == null ? "" : " (last error: " + last + ")"));
    }

    static NodeProbe awaitProbe(String what, Server s, Predicate<NodeProbe> done) throws SQLException {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        NodeProbe p = s.probe();
        while (!done.test(p)) {
            if (System.nanoTime() > deadline) {
                fail("not within " + CONVERGE + ": " + what + "; last probe " + p);
            }
            pause();
            p = s.probe();
        }
        return p;
    }

    static void pause() {
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
