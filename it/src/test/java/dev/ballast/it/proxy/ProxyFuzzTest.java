package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed, truncated and random packets against the proxy on a real bed: it never stops serving, never leaks a
 * session or a thread, and a bystander client never notices. Also many connections at once and the connection limit.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ProxyFuzzTest {

    static final long SEED = Long.getLong("fuzz.seed", 20261128L);
    static TestBed bed;
    static ProxyServer proxy;

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(1, 1);
        String yaml = ClusterYaml.forBed("fuzz", bed).with("""
                tables:
                  t_kv:
                    group: g0
                """ + ClusterYaml.proxySection("fz", "fz_pw", false, "maxConnections: 1100", "maxPacketBytes: 65536",
                "idleTimeoutMs: 3000")).text();
        proxy = new ProxyServer(ClusterConfigLoader.parse(yaml, System::getenv)).start();
        try (Connection c = client(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t_kv (k INT PRIMARY KEY, v VARCHAR(32))");
            s.execute("INSERT INTO t_kv VALUES (1, 'one')");
        }
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

    static Connection client() throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + proxy.port() + "/" + bed.database()
                + "?useServerPrepStmts=true&connectTimeout=5000&socketTimeout=10000", "fz", "fz_pw");
    }

    static Socket authenticated() throws IOException {
        return RawClient.login(proxy.port(), "fz", "fz_pw");
    }

    static byte[] readPacket(InputStream in) throws IOException {
        return RawClient.readPacket(in);
    }

    static void writePacket(OutputStream out, int seq, byte[] payload) throws IOException {
        RawClient.writePacket(out, seq, payload);
    }

    /** One generated input: a mutation of a valid command, or random bytes, sent before or after logging in. */
    static void fuzzOnce(Random r) {
        try (Socket s = r.nextInt(4) == 0 ? rawSocket() : authenticated()) {
            s.setSoTimeout(100);
            OutputStream out = s.getOutputStream();
            int kind = r.nextInt(8);
            byte[] payload;
            switch (kind) {
                case 0 -> { // random bytes as a packet
                    payload = new byte[r.nextInt(64)];
                    r.nextBytes(payload);
                    writePacket(out, r.nextInt(256), payload);
                }
                case 1 -> { // truncated packet: header promises more than comes
                    out.write(new byte[]{(byte) 200, 0, 0, 0, 0x03, 'S', 'E'});
                    out.flush();
                }
                case 2 -> { // COM_STMT_EXECUTE with garbage
                    payload = new byte[1 + r.nextInt(40)];
                    r.nextBytes(payload);
                    payload[0] = 0x17;
                    writePacket(out, 0, payload);
                }
                case 3 -> { // COM_STMT_PREPARE then EXECUTE with a wrong parameter block
                    writePacket(out, 0, concat(new byte[]{0x16}, "SELECT v FROM t_kv WHERE k = ?".getBytes(StandardCharsets.US_ASCII)));
                    byte[] bad = new byte[10 + r.nextInt(20)];
                    r.nextBytes(bad);
                    bad[0] = 0x17;
                    bad[1] = 1;
                    bad[2] = 0;
                    bad[3] = 0;
                    bad[4] = 0;
                    writePacket(out, 0, bad);
                }
                case 4 -> { // COM_QUERY with random bytes
                    payload = new byte[2 + r.nextInt(60)];
                    r.nextBytes(payload);
                    payload[0] = 0x03;
                    writePacket(out, 0, payload);
                }
                case 5 -> { // length-encoded integer claiming a huge length inside a long-data packet
                    writePacket(out, 0, new byte[]{0x18, 1, 0, 0, 0, 0, 0, (byte) 0xfe, -1, -1, -1, -1, -1, -1, -1, 0x7f});
                }
                case 6 -> { // a packet over maxPacketBytes
                    out.write(new byte[]{0, 0, 2, 0}); // 128 KiB announced
                    out.write(new byte[1024]);
                    out.flush();
                }
                default -> { // 16 MiB header, nothing after it
                    out.write(new byte[]{-1, -1, -1, 0});
                    out.flush();
                }
            }
            try {
                s.getInputStream().read(new byte[256]);
            } catch (IOException ignored) {
                // no answer or closed: both fine
            }
        } catch (IOException ignored) {
            // the proxy may close the connection at any point
        }
    }

    static Socket rawSocket() throws IOException {
        return RawClient.connect(proxy.port());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void tenThousandMalformedInputsLeaveTheProxyServingEveryoneElse() throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong bystanderQueries = new AtomicLong();
        List<Throwable> bystanderErrors = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread bystander = new Thread(() -> {
            try (Connection c = client(); java.sql.PreparedStatement ps = c.prepareStatement("SELECT v FROM t_kv WHERE k = ?")) {
                while (running.get()) {
                    ps.setInt(1, 1);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || !"one".equals(rs.getString(1))) {
                            bystanderErrors.add(new AssertionError("wrong answer"));
                        }
                    }
                    bystanderQueries.incrementAndGet();
                }
            } catch (Throwable e) {
                bystanderErrors.add(e);
            }
        }, "bystander");
        bystander.start();
        int inputs = 10_000;
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> done = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < 16; w++) {
            Random r = new Random(SEED + w);
            int share = inputs / 16;
            done.add(pool.submit(() -> {
                for (int i = 0; i < share; i++) {
                    fuzzOnce(r);
                }
            }));
        }
        for (Future<?> f : done) {
            f.get(180, TimeUnit.SECONDS);
        }
        pool.shutdown();
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        running.set(false);
        bystander.join(15_000);
        assertEquals(List.of(), bystanderErrors, "the bystander (seed " + SEED + ")");
        assertTrue(bystanderQueries.get() > 100, "bystander queries: " + bystanderQueries.get());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (proxy.connections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, proxy.connections(), "sessions left open after the fuzz sockets closed (seed " + SEED + ")");
        assertTrue(proxy.workerThreads() <= 64, "worker threads " + proxy.workerThreads());
        try (Connection c = client(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
            assertTrue(rs.next());
            assertEquals("one", rs.getString(1));
        }
        System.out.printf("FUZZ: %d generated inputs in %d s (seed %d), bystander ran %d queries without an error, 0 sessions "
                + "left, %d worker threads%n", inputs, seconds, SEED, bystanderQueries.get(), proxy.workerThreads());
    }

    /** A handshake response: capabilities, max packet, charset, filler, then {@code rest} as given. */
    static byte[] handshakeResponse(byte[] rest) {
        int caps = 0x200 | 0x8000 | 0x80000 | 0x200000; // PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, LENENC auth data
        byte[] head = new byte[32];
        head[0] = (byte) caps;
        head[1] = (byte) (caps >> 8);
        head[2] = (byte) (caps >> 16);
        head[7] = 1;
        head[8] = 45;
        return concat(head, rest);
    }

    @Test
    void handWrittenNastyHandshakesAreRefusedCleanly() throws Exception {
        byte[][] cases = {
                // a user name without its terminating NUL
                handshakeResponse("fz".getBytes(StandardCharsets.US_ASCII)),
                // an auth response whose length goes beyond the packet
                handshakeResponse(concat("fz\0".getBytes(StandardCharsets.US_ASCII), new byte[]{(byte) 200, 1, 2, 3})),
                // a length-encoded auth length of 2^64 - 1
                handshakeResponse(concat("fz\0".getBytes(StandardCharsets.US_ASCII),
                        new byte[]{(byte) 0xfe, -1, -1, -1, -1, -1, -1, -1, -1})),
                // a packet shorter than the fixed part of a handshake response
                new byte[]{0x05, 0x02},
        };
        for (byte[] payload : cases) {
            try (Socket s = rawSocket()) {
                s.setSoTimeout(5_000);
                InputStream in = s.getInputStream();
                readPacket(in); // greeting
                writePacket(s.getOutputStream(), 1, payload);
                byte[] reply = readPacket(in);
                assertEquals((byte) 0xff, reply[0], "an error packet");
                int code = (reply[1] & 0xff) | (reply[2] & 0xff) << 8;
                assertEquals(1835, code, "malformed packet");
                assertEquals(-1, in.read(), "then the proxy closes the connection");
            }
        }
        try (Connection c = client(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            assertTrue(rs.next(), "others are served afterwards");
        }
    }

    @Test
    void longDataBeyondTheLimitFailsTheExecuteAndAClientThatDoesNotReadIsThrottled() throws Exception {
        try (Socket s = authenticated()) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            writePacket(out, 0, concat(new byte[]{0x16}, "SELECT ? AS v".getBytes(StandardCharsets.US_ASCII)));
            byte[] prepared = readPacket(in);
            assertEquals(0, prepared[0]);
            int params = (prepared[7] & 0xff) | (prepared[8] & 0xff) << 8;
            int columns = (prepared[5] & 0xff) | (prepared[6] & 0xff) << 8;
            for (int i = 0; i < (params > 0 ? params + 1 : 0) + (columns > 0 ? columns + 1 : 0); i++) {
                readPacket(in); // definitions and their EOFs (this raw client does not ask for DEPRECATE_EOF)
            }
            byte[] chunk = new byte[60_000];
            for (int i = 0; i < 5; i++) { // 300 000 bytes of long data against maxPacketBytes 65 536: kept nowhere
                writePacket(out, 0, concat(new byte[]{0x18, prepared[1], prepared[2], prepared[3], prepared[4], 0, 0}, chunk));
            }
            writePacket(out, 0, new byte[]{0x17, prepared[1], prepared[2], prepared[3], prepared[4], 0, 1, 0, 0, 0, 0, 1, (byte) 0xfd, 0});
            byte[] error = readPacket(in);
            assertEquals((byte) 0xff, error[0]);
            assertEquals(1153, (error[1] & 0xff) | (error[2] & 0xff) << 8);
            // 20 000 pings without reading a reply: the proxy stops reading this socket instead of queueing them all
            byte[] ping = {1, 0, 0, 0, 0x0e};
            byte[] burst = new byte[ping.length * 20_000];
            for (int i = 0; i < 20_000; i++) {
                System.arraycopy(ping, 0, burst, i * ping.length, ping.length);
            }
            Thread writer = new Thread(() -> {
                try {
                    out.write(burst);
                    out.flush();
                } catch (IOException ignored) {
                    // closed at the end of the test
                }
            });
            writer.start();
            Thread.sleep(1_000);
            try (Connection c = client(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
                assertTrue(rs.next(), "other clients are served meanwhile");
            }
            for (int i = 0; i < 20_000; i++) {
                assertEquals(0, readPacket(in)[0], "reply " + i);
            }
            writer.join(10_000);
        }
    }

    @Test
    void aThousandConnectionsAtOnceAndTheLimitBeyond() throws Exception {
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) {
                open.add(authenticated());
            }
            assertEquals(1000, proxy.connections());
            // every one of them still answers
            for (int i = 0; i < open.size(); i += 97) {
                Socket s = open.get(i);
                writePacket(s.getOutputStream(), 0, new byte[]{0x0e}); // COM_PING
                assertEquals(0, readPacket(s.getInputStream())[0]);
            }
            try (Connection c = client(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
                assertTrue(rs.next());
            }
            // fill up to maxConnections (1100): the next one gets error 1040
            for (int i = 0; i < 100; i++) {
                open.add(authenticated());
            }
            try (Socket extra = rawSocket()) {
                extra.setSoTimeout(5000);
                byte[] p = readPacket(extra.getInputStream());
                assertEquals((byte) 0xff, p[0]);
                assertEquals(1040, (p[1] & 0xff) | (p[2] & 0xff) << 8);
                assertTrue(new String(p, StandardCharsets.UTF_8).contains("maxConnections"));
            }
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (proxy.connections() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, proxy.connections());
    }

    @Test
    void aClientThatStallsIsClosedByTheIdleTimeoutWithoutHoldingOthers() throws Exception {
        try (Socket stalled = rawSocket(); Socket half = authenticated()) {
            half.getOutputStream().write(new byte[]{20, 0, 0, 0, 0x03, 'S'}); // half a packet, then nothing
            half.getOutputStream().flush();
            try (Connection c = client(); Statement s = c.createStatement()) {
                for (int i = 0; i < 50; i++) {
                    long t = System.nanoTime();
                    try (ResultSet rs = s.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
                        assertTrue(rs.next());
                    }
                    assertTrue(System.nanoTime() - t < 1_000_000_000L, "a query took over 1 s while others stall");
                }
            }
            stalled.setSoTimeout(8000);
            half.setSoTimeout(8000);
            long t0 = System.nanoTime();
            InputStream in = stalled.getInputStream();
            readPacket(in); // the greeting
            assertEquals(-1, in.read(), "closed by the idle timeout");
            assertEquals(-1, half.getInputStream().read(), "closed by the idle timeout");
            long ms = (System.nanoTime() - t0) / 1_000_000L;
            assertTrue(ms < 7_000, "closed after " + ms + " ms (idleTimeoutMs 3000)");
        }
    }

    @Test
    void aStatementLongerThanTheIdleTimeoutRunsToItsEndAndTheIdleClientIsClosedAfterIt() throws Exception {
        try (Connection c = client(); Statement s = c.createStatement()) {
            // 5 s of server work with nothing on the client's socket: idleTimeoutMs 3000 counts only while the proxy waits
            // for a command, as MySQL's wait_timeout does
            try (ResultSet rs = s.executeQuery("SELECT SLEEP(5) AS slept, v FROM t_kv WHERE k = 1")) {
                assertTrue(rs.next());
                assertEquals(0, rs.getInt("slept"));
            }
            try (ResultSet rs = s.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
                assertTrue(rs.next(), "the connection is still open right after the long statement");
            }
            // then idle: closed after about idleTimeoutMs from the end of its last command, not sooner
            Thread.sleep(1_500);
            try (ResultSet rs = s.executeQuery("SELECT v FROM t_kv WHERE k = 1")) {
                assertTrue(rs.next(), "idle 1.5 s < idleTimeoutMs 3000: still open");
            }
            long idleFrom = System.nanoTime();
            Thread.sleep(4_500);
            SQLException closed = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                    () -> s.executeQuery("SELECT v FROM t_kv WHERE k = 1").close(), "closed after 4.5 s idle");
            System.out.printf("IDLE: a 5 s statement ran under idleTimeoutMs 3000; the client then idle %d ms was closed: %s%n",
                    (System.nanoTime() - idleFrom) / 1_000_000L, closed.getMessage());
        }
    }
}
