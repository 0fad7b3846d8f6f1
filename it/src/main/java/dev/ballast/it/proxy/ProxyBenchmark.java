package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.Auth;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * sysbench through the Ballast proxy, side by side with sysbench directly against one MariaDB master, in one run:
 * {@code oltp_point_select} and {@code oltp_read_write} at 4 and 16 threads. Contenders: <b>direct</b> (one standalone
 * MariaDB), <b>proxy-1g</b> (the proxy over one group = master + replica, table unsharded, reads on the replica),
 * <b>proxy-2g</b> (the proxy over two groups, the table hash-sharded into 4); and, when {@code haproxy} is installed,
 * <b>tcp-forward</b>: HAProxy in TCP mode in front of the direct server, a forwarder that parses nothing, which shows
 * what the extra network hop alone costs here. The proxy runs in this JVM, on the same two cores as every server and
 * sysbench. Prints a Markdown table.
 *
 * <pre>bin/bench-proxy [--seconds N] [--table-size N] [--out FILE]</pre>
 */
public final class ProxyBenchmark {

    private ProxyBenchmark() {
    }

    record Row(String test, int threads, Map<String, Sysbench.Result> results, Map<String, double[]> cpuMicros) {
    }

    /** This JVM's user and system CPU time so far, in microseconds (from /proc; the proxy runs in this JVM). */
    static long[] cpuMicros() {
        return cpuMicros(Path.of("/proc/self/stat"));
    }

    /** User and system CPU time so far of the process whose {@code /proc/<pid>/stat} is given, in microseconds. */
    static long[] cpuMicros(Path procStat) {
        try {
            String[] f = java.nio.file.Files.readString(procStat).split("\\) ")[1].split(" ");
            return new long[]{Long.parseLong(f[11]) * 10_000L, Long.parseLong(f[12]) * 10_000L}; // clock ticks of 10 ms
        } catch (java.io.IOException | RuntimeException e) {
            return new long[]{-1, -1};
        }
    }

    public static void main(String[] args) throws Exception {
        int seconds = 20;
        int tableSize = 10_000;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--table-size" -> tableSize = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: bin/bench-proxy [--seconds N] [--table-size N] [--out FILE]");
                    System.exit(2);
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        String[][] runs = {{"oltp_point_select", "4"}, {"oltp_point_select", "16"}, {"oltp_read_write", "4"}, {"oltp_read_write", "16"}};
        for (String[] r : runs) {
            rows.add(new Row(r[0], Integer.parseInt(r[1]), new LinkedHashMap<>(), new LinkedHashMap<>()));
        }
        long started = System.nanoTime();
        String forwarder = null;
        try (TestBed bed = TestBed.start(TestBed.Spec.of(2, 1).withStandalones(1))) {
            MariaDbNode standalone = bed.standalones().get(0);
            // semi-sync off on the masters: sysbench's commits would otherwise measure the replica's acknowledgement,
            // which the direct baseline does not pay
            for (var g : bed.groups()) {
                g.master().execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
            }
            Map<String, Sysbench> contenders = new LinkedHashMap<>();
            contenders.put("direct", new Sysbench("127.0.0.1", standalone.port(), TestBed.APP_USER, TestBed.APP_PASSWORD, bed.database()));
            String users = "  users:\n    sb:\n      nativeHash: \"" + Auth.nativeHash("sb_pw") + "\"\n";
            String oneGroup = new ClusterYaml("bench1g", bed.database(), TestBed.APP_USER, TestBed.APP_PASSWORD)
                    .group("g0", bed.group(0).master().address(), bed.group(0).replicas().stream().map(MariaDbNode::address).toList())
                    .with("tables:\n  sbtest1:\n    group: g0\nproxy:\n  listen: 127.0.0.1:0\n  health: off\n" + users).text();
            String twoGroups = ClusterYaml.forBed("bench2g", bed).with("tables:\n  sbtest1:\n    shardingColumn: id\n"
                    + "    tablesPerGroup: 2\n    algorithm: {type: hash-mod}\nproxy:\n  listen: 127.0.0.1:0\n  health: off\n" + users).text();
            Map<String, String> proxies = new LinkedHashMap<>();
            proxies.put("proxy-1g", oneGroup);
            proxies.put("proxy-2g", twoGroups);
            measure("direct", contenders.get("direct"), rows, tableSize, seconds, ProxyBenchmark::cpuMicros);
            if (TcpForwarder.available()) {
                forwarder = TcpForwarder.version();
                try (TcpForwarder f = TcpForwarder.start(standalone.port(), 2)) {
                    Sysbench s = new Sysbench("127.0.0.1", f.port(), TestBed.APP_USER, TestBed.APP_PASSWORD, bed.database());
                    measure("tcp-forward", s, rows, tableSize, seconds, f::cpuMicros);
                }
            } else {
                System.err.println("no haproxy on the PATH: the tcp-forward baseline is left out (apt-get install haproxy)");
            }
            for (Map.Entry<String, String> p : proxies.entrySet()) {
                try (ProxyServer proxy = new ProxyServer(ClusterConfigLoader.parse(p.getValue(), System::getenv)).start()) {
                    Sysbench s = new Sysbench("127.0.0.1", proxy.port(), "sb", "sb_pw", bed.database());
                    measure(p.getKey(), s, rows, tableSize, seconds, ProxyBenchmark::cpuMicros);
                    long[] relay = proxy.relayCounts();
                    System.err.printf("%s: %,d statements relayed, %,d relayable ones took the JDBC path%n", p.getKey(), relay[0], relay[1]);
                }
            }
        }
        String report = report(rows, seconds, tableSize, (System.nanoTime() - started) / 1_000_000_000L, forwarder);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    /** Runs every row's test through {@code s}; {@code cpu} reads the CPU time of the process in between (or -1). */
    private static void measure(String name, Sysbench s, List<Row> rows, int tableSize, int seconds,
                                java.util.function.Supplier<long[]> cpu) throws Exception {
        Sysbench.Result prepare = s.run("oltp_read_write", "prepare", 1, tableSize, 4, 300);
        if (prepare.exitCode() != 0) {
            throw new IllegalStateException(name + ": sysbench prepare failed:\n" + prepare.output());
        }
        try {
            // warm-up
            s.run("oltp_point_select", "run", 1, tableSize, 4, Math.max(3, seconds / 4));
            for (Row r : rows) {
                long[] before = cpu.get();
                Sysbench.Result result = s.run(r.test(), "run", 1, tableSize, r.threads(), seconds);
                r.results().put(name, result);
                long[] after = cpu.get();
                double transactions = Math.max(1.0, result.tps() * seconds);
                r.cpuMicros().put(name, new double[]{(after[0] - before[0]) / transactions, (after[1] - before[1]) / transactions});
                System.err.printf("%s %s %d threads: %.0f tps, p95 %.2f ms, errors %d%n", name, r.test(), r.threads(),
                        result.tps(), result.p95Ms(), result.errors());
            }
        } finally {
            s.run("oltp_read_write", "cleanup", 1, tableSize, 1, 300);
        }
    }

