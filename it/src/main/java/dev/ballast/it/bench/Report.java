package dev.ballast.it.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Phase results summed per (workload, threads, contender) over the measured rounds, as Markdown tables. */
final class Report {

    private record Key(Workload workload, int threads, String contender) {
    }

    /** Everything measured for one (workload, threads, contender), over all rounds. */
    private static final class Cell {
        long ops;
        long errors;
        long nanos;
        long cpuNanos;
        long serverCpuNanos;
        boolean serverCpuKnown = true;
        long allocBytes;
        final LatencyHistogram latency = new LatencyHistogram();
        final List<Double> roundRates = new ArrayList<>();
        final List<String> problems = new ArrayList<>();

        double opsPerSecond() {
            return nanos == 0 ? 0 : ops * 1e9 / nanos;
        }

        double cpuMicrosPerOp() {
            return ops == 0 ? 0 : cpuNanos / 1e3 / ops;
        }

        double serverCpuMicrosPerOp() {
            return ops == 0 || !serverCpuKnown ? -1 : serverCpuNanos / 1e3 / ops;
        }

        double kbPerOp() {
            return ops == 0 ? 0 : allocBytes / 1024.0 / ops;
        }

        double p50() {
            return latency.quantile(0.50) / 1e3;
        }

        double p99() {
            return latency.quantile(0.99) / 1e3;
        }
    }

    private final List<Workload> workloads;
    private final List<Integer> threads;
    private final List<String> contenders;
    private final Map<Key, Cell> cells = new LinkedHashMap<>();

    Report(List<Workload> workloads, List<Integer> threads, List<String> contenders) {
        this.workloads = workloads;
        this.threads = threads;
        this.contenders = contenders;
        for (Workload w : workloads) {
            for (int t : threads) {
                for (String c : contenders) {
                    cells.put(new Key(w, t, c), new Cell());
                }
            }
        }
    }

    void add(Phase.Result r) {
        Cell cell = cells.get(new Key(r.workload(), r.threads(), r.contender()));
        if (r.failure() != null) {
            cell.problems.add(r.failure());
            return;
        }
        cell.ops += r.ops();
        cell.errors += r.errors();
        cell.nanos += r.nanos();
        cell.cpuNanos += r.cpuNanos();
        if (r.serverCpuNanos() < 0) {
            cell.serverCpuKnown = false;
        }
        cell.serverCpuNanos += r.serverCpuNanos();
        cell.allocBytes += r.allocBytes();
        cell.latency.add(r.latency());
        cell.roundRates.add(r.opsPerSecond());
        if (r.errors() > 0) {
            cell.problems.add(r.errors() + " failed operations, first: " + r.firstError());
        }
    }

    void skipped(Workload w, int t, String contender, String why) {
        cells.get(new Key(w, t, contender)).problems.add(why);
    }

    /** Every error, failure and skip, one line each, naming the cell. */
    List<String> problems() {
        List<String> all = new ArrayList<>();
        cells.forEach((k, c) -> c.problems.stream().distinct().forEach(p ->
                all.add(k.workload().label() + " x" + k.threads() + " " + k.contender() + ": " + p)));
        return all;
    }

    String throughputTable() {
        StringBuilder b = new StringBuilder();
        b.append("| workload | threads | contender | ops/s | round spread | p50 µs | p99 µs | JVM CPU µs/op "
                + "| server CPU µs/op | KB alloc/op | errors |\n");
        b.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Workload w : workloads) {
            for (int t : threads) {
                for (String name : contenders) {
                    Cell c = cells.get(new Key(w, t, name));
                    b.append("| ").append(w.label()).append(" | ").append(t).append(" | ").append(name).append(" | ");
                    if (c.ops == 0) {
                        b.append("— | | | | | | | ").append(c.errors).append(" |\n");
                        continue;
                    }
                    b.append(grouped(c.opsPerSecond())).append(" | ").append(spread(c.roundRates)).append(" | ")
                            .append(micros(c.p50())).append(" | ").append(micros(c.p99())).append(" | ")
                            .append(micros(c.cpuMicrosPerOp())).append(" | ")
                            .append(c.serverCpuMicrosPerOp() < 0 ? "?" : micros(c.serverCpuMicrosPerOp())).append(" | ")
                            .append(String.format(Locale.ROOT, "%.1f", c.kbPerOp())).append(" | ")
                            .append(c.errors).append(" |\n");
                }
            }
        }
        return b.toString();
    }

    /** Ballast divided by each of the other two, per (workload, threads). */
    String ratioTable() {
        StringBuilder b = new StringBuilder();
        b.append("| workload | threads | ops/s B/raw | ops/s B/raw-repl | ops/s B/raw-2g | ops/s raw-2g/raw | ops/s B/SS "
                + "| ops/s raw-2g/SS | CPU/op B/raw | CPU/op B/SS | alloc/op B/raw | alloc/op B/SS | p99 B/raw | p99 B/raw-repl "
                + "| p99 B/SS |\n");
        b.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Workload w : workloads) {
            for (int t : threads) {
                Cell ballast = cells.get(new Key(w, t, Contender.BALLAST));
                Cell raw = cells.get(new Key(w, t, Contender.RAW));
                Cell plain = cells.get(new Key(w, t, Contender.PLAIN));
                Cell rawReplicated = cells.get(new Key(w, t, Contender.RAW_REPLICATED));
                Cell rawSharded = cells.get(new Key(w, t, Contender.RAW_SHARDED));
                b.append("| ").append(w.label()).append(" | ").append(t).append(" | ")
                        .append(ratio(ballast, raw, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(ballast, rawReplicated, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(ballast, rawSharded, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(rawSharded, raw, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(ballast, plain, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(rawSharded, plain, Cell::opsPerSecond)).append(" | ")
                        .append(ratio(ballast, raw, Cell::cpuMicrosPerOp)).append(" | ")
                        .append(ratio(ballast, plain, Cell::cpuMicrosPerOp)).append(" | ")
                        .append(ratio(ballast, raw, Cell::kbPerOp)).append(" | ")
                        .append(ratio(ballast, plain, Cell::kbPerOp)).append(" | ")
                        .append(ratio(ballast, raw, Cell::p99)).append(" | ")
                        .append(ratio(ballast, rawReplicated, Cell::p99)).append(" | ")
                        .append(ratio(ballast, plain, Cell::p99)).append(" |\n");
            }
        }
        return b.toString();
    }

    private static String ratio(Cell a, Cell b, ToDoubleFunction<Cell> f) {
        if (a == null || b == null || a.ops == 0 || b.ops == 0 || f.applyAsDouble(b) == 0) {
            return "—";
        }
        return String.format(Locale.ROOT, "%.2f", f.applyAsDouble(a) / f.applyAsDouble(b));
    }

    /** Half the range of the per-round rates, relative to their mean; blank with one round. */
    private static String spread(List<Double> rates) {
        if (rates.size() < 2) {
            return "";
        }
        double min = rates.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double max = rates.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        double mean = rates.stream().mapToDouble(Double::doubleValue).average().orElse(1);
        return String.format(Locale.ROOT, "±%.0f %%", 50 * (max - min) / mean);
    }

    static String grouped(double value) {
        return String.format(Locale.ROOT, "%,d", Math.round(value)).replace(',', ' ');
    }

    static String micros(double value) {
        return value < 100 ? String.format(Locale.ROOT, "%.1f", value) : grouped(value);
    }
}
