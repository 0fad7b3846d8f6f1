package dev.ballast.it.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * HAProxy in TCP mode in front of one server: a forwarder that copies bytes and understands nothing of the protocol.
 * The proxy benchmark's baseline for what the extra network hop alone costs on this machine. Started from the
 * {@code haproxy} on the PATH as a child process bound to 127.0.0.1, stopped by its PID; bounded by {@link #close()}.
 */
final class TcpForwarder implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path dir;

    private TcpForwarder(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
    }

    /** Whether an {@code haproxy} command can be run here. */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("haproxy", "-v").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The version line of the {@code haproxy} on the PATH. */
    static String version() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("haproxy", "-v").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out.lines().findFirst().orElse("haproxy").replaceAll(" - https?://\\S+", "").trim();
    }

    /** Forwards a free loopback port to {@code 127.0.0.1:targetPort} with {@code threads} HAProxy threads. */
    static TcpForwarder start(int targetPort, int threads) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("ballast-forwarder");
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, String.join("\n", List.of(
                "global",
                "  maxconn 4000",
                "  nbthread " + threads,
                "defaults",
                "  mode tcp",
                "  timeout connect 5s",
                "  timeout client 600s",
                "  timeout server 600s",
                "listen forward",
                "  bind 127.0.0.1:" + port,
                "  server target 127.0.0.1:" + targetPort,
                "")));
        // -db: stay in the foreground, so the process started here is HAProxy itself and its PID is ours to stop
        Process p = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        TcpForwarder f = new TcpForwarder(p, port, dir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                f.close();
                throw new IllegalStateException("haproxy exited with " + p.exitValue() + ": "
                        + Files.readString(dir.resolve("haproxy.log")));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return f;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        f.close();
        throw new IllegalStateException("haproxy did not listen on 127.0.0.1:" + port + " within 10 s");
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** HAProxy's user and system CPU time so far, in microseconds, or {-1, -1}. */
    long[] cpuMicros() {
        return ProxyBenchmark.cpuMicros(Path.of("/proc/" + process.pid() + "/stat"));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy(); // SIGTERM to the PID started above
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
