package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
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
 * <pre>bin/bench-proxy [--seconds N] [--rounds N] [--table-size N] [--out FILE] [--only CONTENDER,...] [--tests TEST[/THREADS],...]</pre>
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
        int seconds = 10;
        int rounds = 2;
        int tableSize = 10_000;
        Path out = null;
        List<String> only = null; // contenders to run (direct, tcp-forward, proxy-1g, proxy-2g); all when null
        List<String> tests = null; // e.g. oltp_read_write or oltp_read_write/4; all four cells when null
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--table-size" -> tableSize = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--only" -> only = List.of(args[++i].split(","));
                case "--tests" -> tests = List.of(args[++i].split(","));
                default -> {
                    System.err.println("usage: bin/bench-proxy [--seconds N] [--rounds N] [--table-size N] [--out FILE]"
                            + " [--only CONTENDER,...] [--tests TEST[/THREADS],...]");
                    System.exit(2);
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        String[][] runs = {{"oltp_point_select", "4"}, {"oltp_point_select", "16"}, {"oltp_read_write", "4"}, {"oltp_read_write", "16"}};
        for (String[] r : runs) {
            if (tests != null && !tests.contains(r[0]) && !tests.contains(r[0] + "/" + r[1])) {
                continue;
            }
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
            // the monitor user (PROCESS) reads the masters' lock waits for the proxy's deadlock check across groups
            String proxy = "monitor:\n  user: " + dev.ballast.it.testbed.TestBedUsers.MONITOR_USER + "\n  password: "
                    + dev.ballast.it.testbed.TestBedUsers.MONITOR_PASSWORD + "\n" + ClusterYaml.proxySection("sb", "sb_pw", false);
            // the one-group proxy gets its own database: the two-group proxy shards a table of the same name over g0 too
            bed.group(0).master().execute("CREATE DATABASE IF NOT EXISTS bench1g");
            bed.awaitReplication();
            String oneGroup = new ClusterYaml("bench1g", "bench1g", TestBed.APP_USER, TestBed.APP_PASSWORD)
                    .group("g0", bed.group(0).master().address(), bed.group(0).replicas().stream().map(MariaDbNode::address).toList())
                    .with("tables:\n  sbtest1:\n    group: g0\n" + proxy).text();
            String twoGroups = ClusterYaml.forBed("bench2g", bed).with("tables:\n  sbtest1:\n    shardingColumn: id\n"
                    + "    tablesPerGroup: 2\n    algorithm: {type: hash-mod}\n" + proxy).text();
            List<AutoCloseable> running = new ArrayList<>();
            try {
                List<Contender> contenders = new ArrayList<>();
                Sysbench direct = new Sysbench("127.0.0.1", standalone.port(), TestBed.APP_USER, TestBed.APP_PASSWORD, bed.database());
                contenders.add(new Contender("direct", direct, ProxyBenchmark::cpuMicros, true));
                if (TcpForwarder.available()) {
                    forwarder = TcpForwarder.version();
                    TcpForwarder f = TcpForwarder.start(standalone.port(), 2);
                    running.add(f);
                    // the direct server's table: prepared once, through direct
                    contenders.add(new Contender("tcp-forward", new Sysbench("127.0.0.1", f.port(), TestBed.APP_USER,
                            TestBed.APP_PASSWORD, bed.database()), f::cpuMicros, false));
                } else {
                    System.err.println("no haproxy on the PATH: the tcp-forward baseline is left out (apt-get install haproxy)");
                }
                ProxyServer p1 = new ProxyServer(ClusterConfigLoader.parse(oneGroup, System::getenv)).start();
                running.add(p1);
                contenders.add(new Contender("proxy-1g", new Sysbench("127.0.0.1", p1.port(), "sb", "sb_pw", "bench1g"),
                        ProxyBenchmark::cpuMicros, true));
                ProxyServer p2 = new ProxyServer(ClusterConfigLoader.parse(twoGroups, System::getenv)).start();
                running.add(p2);
                contenders.add(new Contender("proxy-2g", new Sysbench("127.0.0.1", p2.port(), "sb", "sb_pw", bed.database()),
                        ProxyBenchmark::cpuMicros, true));
                if (only != null) {
                    List<String> names = only;
                    contenders.removeIf(c -> !names.contains(c.name()));
                    if (contenders.stream().noneMatch(Contender::ownsTable)) {
                        throw new IllegalArgumentException("--only " + only + ": tcp-forward needs direct (it uses its table)");
                    }
                }
                Map<String, ProxyServer> extra = new java.util.LinkedHashMap<>();
                if (only != null && only.contains("proxy-2g-jdbctx")) {
                    // on request only: the two-group proxy with its transactions on the JDBC path, for comparison
                    // on p2's data source, which learns the table when sysbench creates it through p2
                    ProxyServer p3 = new ProxyServer(ClusterConfigLoader.parse(twoGroups.replace("proxy:\n",
                            "proxy:\n  relayShardedTransactions: false\n"), System::getenv), p2.dataSource(), false).start();
                    running.add(p3);
                    extra.put("proxy-2g-jdbctx", p3);
                    contenders.add(new Contender("proxy-2g-jdbctx", new Sysbench("127.0.0.1", p3.port(), "sb", "sb_pw",
                            bed.database()), ProxyBenchmark::cpuMicros, false));
                }
                if (only != null && only.contains("proxy-2g-ssmerge")) {
                    // on request only: the two-group proxy relaying transactions but merging through ShardingSphere
                    ProxyServer p4 = new ProxyServer(ClusterConfigLoader.parse(twoGroups.replace("proxy:\n",
                            "proxy:\n  relayMerge: false\n"), System::getenv), p2.dataSource(), false).start();
                    running.add(p4);
                    extra.put("proxy-2g-ssmerge", p4);
                    contenders.add(new Contender("proxy-2g-ssmerge", new Sysbench("127.0.0.1", p4.port(), "sb", "sb_pw",
                            bed.database()), ProxyBenchmark::cpuMicros, false));
                }
                List<MariaDbNode> writers = new ArrayList<>(bed.standalones());
                bed.groups().forEach(g -> writers.add(g.master()));
                LOCKS = () -> lockCounters(writers);
                measure(contenders, rows, tableSize, seconds, rounds);
                Map<String, ProxyServer> proxies = new java.util.LinkedHashMap<>(Map.of("proxy-1g", p1, "proxy-2g", p2));
                proxies.putAll(extra);
                for (var e : proxies.entrySet()) {
                    long[] relay = e.getValue().relayCounts();
                    System.err.printf("%s: %,d statements relayed, %,d relayable ones took the JDBC path, %,d multi-node SELECTs "
                            + "merged in the proxy, %,d transactions rolled back to end a deadlock across groups%n", e.getKey(),
                            relay[0], relay[1], relay[2], relay[3]);
                }
            } finally {
                for (int k = running.size() - 1; k >= 0; k--) {
                    running.get(k).close();
                }
            }
        }
        long total = (System.nanoTime() - started) / 1_000_000_000L;
        String report = only != null || tests != null ? partialReport(rows, seconds, rounds, total)
                : report(rows, seconds, rounds, tableSize, total, forwarder);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    /** Summed over the servers that take writes: row-lock waits, their ms, the longest one's ms (max), deadlocks. */
    private static java.util.function.Supplier<long[]> LOCKS = () -> new long[4];

    private static long[] lockCounters(List<MariaDbNode> nodes) {
        long[] sum = new long[4];
        for (MariaDbNode n : nodes) {
            Map<String, String> v = new java.util.HashMap<>();
            for (Map<String, String> row : n.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits',"
                    + " 'Innodb_row_lock_time', 'Innodb_row_lock_time_max', 'Innodb_deadlocks')")) {
                v.put(row.get("Variable_name"), row.get("Value"));
            }
            sum[0] += Long.parseLong(v.getOrDefault("Innodb_row_lock_waits", "0"));
            sum[1] += Long.parseLong(v.getOrDefault("Innodb_row_lock_time", "0"));
            sum[2] = Math.max(sum[2], Long.parseLong(v.getOrDefault("Innodb_row_lock_time_max", "0")));
            sum[3] += Long.parseLong(v.getOrDefault("Innodb_deadlocks", "0"));
        }
        return sum;
    }

    /** One way of reaching the data: its sysbench, the CPU clock of the process that relays (or none), whether it
     * prepares its own table. */
    record Contender(String name, Sysbench sysbench, java.util.function.Supplier<long[]> cpu, boolean ownsTable) {
    }

    /**
     * Prepares every contender's table, warms each up, then runs {@code rounds} rounds: in each, every row's test
     * through every contender, the order rotated from cell to cell so that the machine's drift does not favour one.
     * A row's figure per contender is the mean over the rounds (tps, p95), errors summed, CPU per transaction over all.
     */
    private static void measure(List<Contender> contenders, List<Row> rows, int tableSize, int seconds, int rounds)
            throws Exception {
        List<Contender> prepared = new ArrayList<>();
        try {
            for (Contender c : contenders) {
                if (c.ownsTable()) {
                    Sysbench.Result prepare = c.sysbench().run("oltp_read_write", "prepare", 1, tableSize, 4, 300);
                    if (prepare.exitCode() != 0) {
                        throw new IllegalStateException(c.name() + ": sysbench prepare failed:\n" + prepare.output());
                    }
                    prepared.add(c);
                }
            }
            for (Contender c : contenders) {
                // warm-up of every test's code paths (the JIT compiles the proxy's merge during the first
                // oltp_read_write otherwise, and that cell pays for it)
                c.sysbench().run("oltp_point_select", "run", 1, tableSize, 4, Math.max(3, seconds / 2));
                c.sysbench().run("oltp_read_write", "run", 1, tableSize, 4, Math.max(3, seconds / 2));
            }
            Map<String, List<Sysbench.Result>> results = new LinkedHashMap<>();
            Map<String, double[]> cpu = new LinkedHashMap<>(); // user µs, system µs, transactions
            int cell = 0;
            for (int round = 1; round <= rounds; round++) {
                for (Row r : rows) {
                    for (int k = 0; k < contenders.size(); k++) {
                        // rotated per cell and shifted per round, so that no contender always follows the same one
                        Contender c = contenders.get((k + cell + round - 1) % contenders.size());
                        long[] before = c.cpu().get();
                        long[] locksBefore = LOCKS.get();
                        Sysbench.Result result = c.sysbench().run(r.test(), "run", 1, tableSize, r.threads(), seconds);
                        long[] after = c.cpu().get();
                        long[] locksAfter = LOCKS.get();
                        String key = r.test() + "/" + r.threads() + "/" + c.name();
                        results.computeIfAbsent(key, x -> new ArrayList<>()).add(result);
                        double[] t = cpu.computeIfAbsent(key, x -> new double[3]);
                        if (result.tps() >= 0) { // a failed run's CPU is left out with its transactions
                            t[0] += after[0] - before[0];
                            t[1] += after[1] - before[1];
                            t[2] += result.tps() * seconds;
                        }
                        System.err.printf("round %d: %s %s %d threads: %.0f tps, p95 %.2f ms, errors %d; servers: row-lock waits %d"
                                        + " (%,d ms in all, longest so far %,d ms), deadlocks %d%n", round, c.name(), r.test(),
                                r.threads(), result.tps(), result.p95Ms(), result.errors(), locksAfter[0] - locksBefore[0],
                                locksAfter[1] - locksBefore[1], locksAfter[2], locksAfter[3] - locksBefore[3]);
                        if (result.tps() < 0) {
                            System.err.println(c.name() + ": sysbench failed:\n" + result.output());
                        }
                    }
                    cell++;
                }
            }
            for (Row r : rows) {
                for (Contender c : contenders) {
                    String key = r.test() + "/" + r.threads() + "/" + c.name();
                    List<Sysbench.Result> runs = results.get(key);
                    // a run that failed (sysbench ended with an error) counts as failed, not as -1 tps in the mean
                    List<Sysbench.Result> all = runs.stream().filter(x -> x.tps() >= 0).toList();
                    FAILED_RUNS.put(key, runs.size() - all.size());
                    double tps = all.stream().mapToDouble(Sysbench.Result::tps).average().orElse(0);
                    double qps = all.stream().mapToDouble(Sysbench.Result::qps).average().orElse(0);
                    double p95 = all.stream().mapToDouble(Sysbench.Result::p95Ms).average().orElse(0);
                    long errors = all.stream().mapToLong(Sysbench.Result::errors).sum();
                    long reconnects = all.stream().mapToLong(Sysbench.Result::reconnects).sum();
                    r.results().put(c.name(), new Sysbench.Result(0, "", tps, qps, p95, errors, reconnects));
                    double[] t = cpu.get(key);
                    double transactions = Math.max(1.0, t[2]);
                    r.cpuMicros().put(c.name(), new double[]{t[0] / transactions, t[1] / transactions});
                }
            }
        } finally {
            for (Contender c : prepared) {
                c.sysbench().run("oltp_read_write", "cleanup", 1, tableSize, 1, 300);
            }
        }
    }

    /** A cell per line, for runs of some contenders or tests only (no ratios: the baselines may be missing). */
    /** Runs of a cell (test/threads/contender) that failed, left out of its means. */
    static final Map<String, Integer> FAILED_RUNS = new java.util.concurrent.ConcurrentHashMap<>();

    static String partialReport(List<Row> rows, int seconds, int rounds, long totalSeconds) {
        StringBuilder b = new StringBuilder("| sysbench test | threads | contender | tps | p95 ms | CPU µs per transaction, user + system | errors | failed runs |\n"
                + "|---|---:|---|---:|---:|---|---:|---:|\n");
        for (Row r : rows) {
            for (var e : r.results().entrySet()) {
                double[] c = r.cpuMicros().get(e.getKey());
                b.append(String.format("| %s | %d | %s | %,.0f | %.2f | %.0f + %.0f | %d | %d of %d |%n", r.test(), r.threads(), e.getKey(),
                        e.getValue().tps(), e.getValue().p95Ms(), c[0], c[1], e.getValue().errors(),
                        FAILED_RUNS.getOrDefault(r.test() + "/" + r.threads() + "/" + e.getKey(), 0), rounds));
            }
        }
        b.append(String.format("%n%d rounds of %d s per cell; whole run %d s.%n", rounds, seconds, totalSeconds));
        return b.toString();
    }

    static String report(List<Row> rows, int seconds, int rounds, int tableSize, long totalSeconds, String forwarder) {
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
        b.append(String.format("%nsysbench 1.0.20, 1 table of %,d rows, --db-ps-mode=auto; %d rounds of %d s per cell after a "
                + "warm-up, contenders rotated from cell to cell, figures the mean over the rounds; whole run %d s",
                tableSize, rounds, seconds, totalSeconds));
        b.append(fwd ? "; tcp-forward = " + forwarder + ", mode tcp, 2 threads, in front of the direct server.\n" : ".\n");
        return b.toString();
    }
}