    static String report(List<Row> rows, int seconds, int tableSize, long totalSeconds, String forwarder) {
        StringBuilder b = new StringBuilder();
        boolean fwd = forwarder != null;
        b.append("| sysbench test | threads | tps direct / ").append(fwd ? "tcp-forward / " : "")
                .append("proxy-1g / proxy-2g | ").append(fwd ? "tcp-forward ÷ direct | " : "")
                .append("proxy-1g ÷ direct | proxy-2g ÷ direct | p95 ms direct / ").append(fwd ? "tcp-forward / " : "")
                .append("proxy-1g / proxy-2g | CPU µs per transaction, user + system: ").append(fwd ? "tcp-forward / " : "")
                .append("proxy 1g / 2g | retried errors (1213/1205) |\n");
        b.append(fwd ? "|---|---:|---|---:|---:|---:|---|---|---|\n" : "|---|---:|---|---:|---:|---|---|---|\n");
        List<String> names = fwd ? List.of("direct", "tcp-forward", "proxy-1g", "proxy-2g") : List.of("direct", "proxy-1g", "proxy-2g");
        for (Row r : rows) {
            Sysbench.Result d = r.results().get("direct");
            StringBuilder tps = new StringBuilder();
            StringBuilder ratios = new StringBuilder();
            StringBuilder p95 = new StringBuilder();
            StringBuilder cpu = new StringBuilder();
            StringBuilder errors = new StringBuilder();
            for (String n : names) {
                Sysbench.Result x = r.results().get(n);
                String sep = n.equals("direct") ? "" : " / ";
                tps.append(sep).append(String.format("%,.0f", x.tps()));
                p95.append(sep).append(String.format("%.2f", x.p95Ms()));
                errors.append(sep).append(x.errors());
                if (!n.equals("direct")) {
                    ratios.append(String.format(" %.2f |", x.tps() / d.tps()));
                    double[] c = r.cpuMicros().get(n);
                    cpu.append(cpu.length() == 0 ? "" : " / ").append(String.format("%.0f + %.0f", c[0], c[1]));
                }
            }
            b.append(String.format("| %s | %d | %s |%s %s | %s | %s |%n", r.test(), r.threads(), tps, ratios, p95, cpu, errors));
        }
        b.append(String.format("%nsysbench 1.0.20, 1 table of %,d rows, %d s per cell after a warm-up, --db-ps-mode=auto; whole run %d s",
                tableSize, seconds, totalSeconds));
        b.append(fwd ? "; tcp-forward = " + forwarder + ", mode tcp, 2 threads, in front of the direct server.\n" : ".\n");
        return b.toString();
    }
}
