package dev.ballast.it.testbed;

import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ZooKeeperBedTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void zooKeeperBedBindsLoopbackAndRestarts() throws Exception {
        Set<String> before = listeningSockets();
        try (ZooKeeperBed zk = ZooKeeperBed.start()) {
            assertEquals("127.0.0.1:" + zk.port(), zk.connectString());
            List<String> opened = new ArrayList<>();
            for (String listener : listeningSockets()) {
                if (!before.contains(listener)) {
                    opened.add(listener);
                }
            }
            assertTrue(opened.contains("127.0.0.1:" + zk.port()), "listening: " + opened);
            assertTrue(opened.stream().allMatch(a -> a.startsWith("127.0.0.1:")), "only loopback, no admin server: " + opened);

            try (ZooKeeper client = connect(zk.connectString())) {
                client.create("/testbed", "kept".getBytes(StandardCharsets.UTF_8), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            }

            zk.stop();
            assertFalse(zk.isRunning());
            assertThrows(ConnectException.class, () -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", zk.port()), 1000);
                }
            });

            zk.restart();
            try (ZooKeeper client = connect(zk.connectString())) {
                assertArrayEquals("kept".getBytes(StandardCharsets.UTF_8), client.getData("/testbed", false, null),
                        "data survives the restart");
            }
        }
    }

    private static ZooKeeper connect(String connectString) throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper client = new ZooKeeper(connectString, 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(10, TimeUnit.SECONDS)) {
            client.close();
            throw new AssertionError("no ZooKeeper session on " + connectString + " within 10 s");
        }
        return client;
    }

    /**
     * The TCP listeners of this JVM as {@code address:port}, from {@code /proc/net/tcp{,6}} and the socket inodes
     * of {@code /proc/self/fd} (what {@code ss -ltnp} shows for this process).
     */
    private static Set<String> listeningSockets() throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException ignored) {
                    // closed meanwhile
                }
            }
        }
        Set<String> listeners = new HashSet<>();
        for (String table : new String[]{"/proc/net/tcp", "/proc/net/tcp6"}) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals("0A") && inodes.contains(f[9])) { // 0A = LISTEN
                    listeners.add(address(f[1]));
                }
            }
        }
        return listeners;
    }

    /**
     * {@code 0100007F:1F90} as {@code 127.0.0.1:8080}: IPv4 addresses (also IPv4-mapped IPv6 ones) are one
     * little-endian 32-bit word; any other IPv6 address is left in hex, {@code [hex]:port}.
     */
    private static String address(String hex) {
        String[] parts = hex.split(":");
        int port = Integer.parseInt(parts[1], 16);
        String ip = parts[0];
        if (ip.length() == 32 && ip.startsWith("0000000000000000FFFF0000")) {
            ip = ip.substring(24);
        }
        if (ip.length() != 8) {
            return "[" + ip + "]:" + port;
        }
        return Integer.parseInt(ip.substring(6, 8), 16) + "." + Integer.parseInt(ip.substring(4, 6), 16) + "."
                + Integer.parseInt(ip.substring(2, 4), 16) + "." + Integer.parseInt(ip.substring(0, 2), 16) + ":" + port;
    }
}
