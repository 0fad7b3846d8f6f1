package dev.ballast.cli;

import dev.ballast.it.testbed.ZooKeeperBed;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.topology.TopologyStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With ZooKeeper unreachable every verb that needs it fails within {@code failover.zkConnectionTimeoutMs} (plus a little)
 * with one line naming the connect string, exit 1. Before, {@code status} and {@code switchover} hung about 64 s (Curator
 * retrying 29 times) and ended in a stack trace.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CliWithoutZooKeeperTest {

    static final int TIMEOUT_MS = 1000;
    /** Closing the client and the verb's own work; far below the 64 s it took before. */
    static final long SLACK_MS = 2500;

    @TempDir
    Path dir;

    Path config(String connect) throws IOException {
        return Files.writeString(dir.resolve("cluster.yaml"), """
                name: shop
                database: shop
                credentials:
                  user: app
                  password: app
                groups:
                  g0:
                    master: 127.0.0.1:3311
                    replicas: [127.0.0.1:3312]
                failover:
                  zookeeper: %s
                  zkConnectionTimeoutMs: %d
                """.formatted(connect, TIMEOUT_MS));
    }

    static String nothingListens() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    record Run(int code, String out, String err, long ms) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code = BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1_000_000);
    }

    static void assertFailsFastInOneLine(Run r, String connect) {
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.ms() <= TIMEOUT_MS + SLACK_MS, "took " + r.ms() + " ms, zkConnectionTimeoutMs=" + TIMEOUT_MS);
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains("cannot reach ZooKeeper at " + connect), r.err());
        assertEquals("", r.out());
    }

    @Test
    void everyVerbFailsWithinTheConnectionTimeoutWhenNothingListens() throws Exception {
        String connect = nothingListens();
        String c = config(connect).toString();
        // The first call in this JVM also loads Curator, ZooKeeper and its TLS set-up (seconds on a busy machine): not
        // timed here; the whole process is timed in theProcessPrintsOneLineAndExits1.
        Run warm = run("status", "--config", c);
        assertEquals(1, warm.code(), warm.toString());
        for (List<String> args : List.of(List.of("status", "--config", c), List.of("status", "--json", "--config", c),
                List.of("switchover", "--config", c, "--group", "g0"),
                List.of("switchover", "--config", c, "--group", "g0", "--to", "127.0.0.1:3312"),
                List.of("rejoin", "--config", c, "--group", "g0", "--node", "127.0.0.1:3311"),
                List.of("ack", "--config", c, "--group", "g0"))) {
            Run r = run(args.toArray(String[]::new));
            System.out.println("CLI without ZooKeeper: " + String.join(" ", args.subList(0, 1)) + " exit " + r.code() + " after "
                    + r.ms() + " ms: " + r.err().strip());
            assertFailsFastInOneLine(r, connect);
        }
    }

    /** docs/cli.md: a variable the config names but the environment lacks is a usage error (exit 2) naming it. */
    @Test
    void anAclPasswordVariableThatIsNotSetIsAUsageErrorNamingIt() throws Exception {
        Path c = config(nothingListens());
        Files.writeString(c, Files.readString(c) + """
                  acl:
                    admin: {user: ballast-admin, password: "${BALLAST_TEST_NEVER_SET_ADMIN_PW}"}
                    reader: {user: ballast-reader, password: "${BALLAST_TEST_NEVER_SET_READER_PW}"}
                """);
        for (List<String> args : List.of(List.of("status", "--config", c.toString()),
                List.of("switchover", "--config", c.toString(), "--group", "g0"))) {
            Run r = run(args.toArray(String[]::new));
            System.out.println("CLI with an unset ACL variable: " + args.get(0) + " exit " + r.code() + ": " + r.err().strip());
            assertEquals(2, r.code(), r.toString());
            assertTrue(r.err().contains("BALLAST_TEST_NEVER_SET_ADMIN_PW is not set"), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
    }

    @Test
    void aZooKeeperThatWasStoppedFailsTheSameWay() throws Exception {
        try (ZooKeeperBed zk = ZooKeeperBed.start()) {
            String connect = zk.connectString();
            Path c = config(connect);
            assertEquals(0, run("status", "--config", c.toString()).code(), "reachable first");
            zk.stop();
            Run r = run("status", "--config", c.toString());
            System.out.println("CLI with a stopped ZooKeeper: exit " + r.code() + " after " + r.ms() + " ms: " + r.err().strip());
            assertFailsFastInOneLine(r, connect);
        }
    }

    /**
     * A real ZooKeeper in a process of its own, frozen with SIGSTOP: it accepts the TCP connection (the kernel does) but
     * never answers, as behind a network that drops its replies. Before, the verb gave up after the timeout and then
     * closing the client took about 9 s more.
     */
    @Test
    void aFrozenZooKeeperFailsTheSameWay() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        Path data = Files.createDirectories(dir.resolve("zk-data"));
        Path cfg = Files.writeString(dir.resolve("zoo.cfg"), "tickTime=2000\ndataDir=" + data + "\nclientPort=" + port
                + "\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n");
        Process zk = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("zk.log").toFile()).start();
        try {
            String connect = "127.0.0.1:" + port;
            Path c = config(connect);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (run("status", "--config", c.toString()).code() != 0) {
                assertTrue(System.nanoTime() < deadline, "ZooKeeper did not start: " + Files.readString(dir.resolve("zk.log")));
                Thread.sleep(300);
            }
            assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(zk.pid())).start().waitFor());
            Run r = run("status", "--config", c.toString());
            System.out.println("CLI with a frozen ZooKeeper: exit " + r.code() + " after " + r.ms() + " ms: " + r.err().strip());
            assertFailsFastInOneLine(r, connect);
        } finally {
            zk.destroyForcibly();
            new ProcessBuilder("kill", "-CONT", Long.toString(zk.pid())).start().waitFor();
            zk.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aZooKeeperThatGoesAwayAfterTheConnectionFailsTheNextCallWithinTwiceTheTimeout() throws Exception {
        try (ZooKeeperBed zk = ZooKeeperBed.start()) {
            var config = ClusterConfigLoader.load(config(zk.connectString()));
            try (ZooKeeperSession session = ZooKeeperSession.open(config)) {
                session.store().read("g0");
                zk.stop();
                long t0 = System.nanoTime();
                assertThrows(TopologyStore.TopologyException.class, () -> session.store().read("g0"));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.println("CLI call after ZooKeeper went away gave up after " + ms + " ms");
                assertTrue(ms <= 2L * TIMEOUT_MS + SLACK_MS, "took " + ms + " ms");
            }
        }
    }

    /**
     * The launcher's way ({@code main}, its logging set-up, {@code BALLAST_CONFIG} instead of {@code --config}): the whole
     * output is the one line, no ZooKeeper log lines or stack traces.
     */
    @Test
    void theProcessPrintsOneLineAndExits1() throws Exception {
        String connect = nothingListens();
        Path c = config(connect);
        Path log = dir.resolve("out.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), BallastCli.class.getName(), "status")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("BALLAST_CONFIG");
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exited");
        assertEquals(2, p.exitValue(), "no config at all is a usage error: " + Files.readString(log));
        assertTrue(Files.readString(log).contains("BALLAST_CONFIG"), Files.readString(log));

        pb.environment().put("BALLAST_CONFIG", c.toString());
        long t0 = System.nanoTime();
        p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "exited");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String output = Files.readString(log);
        System.out.println("ballast status (own JVM) without ZooKeeper: exit " + p.exitValue() + " after " + ms + " ms: " + output.strip());
        assertEquals(1, p.exitValue(), output);
        assertEquals(1, output.lines().count(), "one line: " + output);
        assertTrue(output.contains("cannot reach ZooKeeper at " + connect), output);
    }
}
