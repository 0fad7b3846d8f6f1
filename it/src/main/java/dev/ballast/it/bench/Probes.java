package dev.ballast.it.bench;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.NodeAddress;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Measurements that need a fresh JVM each: start-up of a data source (class loading and JIT included, as an
 * application pays it) and the live heap of a data source under load. The benchmark launches this class's
 * {@link #main} in a child JVM with its own heap flags and reads the {@code RESULT key=value ...} line it prints.
 */
final class Probes {

    static final String STARTUP = "startup";
    static final String HEAP = "heap";

    private Probes() {
    }

    /** A probe's answer: its key/value pairs, or why there is none. */
    record Answer(Map<String, String> values, String failure, double wallSeconds) {
        String get(String key) {
            return values.getOrDefault(key, "?");
        }

        double number(String key) {
            return Double.parseDouble(values.get(key));
        }

        boolean ok() {
            return failure == null;
        }
    }

    // ---- launching -------------------------------------------------------------------------------

    static Answer launch(List<String> probeArgs, Duration timeout, Path log) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (flag.startsWith("-X")) {
                command.add(flag);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(RouteBenchmark.class.getName());
        command.add("--probe");
        command.addAll(probeArgs);
        long t0 = System.nanoTime();
        Process process;
        try {
            Path out = Files.createTempFile(log.getParent(), "probe", ".out");
            process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(log.toFile()).start();
            Thread killer = new Thread(process::destroyForcibly);
            Runtime.getRuntime().addShutdownHook(killer);
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    String last = Files.readAllLines(out).stream().filter(l -> l.startsWith("PROGRESS "))
                            .reduce((a, b) -> b).map(l -> "; last progress: " + l.substring(9)).orElse("");
                    return new Answer(Map.of(), "did not finish within " + timeout.toSeconds() + " s" + last,
                            seconds(t0));
                }
            } finally {
                Runtime.getRuntime().removeShutdownHook(killer);
            }
            for (String line : Files.readAllLines(out)) {
                if (line.startsWith("RESULT ")) {
                    return new Answer(parse(line.substring(7)), null, seconds(t0));
                }
                if (line.startsWith("FAILED ")) {
                    return new Answer(Map.of(), line.substring(7), seconds(t0));
                }
            }
            return new Answer(Map.of(), "exit code " + process.exitValue() + ", no result; see " + log + ": "
                    + lastLines(log, 3), seconds(t0));
        } catch (IOException e) {
            return new Answer(Map.of(), "cannot run " + command.get(0) + ": " + e, seconds(t0));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(Map.of(), "interrupted", seconds(t0));
        }
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : text.trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                values.put(pair.substring(0, eq), pair.substring(eq + 1));
            }
        }
        return values;
    }

    private static String lastLines(Path file, int n) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    // ---- the start-up config ------------------------------------------------------------------------

    /**
     * {@code tables:} YAML with {@code n} logical tables: {@code t_bench} (so the first query has a real table) and
     * a mix of the others: 70 % sharded over both groups, 10 % sharded with 2 tables per group, 15 % placed whole on
     * one group, 5 % broadcast. None of them exists on the servers.
     */
    static String manyTables(int n, List<String> groups) {
        StringBuilder b = new StringBuilder("tables:\n");
        b.append("  t_bench: {shardingColumn: user_id, tablesPerGroup: 2, algorithm: {type: hash-mod}}\n");
        for (int i = 1; i < n; i++) {
            String name = String.format(Locale.ROOT, "t_%05d", i);
            int kind = i % 20;
            b.append("  ").append(name).append(": ");
            if (kind == 0) {
                b.append("{broadcast: true}");
            } else if (kind <= 3) {
                b.append("{group: ").append(groups.get(i % groups.size())).append('}');
            } else if (kind <= 5) {
                b.append("{shardingColumn: k, tablesPerGroup: 2, algorithm: {type: hash-mod}}");
            } else {
                b.append("{shardingColumn: k, algorithm: {type: hash-mod}}");
            }
            b.append('\n');
        }
        return b.toString();
    }

    static String mixDescription(int n) {
        int broadcast = 0;
        int placed = 0;
        int twoPerGroup = 1;
        int onePerGroup = 0;
        for (int i = 1; i < n; i++) {
            int kind = i % 20;
            if (kind == 0) {
                broadcast++;
            } else if (kind <= 3) {
                placed++;
            } else if (kind <= 5) {
                twoPerGroup++;
            } else {
                onePerGroup++;
            }
        }
        return String.format(Locale.ROOT, "%d logical tables: %d sharded 1 table/group, %d sharded 2 tables/group "
                + "(t_bench among them), %d placed on one group, %d broadcast", n, onePerGroup, twoPerGroup, placed, broadcast);
    }

    // ---- in the child JVM ------------------------------------------------------------------------------

    /** {@code startup <contender> <yaml>} or {@code heap <contender> <yaml> <rawAddress> <rows> <millisPerWorkload> <idBase>}. */
    static void main(String[] args) {
        try {
            String result = switch (args[0]) {
                case STARTUP -> startup(args[1], Path.of(args[2]));
                case HEAP -> heap(args[1], Path.of(args[2]), NodeAddress.parse(args[3]), Integer.parseInt(args[4]),
                        Long.parseLong(args[5]), Long.parseLong(args[6]));
                default -> throw new IllegalArgumentException("unknown probe '" + args[0] + "'");
            };
            System.out.println("RESULT " + result);
        } catch (Throwable e) {
            e.printStackTrace();
            System.out.println("FAILED " + String.valueOf(e).replace('\n', ' '));
        }
        System.out.flush();
        // pools and ShardingSphere leave non-daemon threads behind when something failed
        System.exit(0);
    }

    /**
     * Parses the config, builds the data source, runs the first query; then, when the first build took less than
     * {@value #WARM_BUILD_BELOW_MS} ms, closes it and builds it again in the same JVM (warm). Retained heap is measured
     * with the first data source open. While building, a sampler notes where ShardingSphere spends the time.
     */
    private static String startup(String contender, Path yaml) throws Exception {
        long heap0 = liveHeapBytes();
        long t0 = System.nanoTime();
        ClusterConfig config = ClusterConfigLoader.parse(Files.readString(yaml), System::getenv);
        long t1 = System.nanoTime();
        double buildMs;
        double firstQueryMs;
        long heap1;
        String hot;
        Sampler sampler = new Sampler(Thread.currentThread());
        sampler.start();
        try (Contender c = Contender.build(contender, config, null, 0)) {
            long t2 = System.nanoTime();
            buildMs = (t2 - t1) / 1e6;
            hot = sampler.finish();
            firstQuery(c);
            firstQueryMs = (System.nanoTime() - t2) / 1e6;
            heap1 = liveHeapBytes();
        }
        String warm = "warmBuildMs=- warmFirstQueryMs=-";
        if (buildMs < WARM_BUILD_BELOW_MS) {
            long t3 = System.nanoTime();
            try (Contender c = Contender.build(contender, config, null, 0)) {
                long t4 = System.nanoTime();
                firstQuery(c);
                warm = String.format(Locale.ROOT, "warmBuildMs=%.0f warmFirstQueryMs=%.0f", (t4 - t3) / 1e6,
                        (System.nanoTime() - t4) / 1e6);
            }
        }
        return String.format(Locale.ROOT, "tables=%d parseMs=%.0f buildMs=%.0f firstQueryMs=%.0f retainedMb=%.1f %s hot=%s",
                config.tables().size(), (t1 - t0) / 1e6, buildMs, firstQueryMs, (heap1 - heap0) / 1048576.0, warm, hot);
    }

    static final long WARM_BUILD_BELOW_MS = 20_000;

    /**
     * Samples a thread's stack every 50 ms and counts the innermost ShardingSphere frame (else the innermost Ballast
     * frame), so that a slow build says where it is slow. Prints a {@code PROGRESS} line every 5 s, which the parent
     * quotes when the probe runs out of time.
     */
    private static final class Sampler extends Thread {
        private final Thread target;
        private final Map<String, Integer> counts = new HashMap<>();
        private final long start = System.nanoTime();
        private int samples;
        private volatile boolean running = true;

        Sampler(Thread target) {
            super("probe-sampler");
            this.target = target;
            setDaemon(true);
        }

        @Override
        public void run() {
            long nextReport = start + TimeUnit.SECONDS.toNanos(5);
            while (running) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                String frame = innermost(target.getStackTrace());
                synchronized (this) {
                    counts.merge(frame, 1, Integer::sum);
                    samples++;
                }
                if (System.nanoTime() > nextReport) {
                    nextReport += TimeUnit.SECONDS.toNanos(5);
                    System.out.printf(Locale.ROOT, "PROGRESS %.0f s, heap used %d MB, hot: %s%n",
                            (System.nanoTime() - start) / 1e9,
                            ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576, top());
                    System.out.flush();
                }
            }
        }

        String finish() {
            running = false;
            return top();
        }

        /** The three most sampled frames with their share, e.g. {@code JDBCRepository.isExisted:61%,...}. */
        synchronized String top() {
            if (samples == 0) {
                return "-";
            }
            return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(3)
                    .map(e -> e.getKey() + ":" + Math.round(100.0 * e.getValue() / samples) + "%")
                    .collect(Collectors.joining(","));
        }

        private static String innermost(StackTraceElement[] stack) {
            for (String prefix : List.of("org.apache.shardingsphere.", "dev.ballast.")) {
                for (StackTraceElement f : stack) {
                    if (f.getClassName().startsWith(prefix)) {
                        String cls = f.getClassName();
                        return cls.substring(cls.lastIndexOf('.') + 1) + "." + f.getMethodName();
                    }
                }
            }
            return stack.length == 0 ? "idle" : "other";
        }
    }

    private static void firstQuery(Contender c) throws SQLException {
        try (Connection conn = c.dataSource().getConnection();
             PreparedStatement ps = conn.prepareStatement(Workload.SELECT)) {
            ps.setInt(1, 1);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rs.getLong(1);
                }
            }
        }
    }

    /**
     * Live heap (after full GCs) with the contender open and warmed by every workload at 4 threads, minus the live
     * heap before it was built. Also the growth of metaspace and of loaded classes, which the heap does not show.
     */
    private static String heap(String contender, Path yaml, NodeAddress raw, int rows, long millisPerWorkload,
                               long idBase) throws Exception {
        ClusterConfig config = ClusterConfigLoader.parse(Files.readString(yaml), System::getenv);
        long heap0 = liveHeapBytes();
        long meta0 = metaspaceBytes();
        int classes0 = ManagementFactory.getClassLoadingMXBean().getLoadedClassCount();
        try (Contender c = Contender.build(contender, config, raw, idBase)) {
            long ops = 0;
            for (Workload w : Workload.values()) {
                Phase.Result r = Phase.run(c, w, 4, Duration.ofMillis(millisPerWorkload), rows, () -> -1);
                if (r.failure() != null || r.errors() > 0) {
                    throw new IllegalStateException(contender + " " + w.label() + ": "
                            + (r.failure() != null ? r.failure() : r.errors() + " errors, first: " + r.firstError()));
                }
                ops += r.ops();
            }
            long heap1 = liveHeapBytes();
            long meta1 = metaspaceBytes();
            int classes1 = ManagementFactory.getClassLoadingMXBean().getLoadedClassCount();
            return String.format(Locale.ROOT, "liveMb=%.1f metaspaceMb=%.1f classes=%d ops=%d baselineMb=%.1f",
                    (heap1 - heap0) / 1048576.0, (meta1 - meta0) / 1048576.0, classes1 - classes0, ops,
                    heap0 / 1048576.0);
        }
    }

    static long liveHeapBytes() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long metaspaceBytes() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().equals("Metaspace")) {
                return pool.getUsage().getUsed();
            }
        }
        return 0;
    }
}
