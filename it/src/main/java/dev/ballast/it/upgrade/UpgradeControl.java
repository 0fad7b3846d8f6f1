package dev.ballast.it.upgrade;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ballast.it.testbed.MariaDbBinaries;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.SystemTablesUpgrade;
import dev.ballast.it.testbed.TestBed;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The operator's side of {@code ballast upgrade} for a test bed: an HTTP endpoint on 127.0.0.1 that stops, installs,
 * starts and post-starts the bed's own servers (the bed owns their processes and kills them by PID at the end), and
 * the {@code upgrade:} config section whose commands call it with {@code curl}. What a real operator's
 * {@code systemctl} and package manager would do, behind real shell commands run by the CLI.
 */
public final class UpgradeControl implements AutoCloseable {

    private final HttpServer server;
    private final TestBed bed;
    private final MariaDbBinaries target;
    private final ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();

    private UpgradeControl(TestBed bed, MariaDbBinaries target) throws IOException {
        this.bed = bed;
        this.target = target;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Serves {@code bed}'s nodes; {@code install} switches a stopped node to {@code target}'s binaries. */
    public static UpgradeControl start(TestBed bed, MariaDbBinaries target) throws IOException {
        return new UpgradeControl(bed, target);
    }

    /** The {@code upgrade:} section (with {@code extra} lines such as {@code "  drainTimeoutMs: 3000"}). */
    public String upgradeSection(String... extra) {
        String curl = "curl -fsS --max-time 600 'http://127.0.0.1:" + server.getAddress().getPort() + "/";
        StringBuilder b = new StringBuilder("upgrade:\n")
                .append("  stopCommand: \"").append(curl).append("stop?node={node}'\"\n")
                .append("  installCommand: \"").append(curl).append("install?node={node}&version={version}'\"\n")
                .append("  startCommand: \"").append(curl).append("start?node={node}'\"\n")
                .append("  postStartCommand: \"").append(curl).append("post-start?node={node}'\"\n");
        for (String line : extra) {
            b.append(line).append('\n');
        }
        return b.toString();
    }

    /** What was asked, in order: {@code "stop 127.0.0.1:3306 812 ms"}, or a failure. */
    public List<String> calls() {
        return List.copyOf(calls);
    }

    private MariaDbNode node(String address) {
        return bed.nodes().stream().filter(n -> n.address().equals(address)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + address + " in " + bed.describe()));
    }

    private void handle(HttpExchange exchange) throws IOException {
        String action = exchange.getRequestURI().getPath().substring(1);
        Map<String, String> q = query(exchange.getRequestURI());
        long t0 = System.nanoTime();
        try {
            MariaDbNode n = node(q.getOrDefault("node", "?"));
            String out = switch (action) {
                case "stop" -> {
                    n.stop();
                    yield "stopped " + n.address();
                }
                case "install" -> {
                    if (!target.versionNumber().startsWith(q.getOrDefault("version", "?"))) {
                        throw new IllegalArgumentException("this bed installs " + target.versionNumber() + ", not "
                                + q.get("version"));
                    }
                    n.install(target);
                    yield "installed " + target.versionNumber() + " for " + n.address();
                }
                case "start" -> {
                    n.startAsReplica();
                    yield "started " + n.address();
                }
                case "post-start" -> {
                    SystemTablesUpgrade.Result r = SystemTablesUpgrade.run(n);
                    if (!r.failures().isEmpty()) {
                        throw new IllegalStateException(r.failures().size() + " statements failed, first: "
                                + r.failures().get(0));
                    }
                    yield "system tables of " + n.address() + ": " + r.executed() + " statements";
                }
                default -> throw new IllegalArgumentException("unknown action " + action);
            };
            calls.add(action + " " + n.address() + " " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            reply(exchange, 200, out);
        } catch (RuntimeException e) {
            calls.add(action + " " + q.get("node") + " FAILED: " + e.getMessage());
            reply(exchange, 500, e.toString());
        }
    }

    private static Map<String, String> query(URI uri) {
        Map<String, String> m = new HashMap<>();
        String q = uri.getQuery();
        if (q != null) {
            for (String kv : q.split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    m.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
        }
        return m;
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] b = (body + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, b.length);
        exchange.getResponseBody().write(b);
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
