package dev.ballast.it.bench;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.ReplicaGroupBed;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.TableRule;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The route benchmark: raw HikariCP + Connector/J, plain ShardingSphere-JDBC and Ballast, side by side in one JVM
 * against real MariaDB servers that it starts (and stops) itself on 127.0.0.1.
 *
 * <p>Raw talks to one standalone server holding {@code t_bench} unsharded; plain ShardingSphere and Ballast share
 * 2 groups x (master + 1 replica) holding it as 2 x 2 hash-mod shards on {@code user_id}, with the same rules. All
 * three preload the same rows. After a warm-up, each round runs every (workload, threads, contender) for a fixed
 * time, rotating the contenders' order from round to round, so that machine noise falls on all of them alike.
 * Then child JVMs measure data source start-up with a config of many tables, and live heap under load.
 *
 * <p>Not measured: what happens under failures, replica lag, scatter-gather queries, or connection borrowing per
 * operation (each worker holds one connection for a phase). The servers run on the same machine as the load, so a
 * contender that burns more client CPU also leaves less for MariaDB.
 */
public final class RouteBenchmark {

    static final String USAGE = """
            usage: bin/bench [--quick] [--out FILE] [--rounds N] [--seconds S] [--warmup S] [--rows N]
                             [--tables N] [--budget-minutes M] [--no-probes] [--semi-sync]
              --quick           smoke run, about 2-3 minutes (1 round of 1.5 s per cell, short warm-up)
              --out FILE        also write the Markdown report to FILE
              --rounds N        measured rounds (default 3, quick 1)
              --seconds S       length of one measured phase, s (default 3, quick 1.5)
              --warmup S        warm-up per (workload, threads, contender), s (default 2.5, quick 0.5)
              --rows N          preloaded rows, 1..1000000 (default 10000)
              --tables N        logical tables in the start-up config, 1..100000 (default 10000)
              --budget-minutes  hard limit for the whole run; phases that do not fit are skipped (default 16, quick 5)
              --no-probes       skip the start-up and heap measurements (child JVMs)
              --semi-sync       keep semi-sync replication on the group masters (off by default, see the report)""";

    static final List<Integer> THREADS = List.of(1, 4);
    static final List<Workload> WORKLOADS = List.of(Workload.SELECT_PREPARE_EACH, Workload.SELECT_REUSED,
            Workload.INSERT_PREPARE_EACH, Workload.INSERT_REUSED);
    static final String BENCH_TABLES = """
            tables:
              t_bench:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
            """;
    private static final long START = System.nanoTime();

    record Options(boolean quick, Path out, int rounds, double phaseSeconds, double warmupSeconds, int rows,
                   int startupTables, Duration startupTimeout, long heapMillisPerWorkload, List<String> heapContenders,
                   Duration budget, boolean probes, boolean semiSync) {

        static Options parse(String[] args) {
            boolean quick = Arrays.asList(args).contains("--quick");
            Path out = null;
            int rounds = quick ? 1 : 3;
            double seconds = quick ? 1.5 : 3;
            double warmup = quick ? 0.5 : 2.5;
            int rows = 10_000;
            int tables = 10_000;
            double budgetMinutes = quick ? 5 : 16;
            boolean probes = true;
            boolean semiSync = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--quick" -> { }
                    case "--no-probes" -> probes = false;
                    case "--semi-sync" -> semiSync = true;
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--rounds" -> rounds = whole(args, ++i, a, 1, 100);
                    case "--seconds" -> seconds = number(args, ++i, a, 0.1, 600);
                    case "--warmup" -> warmup = number(args, ++i, a, 0, 600);
                    case "--rows" -> rows = whole(args, ++i, a, 1, 1_000_000);
                    case "--tables" -> tables = whole(args, ++i, a, 1, 100_000);
                    case "--budget-minutes" -> budgetMinutes = number(args, ++i, a, 1, 600);
                    case "-h", "--help" -> throw new IllegalArgumentException("");
                    default -> throw new IllegalArgumentException("unknown option '" + a + "'");
                }
            }
            List<String> heapContenders = quick ? List.of(Contender.RAW, Contender.BALLAST)
                    : List.of(Contender.RAW, Contender.PLAIN, Contender.BALLAST);
            return new Options(quick, out, rounds, seconds, warmup, rows, tables,
                    Duration.ofSeconds(quick ? 20 : 120), quick ? 300 : 1_500, heapContenders,
                    Duration.ofSeconds(Math.round(budgetMinutes * 60)), probes, semiSync);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        private static double number(String[] args, int i, String option, double min, double max) {
            String text = value(args, i, option);
            double v;
            try {
                v = Double.parseDouble(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + text + "' is not a number");
            }
            if (!(v >= min && v <= max)) {
                throw new IllegalArgumentException(option + ": " + text + " is not in " + plain(min) + ".." + plain(max));
            }
            return v;
        }

