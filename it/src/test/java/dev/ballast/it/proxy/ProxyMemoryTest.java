package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.Auth;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
            String yaml = ClusterYaml.forBed("mem", bed).with("proxy:\n  listen: 127.0.0.1:" + port + "\n  health: off\n"
                    + "  users:\n    fz:\n      nativeHash: \"" + Auth.nativeHash("fz_pw") + "\"\n").text();
            Path dir = bed.directory();
            Path config = Files.writeString(dir.resolve("proxy-mem.yaml"), yaml);
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    "dev.ballast.failover.cli.BallastCli", "proxy", "--config", config.toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("proxy-mem.log").toFile()).start();
            List<Socket> open = new ArrayList<>();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(dir.resolve("proxy-mem.log")).contains("listening on")) {
                    assertTrue(p.isAlive() && System.nanoTime() < deadline, Files.readString(dir.resolve("proxy-mem.log")));
                    Thread.sleep(100);
                }
                Thread.sleep(2_000);
                long idleKb = rssKb(p.pid());
                for (int i = 0; i < 1000; i++) {
                    open.add(login(port));
                }
                Thread.sleep(2_000);
                long loadedKb = rssKb(p.pid());
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

    private static Socket login(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(5000);
        InputStream in = s.getInputStream();
        byte[] greeting = ProxyFuzzTest.readPacket(in);
        int i = 1;
        while (greeting[i] != 0) {
            i++;
        }
        i += 1 + 4;
        byte[] nonce = new byte[20];
        System.arraycopy(greeting, i, nonce, 0, 8);
        i += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
        System.arraycopy(greeting, i, nonce, 8, 12);
        byte[] scramble = Auth.nativeResponse("fz_pw", nonce);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        int caps = 0x200 | 0x8000 | 0x80000 | 0x200000;
        b.writeBytes(new byte[]{(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24), 0, 0, 0, 1, 45});
        b.writeBytes(new byte[23]);
        b.writeBytes("fz".getBytes(StandardCharsets.US_ASCII));
        b.write(0);
        b.write(scramble.length);
        b.writeBytes(scramble);
        b.writeBytes("mysql_native_password\0".getBytes(StandardCharsets.US_ASCII));
        ProxyFuzzTest.writePacket(s.getOutputStream(), 1, b.toByteArray());
        byte[] ok = ProxyFuzzTest.readPacket(in);
        if (ok[0] != 0) {
            throw new IOException("login failed");
        }
        return s;
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
