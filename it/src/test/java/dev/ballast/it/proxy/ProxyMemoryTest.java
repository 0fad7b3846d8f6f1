package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy as its own process ({@code ballast proxy}): resident memory idle and with 1 000 idle client connections. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProxyMemoryTest {

    @Test
    void residentMemoryWithAThousandIdleConnections() throws Exception {
        try (TestBed bed = TestBed.start(1, 1)) {
            int port;
            try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
                port = free.getLocalPort();
            }
            String yaml = ClusterYaml.forBed("mem", bed).with(ClusterYaml.proxySection("fz", "fz_pw", false,
                    "listen: 127.0.0.1:" + port)).text();
            Path dir = bed.directory();
            Path config = Files.writeString(dir.resolve("proxy-mem.yaml"), yaml);
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    "dev.ballast.cli.BallastCli", "proxy", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("proxy-mem.log").toFile()).start();
            List<Socket> open = new ArrayList<>();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(dir.resolve("proxy-mem.log")).contains("listening on")) {
                    assertTrue(p.isAlive() && System.nanoTime() < deadline, Files.readString(dir.resolve("proxy-mem.log")));
                    Thread.sleep(100);
                }
                Thread.sleep(2_000);
                long idleKb = RawClient.rssKb(p.pid());
                for (int i = 0; i < 1000; i++) {
                    open.add(RawClient.login(port, "fz", "fz_pw"));
                }
                Thread.sleep(2_000);
                long loadedKb = RawClient.rssKb(p.pid());
                long perConnection = (loadedKb - idleKb) * 1024 / 1000;
                System.out.printf("PROXY resident memory: idle %d MB, with 1000 idle connections %d MB, %d bytes per connection "
                        + "(-Xmx256m, SerialGC)%n", idleKb / 1024, loadedKb / 1024, perConnection);
                assertTrue(loadedKb <= 512 * 1024, "proxy RSS " + loadedKb / 1024 + " MB > 512 MB");
            } finally {
                for (Socket s : open) {
                    s.close();
                }
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
