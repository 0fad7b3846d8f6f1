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
 * <b>proxy-2g</b> (the proxy over two groups, the table hash-sharded into 4). The proxy runs in this JVM, on the same
 * two cores as every server and sysbench. Prints a Markdown table.
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
        try {
            String[] f = java.nio.file.Files.readString(Path.of("/proc/self/stat")).split("\\) ")[1].split(" ");
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
            measure("direct", contenders.get("direct"), rows, tableSize, seconds);
            for (Map.Entry<String, String> p : proxies.entrySet()) {
                try (ProxyServer proxy = new ProxyServer(ClusterConfigLoader.parse(p.getValue(), System::getenv)).start()) {
                    Sysbench s = new Sysbench("127.0.0.1", proxy.port(), "sb", "sb_pw", bed.database());
                    measure(p.getKey(), s, rows, tableSize, seconds);
                    long[] relay = proxy.relayCounts();
                    System.err.printf("%s: %,d statements relayed, %,d relayable ones took the JDBC path%n", p.getKey(), relay[0], relay[1]);
                }
            }
        }
        String report = report(rows, seconds, tableSize, (System.nanoTime() - started) / 1_000_000_000L);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    private static void measure(String name, Sysbench s, List<Row> rows, int tableSize, int seconds) throws Exception {
        Sysbench.Result prepare = s.run("oltp_read_write", "prepare", 1, tableSize, 4, 300);
        if (prepare.exitCode() != 0) {
            throw new IllegalStateException(name + ": sysbench prepare failed:\n" + prepare.output());
        }
        try {
            // warm-up
            s.run("oltp_point_select", "run", 1, tableSize, 4, Math.max(3, seconds / 4));
            for (Row r : rows) {
                long[] cpu = cpuMicros();
                Sysbench.Result result = s.run(r.test(), "run", 1, tableSize, r.threads(), seconds);
                r.results().put(name, result);
                long[] after = cpuMicros();
                double transactions = Math.max(1.0, result.tps() * seconds);
                r.cpuMicros().put(name, new double[]{(after[0] - cpu[0]) / transactions, (after[1] - cpu[1]) / transactions});
                System.err.printf("%s %s %d threads: %.0f tps, p95 %.2f ms, errors %d%n", name, r.test(), r.threads(),
                        result.tps(), result.p95Ms(), result.errors());
            }
        } finally {
            s.run("oltp_read_write", "cleanup", 1, tableSize, 1, 300);
        }
    }

    static String report(List<Row> rows, int seconds, int tableSize, long totalSeconds) {
        StringBuilder b = new StringBuilder();
        b.append("| sysbench test | threads | tps direct / proxy-1g / proxy-2g | proxy-1g ÷ direct | proxy-2g ÷ direct | p95 ms direct / proxy-1g / proxy-2g | proxy CPU µs per transaction, user + system: 1g / 2g | retried errors (1213/1205) |\n");
        b.append("|---|---:|---|---:|---:|---|---|---|\n");
        for (Row r : rows) {
            Sysbench.Result d = r.results().get("direct");
            Sysbench.Result p1 = r.results().get("proxy-1g");
            Sysbench.Result p2 = r.results().get("proxy-2g");
            double[] c1 = r.cpuMicros().get("proxy-1g");
            double[] c2 = r.cpuMicros().get("proxy-2g");
            b.append(String.format("| %s | %d | %,.0f / %,.0f / %,.0f | %.2f | %.2f | %.2f / %.2f / %.2f | %.0f + %.0f / %.0f + %.0f | %d / %d / %d |%n",
                    r.test(), r.threads(), d.tps(), p1.tps(), p2.tps(), p1.tps() / d.tps(), p2.tps() / d.tps(),
                    d.p95Ms(), p1.p95Ms(), p2.p95Ms(), c1[0], c1[1], c2[0], c2[1],
                    d.errors(), p1.errors(), p2.errors()));
        }
        b.append(String.format("%nsysbench 1.0.20, 1 table of %,d rows, %d s per cell after a warm-up, --db-ps-mode=auto; whole run %d s.%n",
                tableSize, seconds, totalSeconds));
        return b.toString();
    }
}
