package dev.ballast.it.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HAProxy started from a configuration file of the repository ({@code samples/haproxy/haproxy.cfg}) with its addresses
 * moved to free loopback ports: the {@code bind} line to a new port, each {@code server NAME HOST:PORT check port P} line
 * to the ports given for NAME, and a stats socket added in {@code global} so a test can read each server's state and
 * counters ({@code show stat}). Runs in the foreground ({@code -db}), so the process started is HAProxy itself, stopped
 * by its PID.
 */
public final class HaproxyFront implements AutoCloseable {

    /** The ports of one backend server: where it takes clients and where it answers {@code GET /health}. */
    public record Backend(String name, int port, int healthPort) {
    }

    /** One server's line of {@code show stat}: status (UP, DOWN, NOLB, "UP 1/2", ...), sessions now, sessions in all. */
    public record ServerStat(String status, long current, long total) {
        public boolean up() {
            return status.equals("UP");
        }
    }

    private final Process process;
    private final int port;
    private final Path dir;
    private final Path socket;

    private HaproxyFront(Process process, int port, Path dir) {
        this.process = process;
        this.port = port;
        this.dir = dir;
        this.socket = dir.resolve("stats.sock");
    }

    /** The sample configuration's text with its addresses moved as described above. */
    public static String adapt(String sample, int port, List<Backend> backends, Path statsSocket) {
        String text = sample.replaceFirst("(?m)^(\\s*bind )\\S+", "$1127.0.0.1:" + port);
        for (Backend b : backends) {
            Pattern server = Pattern.compile("(?m)^(\\s*server " + Pattern.quote(b.name()) + " )\\S+( check port )\\d+");
            Matcher m = server.matcher(text);
            if (!m.find()) {
                throw new IllegalArgumentException("no line 'server " + b.name() + " HOST:PORT check port P' in the configuration");
            }
            text = m.replaceFirst("$1127.0.0.1:" + b.port() + "$2" + b.healthPort());
        }
        return text.replaceFirst("(?m)^global\\s*$", "global\n    stats socket " + statsSocket + " mode 600 level admin");
    }

    /** Starts HAProxy on {@code sample} (the text of a configuration file) in front of {@code backends}. */
    public static HaproxyFront start(String sample, List<Backend> backends) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("ballast-haproxy");
        Path cfg = Files.writeString(dir.resolve("haproxy.cfg"), adapt(sample, port, backends, dir.resolve("stats.sock")));
        Process check = new ProcessBuilder("haproxy", "-c", "-f", cfg.toString()).redirectErrorStream(true).start();
        String checked = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!check.waitFor(30, TimeUnit.SECONDS) || check.exitValue() != 0) {
            throw new IllegalStateException("haproxy -c -f " + cfg + " refused the configuration:\n" + checked);
        }
        Process p = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
        HaproxyFront f = new HaproxyFront(p, port, dir);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                String log = f.log();
                f.close();
                throw new IllegalStateException("haproxy exited with " + p.exitValue() + ": " + log);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                if (Files.exists(f.socket)) {
                    return f;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        f.close();
        throw new IllegalStateException("haproxy did not listen on 127.0.0.1:" + port + " within 10 s");
    }

    /** Where clients connect. */
    public int port() {
        return port;
    }

    /** A command on the stats socket ({@code show stat}, {@code show servers state}, ...), its whole answer. */
    public String command(String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            StringBuilder out = new StringBuilder();
            while (ch.read(buf) >= 0) {
                buf.flip();
                out.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
            }
            return out.toString();
        }
    }

    /** Each server's state in {@code backend}, by server name, from {@code show stat}. */
    public Map<String, ServerStat> servers(String backend) throws IOException {
        String csv = command("show stat");
        List<String> lines = csv.lines().filter(l -> !l.isBlank()).toList();
        List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
        int px = header.indexOf("pxname");
        int sv = header.indexOf("svname");
        int status = header.indexOf("status");
        int scur = header.indexOf("scur");
        int stot = header.indexOf("stot");
        Map<String, ServerStat> result = new HashMap<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            if (f[px].equals(backend) && !f[sv].equals("BACKEND") && !f[sv].equals("FRONTEND")) {
                result.put(f[sv], new ServerStat(f[status], Long.parseLong(f[scur]), Long.parseLong(f[stot])));
            }
        }
        return result;
    }

    /** What HAProxy printed (server state changes among it). */
    public String log() {
        try {
            return Files.readString(dir.resolve("haproxy.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
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