        private static int whole(String[] args, int i, String option, int min, int max) {
            double v = number(args, i, option, min, max);
            if (v != Math.rint(v)) {
                throw new IllegalArgumentException(option + ": " + args[i] + " is not a whole number");
            }
            return (int) v;
        }

        private static String plain(double v) {
            return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
        }
    }

    private final Options options;
    private final long deadline;
    private final List<String> notes = new ArrayList<>();

    private RouteBenchmark(Options options) {
        this.options = options;
        this.deadline = START + options.budget().toNanos();
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--probe")) {
            Probes.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().isEmpty()) {
                System.err.println("bench: " + e.getMessage());
            }
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        int code;
        try {
            code = new RouteBenchmark(options).run();
        } catch (Exception | Error e) {
            progress("the benchmark failed: " + e);
            e.printStackTrace();
            code = 1;
        }
        // HikariCP and ShardingSphere threads must not keep the JVM alive after the report
        System.exit(code);
    }

    static void progress(String message) {
        System.err.printf(Locale.ROOT, "[bench %4.0f s] %s%n", (System.nanoTime() - START) / 1e9, message);
    }

    private double secondsLeft() {
        return (deadline - System.nanoTime()) / 1e9;
    }

    private int run() throws Exception {
        Path work = Files.createTempDirectory("ballast-bench-");
        progress("starting the test bed: 2 groups x (master + 1 replica) and 1 standalone server; work dir " + work);
        try (TestBed bed = TestBed.start(TestBed.Spec.of(2, 1).withStandalones(1))) {
            MariaDbNode rawServer = bed.standalones().get(0);
            List<String> groupNames = bed.groups().stream().map(ReplicaGroupBed::name).toList();
            String benchYaml = clusterYaml(bed).with(BENCH_TABLES).text();
            Path benchConfigFile = Files.writeString(work.resolve("bench.yaml"), benchYaml);
            ClusterConfig config = ClusterConfigLoader.parse(benchYaml, System::getenv);
            createTables(bed, config, rawServer);
            if (!options.semiSync()) {
                // With semi-sync every commit on a group master waits for its replica's ack, a cost the standalone raw
                // server does not pay: the insert comparison would measure replication, not the driver.
                for (ReplicaGroupBed group : bed.groups()) {
                    group.master().execute("SET GLOBAL rpl_semi_sync_master_enabled = OFF");
                }
            }

            Report report = new Report(WORKLOADS, THREADS,
                    List.of(Contender.RAW, Contender.RAW_REPLICATED, Contender.RAW_SHARDED, Contender.PLAIN, Contender.BALLAST));
            NodeAddress rawAddress = NodeAddress.parse(rawServer.address());
            ServerCpu serverCpu = new ServerCpu(bed.nodes());
            String serverVersion = rawServer.query("SELECT VERSION() AS v").get(0).get("v");
            progress("building the contenders");
            List<Contender> contenders = new ArrayList<>();
            try {
                contenders.add(Contender.raw(config, rawAddress, 1_000_000_000_000L));
                contenders.add(Contender.plainShardingSphere(config, 2_000_000_000_000L));
                contenders.add(Contender.ballast(config, 3_000_000_000_000L));
                ReplicaGroupBed g0 = bed.groups().get(0);
                contenders.add(Contender.rawReplicated(config, NodeAddress.parse(g0.master().address()),
                        NodeAddress.parse(g0.replicas().get(0).address()), 4_000_000_000_000L));
                contenders.add(Contender.rawSharded(config, benchTable(config).dataNodes(), 5_000_000_000_000L));
                preload(bed, config, rawServer, contenders.get(1));
                measure(bed, contenders, report, serverCpu);
            } finally {
                contenders.forEach(Contender::close);
            }

            List<Probes.Answer> startup = new ArrayList<>();
            List<Probes.Answer> heap = new ArrayList<>();
            if (options.probes()) {
                // heap first: it is quick and bounded, while start-up with many tables may use all of its time
                probeHeap(benchConfigFile, rawAddress, work, heap);
                Path startupConfig = Files.writeString(work.resolve("startup.yaml"),
                        clusterYaml(bed).with(Probes.manyTables(options.startupTables(), groupNames)).text());
                probeStartup(startupConfig, work, startup);
            }
            String markdown = markdown(report, startup, heap, serverVersion);
            System.out.println(markdown);
            if (options.out() != null) {
                Path out = options.out().toAbsolutePath();
                Files.createDirectories(out.getParent());
                Files.writeString(out, markdown);
                progress("report written to " + out);
            }
            // a probe that runs out of time is a result; errors, stuck or skipped phases mean the run itself failed
            boolean clean = report.problems().isEmpty() && notes.isEmpty();
            boolean probesOk = startup.stream().allMatch(Probes.Answer::ok) && heap.stream().allMatch(Probes.Answer::ok);
            if (clean && probesOk) {
                deleteQuietly(work);
            } else {
                progress("child JVM logs are kept in " + work);
            }
            return clean ? 0 : 1;
        }
    }

    private static ClusterYaml clusterYaml(TestBed bed) {
        ClusterYaml yaml = ClusterYaml.forBed("bench", bed);
        return yaml;
    }

    // ---- schema and data ---------------------------------------------------------------------------

    /** Physical tables exist before any ShardingSphere data source is built, so both load their metadata alike. */
    private static void createTables(TestBed bed, ClusterConfig config, MariaDbNode rawServer) throws SQLException {
        try (Connection c = rawServer.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.execute(String.format(Workload.CREATE, Workload.TABLE));
        }
        // raw-repl's unsharded copy on the first group (the shards there are named t_bench_<i>).
        try (Connection c = bed.groups().get(0).master().connect(TestBed.DATABASE); Statement s = c.createStatement()) {
            s.execute(String.format(Workload.CREATE, Workload.TABLE));
        }
        for (DataNode node : benchTable(config).dataNodes()) {
            try (Connection c = group(bed, node.group()).master().connect(TestBed.DATABASE);
                 Statement s = c.createStatement()) {
                s.execute(String.format(Workload.CREATE, node.table()));
            }
        }
        bed.awaitReplication();
    }

    private static TableRule benchTable(ClusterConfig config) {
        return config.table(Workload.TABLE).orElseThrow(() ->
                new IllegalStateException("the benchmark config has no " + Workload.TABLE));
    }

    private static ReplicaGroupBed group(TestBed bed, String name) {
        return bed.groups().stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no test bed group '" + name + "'"));
    }

    /**
     * Users 1..rows, one row each: on the raw server directly, on the shards through plain ShardingSphere (the
     * reference for routing). Then checks that every shard got rows and that the replicas hold all of them.
     */
    private void preload(TestBed bed, ClusterConfig config, MariaDbNode rawServer, Contender sharded) throws SQLException {
        progress("preloading " + options.rows() + " rows");
        try (Connection c = rawServer.connect(TestBed.DATABASE)) {
            insertRows(c);
        }
        try (Connection c = bed.groups().get(0).master().connect(TestBed.DATABASE)) {
            insertRows(c);
        }
        try (Connection c = sharded.dataSource().getConnection()) {
            insertRows(c);
        }
        bed.awaitReplication();
        long onMasters = 0;
        long onReplicas = 0;
        for (DataNode node : benchTable(config).dataNodes()) {
            ReplicaGroupBed group = group(bed, node.group());
            long n = count(group.master(), node.table());
            if (n == 0 && options.rows() >= 100) {
                throw new IllegalStateException("shard " + node + " got no rows: hash-mod routing is off");
            }
            onMasters += n;
            for (MariaDbNode replica : group.replicas()) {
                onReplicas += count(replica, node.table());
            }
        }
        long onRaw = count(rawServer, Workload.TABLE);
        long onRawReplica = count(bed.groups().get(0).replicas().get(0), Workload.TABLE);
        if (onMasters != options.rows() || onRaw != options.rows() || onReplicas != options.rows()
                || onRawReplica != options.rows()) {
            throw new IllegalStateException("preload: expected " + options.rows() + " rows, found " + onRaw
                    + " on the raw server, " + onMasters + " on the shard masters, " + onReplicas + " on their replicas, "
                    + onRawReplica + " on raw-repl's replica");
        }
    }

    private void insertRows(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(Workload.INSERT)) {
            for (int id = 1; id <= options.rows(); id++) {
                ps.setLong(1, id);
                ps.setInt(2, id);
                ps.setString(3, Workload.PAD);
                ps.addBatch();
                if (id % 500 == 0 || id == options.rows()) {
                    ps.executeBatch();
                }
            }
        }
    }

    private static long count(MariaDbNode node, String table) throws SQLException {
        try (Connection c = node.connect(TestBed.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- the measured rounds -------------------------------------------------------------------------

    private void measure(TestBed bed, List<Contender> contenders, Report report, ServerCpu serverCpu)
            throws InterruptedException {
        int cells = WORKLOADS.size() * THREADS.size() * contenders.size();
        double reserve = probeReserveSeconds();
        progress(String.format(Locale.ROOT, "warm-up: %d cells x %.1f s", cells, options.warmupSeconds()));
        if (options.warmupSeconds() > 0) {
            for (Workload w : WORKLOADS) {
                for (int t : THREADS) {
                    for (Contender c : contenders) {
                        if (secondsLeft() < options.warmupSeconds() + reserve) {
                            notes.add("warm-up cut short by the time budget");
                            break;
                        }
                        Phase.Result r = phase(bed, c, w, t, options.warmupSeconds(), serverCpu);
                        if (r.failure() != null || r.errors() > 0) {
                            notes.add("warm-up " + w.label() + " x" + t + " " + c.name() + ": "
                                    + (r.failure() != null ? r.failure() : r.errors() + " errors, first: " + r.firstError()));
                        }
                        if (r.stuck()) {
                            return;
                        }
                    }
                }
            }
        }
        for (int round = 0; round < options.rounds(); round++) {
            progress(String.format(Locale.ROOT, "round %d/%d: %d cells x %.1f s", round + 1, options.rounds(), cells,
                    options.phaseSeconds()));
            for (Workload w : WORKLOADS) {
                for (int t : THREADS) {
                    for (int i = 0; i < contenders.size(); i++) {
                        Contender c = contenders.get((i + round) % contenders.size());
                        if (secondsLeft() < options.phaseSeconds() + 2 + reserve) {
                            report.skipped(w, t, c.name(), "round " + (round + 1) + " skipped: time budget of "
                                    + options.budget().toMinutes() + " min");
                            continue;
                        }
                        Phase.Result r = phase(bed, c, w, t, options.phaseSeconds(), serverCpu);
                        report.add(r);
                        progress(String.format(Locale.ROOT, "  %-36s x%d %-8s %9s ops/s  p99 %7s µs  %s",
                                w.label(), t, c.name(), Report.grouped(r.opsPerSecond()),
                                Report.micros(r.latency().quantile(0.99) / 1e3),
                                r.failure() != null ? r.failure() : r.errors() > 0 ? r.errors() + " errors" : ""));
                        if (r.stuck()) {
                            notes.add("stopped after a stuck phase: " + w.label() + " x" + t + " " + c.name());
                            return;
                        }
                    }
                }
            }
        }
    }

    /** Time kept for the probes: each heap probe at most {@value #HEAP_PROBE_TIMEOUT_S} s, each start-up probe its timeout. */
    private double probeReserveSeconds() {
        if (!options.probes()) {
            return 5;
        }
        return options.heapContenders().size() * HEAP_PROBE_TIMEOUT_S + 2 * options.startupTimeout().toSeconds() + 10;
    }

    static final int HEAP_PROBE_TIMEOUT_S = 40;

    private Phase.Result phase(TestBed bed, Contender c, Workload w, int threads, double seconds, ServerCpu serverCpu)
            throws InterruptedException {
        // inserts of the previous phase must not be applied on a replica while the next phase reads from it
        bed.awaitReplication();
        return Phase.run(c, w, threads, Duration.ofMillis(Math.round(seconds * 1000)), options.rows(), serverCpu::nanos);
    }

    // ---- child JVM probes -----------------------------------------------------------------------------

    private void probeStartup(Path config, Path work, List<Probes.Answer> answers) {
        for (String contender : List.of(Contender.PLAIN, Contender.BALLAST)) {
            double left = secondsLeft() - 5;
            if (left < 15) {
                notes.add("start-up probe " + contender + " skipped: time budget");
                continue;
            }
            progress("start-up probe: " + contender + " with " + options.startupTables() + " tables");
            Probes.Answer a = Probes.launch(List.of(Probes.STARTUP, contender, config.toString()),
                    Duration.ofSeconds((long) Math.min(left, options.startupTimeout().toSeconds())),
                    work.resolve("startup-" + contender + ".log"));
            answers.add(new Probes.Answer(withName(a, contender), a.failure(), a.wallSeconds()));
            progress("  " + (a.ok() ? a.values() : "FAILED: " + a.failure()));
        }
    }

    private void probeHeap(Path config, NodeAddress raw, Path work, List<Probes.Answer> answers) {
        // above every id base of the measured contenders (1..5 x 10^12): the probes insert into the same tables
        long idBase = 11_000_000_000_000L;
        for (String contender : options.heapContenders()) {
            double left = secondsLeft() - 5;
            if (left < 15) {
                notes.add("heap probe " + contender + " skipped: time budget");
                continue;
            }
            progress("heap probe: " + contender);
            Probes.Answer a = Probes.launch(List.of(Probes.HEAP, contender, config.toString(), raw.toString(),
                            String.valueOf(options.rows()), String.valueOf(options.heapMillisPerWorkload()),
                            String.valueOf(idBase)),
                    Duration.ofSeconds((long) Math.min(left, HEAP_PROBE_TIMEOUT_S)), work.resolve("heap-" + contender + ".log"));
            idBase += 1_000_000_000_000L;
            answers.add(new Probes.Answer(withName(a, contender), a.failure(), a.wallSeconds()));
            progress("  " + (a.ok() ? a.values() : "FAILED: " + a.failure()));
        }
    }

    private static Map<String, String> withName(Probes.Answer a, String contender) {
        Map<String, String> values = new LinkedHashMap<>();
        values.put("contender", contender);
        values.putAll(a.values());
        return values;
    }

    // ---- the report ------------------------------------------------------------------------------------

    private String markdown(Report report, List<Probes.Answer> startup, List<Probes.Answer> heap, String serverVersion) {
        StringBuilder b = new StringBuilder();
        b.append("# Ballast route benchmark").append(options.quick() ? " (quick: smoke check only, not for comparison)" : "")
                .append("\n\n");
        b.append("- When: ").append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 16))
                .append("; machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append("; Java ").append(System.getProperty("java.version")).append(", heap ")
                .append(Runtime.getRuntime().maxMemory() / 1048576).append(" MB max\n");
        b.append("- MariaDB ").append(serverVersion).append(" (test bed, on the same machine); ShardingSphere-JDBC ")
                .append(jarVersion("shardingsphere-jdbc")).append(", HikariCP ").append(jarVersion("HikariCP"))
                .append(", Connector/J ").append(jarVersion("mysql-connector-j")).append('\n');
        b.append("- Contenders: **raw** = HikariCP + Connector/J on one standalone server, `t_bench` unsharded; "
                + "**raw-repl** = the same on the first group, `t_bench` unsharded there: selects on its replica, inserts on "
                + "its master, which replicates them like the shards' masters (server-side like for like); "
                + "**raw-2g** = HikariCP + Connector/J on the sharded servers with the routing written by hand (user_id mod 4 "
                + "picks the table and its group; reads on that group's replica, writes on its master): the sharded "
                + "topology without any middleware; "
                + "**plain-SS** = `ShardingSphereDataSourceFactory` with `ShardingSphereRules.rules(config)` over "
                + "HikariCP pools; **Ballast** = `new BallastDataSource(config)`. Plain-SS and Ballast share 2 groups "
                + "x (master + 1 replica), `t_bench` (index on `user_id`) hash-mod on `user_id` into 2 x 2 tables; reads "
                + "go to replicas. Every pool is built by `NodeDataSource.hikariConfig` (same Connector/J properties). "
                + "Ballast runs with its default read policy.\n");
        b.append(options.semiSync()
                ? "- Semi-sync replication **on** (`--semi-sync`): each insert on a group master waits for its replica's "
                        + "ack, which the standalone raw server does not; insert ratios against raw include that.\n"
                : "- Semi-sync replication switched **off** on the group masters for the run (binlog and asynchronous "
                        + "replication stay on): otherwise insert ratios against raw would mostly measure the replica's "
                        + "ack (`--semi-sync` keeps it on).\n");
        b.append(String.format(Locale.ROOT, "- Method: %d rows preloaded; warm-up %.1f s per cell, then %d round(s) "
                        + "x %.1f s per cell, contenders' order rotated per round; each worker holds one connection "
                        + "per phase. Select = `%s` (one row), insert = `%s`.%n",
                options.rows(), options.warmupSeconds(), options.rounds(), options.phaseSeconds(), Workload.SELECT,
                Workload.INSERT));
        b.append("- JVM CPU µs/op: whole-process CPU time / ops (includes JIT, GC, pool and Ballast background "
                + "threads). Server CPU µs/op: CPU of all test-bed `mariadbd` processes / ops; for plain-SS and Ballast "
                + "it includes the replica applying every insert, on the same CPUs as everything else. "
                + "KB alloc/op: bytes allocated by the worker threads / ops. Round spread: ± half the range of the "
                + "per-round ops/s.\n\n");

        b.append("## Throughput and cost\n\n").append(report.throughputTable()).append('\n');
        b.append("## Ballast relative to raw and to plain ShardingSphere (B/x; ops/s above 1 = Ballast faster, "
                + "cost above 1 = Ballast dearer)\n\n").append(report.ratioTable()).append('\n');

        if (!startup.isEmpty()) {
            b.append("## Start-up with ").append(Probes.mixDescription(options.startupTables())).append("\n\n");
            b.append(String.format(Locale.ROOT, "Fresh JVM per contender (same heap flags), at most %d s each. None of "
                    + "these tables exists on the servers except `t_bench`; both data sources start without them. "
                    + "build = constructing the data source; first query = first `getConnection` + point select; warm = "
                    + "close and build again in the same JVM (only when the first build took under %d s). Retained = "
                    + "live heap with the data source open, minus before parsing. Hot = innermost ShardingSphere frame "
                    + "in stack samples taken during the build.%n%n", options.startupTimeout().toSeconds(),
                    Probes.WARM_BUILD_BELOW_MS / 1000));
            b.append("| contender | parse ms | build ms | first query ms | warm build ms | warm first query ms "
                    + "| retained heap MB | hot during build |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
            for (Probes.Answer a : startup) {
                b.append("| ").append(a.get("contender")).append(" | ");
                if (!a.ok()) {
                    b.append("**failed**: ").append(a.failure()).append(" | | | | | | |\n");
                    continue;
                }
                b.append(a.get("parseMs")).append(" | ").append(a.get("buildMs")).append(" | ")
                        .append(a.get("firstQueryMs")).append(" | ").append(a.get("warmBuildMs")).append(" | ")
                        .append(a.get("warmFirstQueryMs")).append(" | ").append(a.get("retainedMb")).append(" | ")
                        .append(a.get("hot").replace(",", ", ")).append(" |\n");
            }
            b.append('\n');
        }
        if (!heap.isEmpty()) {
            b.append("## Live heap with the benchmark config, after full GCs\n\n");
            b.append(String.format(Locale.ROOT, "Fresh JVM per contender: live heap before building it, then after "
                    + "%d ms of each workload at 4 threads with the data source still open (pools at their size, "
                    + "statement caches filled).%n%n", options.heapMillisPerWorkload()));
            b.append("| contender | live heap growth MB | metaspace growth MB | classes loaded | ops run |\n"
                    + "|---|---:|---:|---:|---:|\n");
            Double raw = null;
            Double ballast = null;
            for (Probes.Answer a : heap) {
                b.append("| ").append(a.get("contender")).append(" | ");
                if (!a.ok()) {
                    b.append("failed: ").append(a.failure()).append(" | | | |\n");
                    continue;
                }
                b.append(a.get("liveMb")).append(" | ").append(a.get("metaspaceMb")).append(" | ")
                        .append(a.get("classes")).append(" | ").append(a.get("ops")).append(" |\n");
                if (a.get("contender").equals(Contender.RAW)) {
                    raw = a.number("liveMb");
                } else if (a.get("contender").equals(Contender.BALLAST)) {
                    ballast = a.number("liveMb");
                }
            }
            if (raw != null && ballast != null) {
                b.append(String.format(Locale.ROOT, "%nBallast - raw: **%+.1f MB** of live heap (Ballast has 4 server "
                        + "pools where raw has 1).%n", ballast - raw));
            }
            b.append('\n');
        }
        List<String> problems = new ArrayList<>(report.problems());
        problems.addAll(notes);
        if (!problems.isEmpty()) {
            b.append("## Problems\n\n");
            problems.forEach(p -> b.append("- ").append(p).append('\n'));
            b.append('\n');
        }
        b.append(String.format(Locale.ROOT, "Run took %.0f s.%n", (System.nanoTime() - START) / 1e9));
        return b.toString();
    }

    /** The version in a jar's file name on the class path, e.g. {@code HikariCP-7.1.0.jar} gives 7.1.0. */
    private static String jarVersion(String artifact) {
        Matcher m = Pattern.compile("(?:^|[/\\\\])" + Pattern.quote(artifact) + "-([0-9][^/\\\\:;]*?)\\.jar")
                .matcher(System.getProperty("java.class.path"));
        return m.find() ? m.group(1) : "?";
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            progress("cannot delete " + dir + ": " + e);
        }
    }

    /**
     * CPU time of the test bed's servers, from {@code /proc/<pid>/stat} (utime + stime, in clock ticks of 10 ms:
     * coarse, but phases last seconds). -1 when a server's pid or the file is not available.
     */
    private static final class ServerCpu {
        private static final long NANOS_PER_TICK = 10_000_000L;
        private final List<MariaDbNode> nodes;

        ServerCpu(List<MariaDbNode> nodes) {
            this.nodes = nodes;
        }

        long nanos() {
            long ticks = 0;
            for (MariaDbNode node : nodes) {
                OptionalLong pid = node.pid();
                if (pid.isEmpty()) {
                    return -1;
                }
                try {
                    String stat = Files.readString(Path.of("/proc", String.valueOf(pid.getAsLong()), "stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    // fields 14 and 15 of stat(5); f[0] is field 3
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                } catch (IOException | RuntimeException e) {
                    return -1;
                }
            }
            return ticks * NANOS_PER_TICK;
        }
    }
}
