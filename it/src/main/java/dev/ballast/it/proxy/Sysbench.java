package dev.ballast.it.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the {@code sysbench} command (1.0, MySQL driver) against a host and port, and reads its summary. */
public final class Sysbench {

    /**
     * What one sysbench command printed, and the figures of its summary (-1 when absent). {@code errors} are the ones
     * sysbench retries by default (deadlock 1213, lock wait timeout 1205): a server reports them too; anything else
     * is FATAL and ends the run.
     */
    public record Result(int exitCode, String output, double tps, double qps, double p95Ms, long errors, long reconnects) {
        /** Exit 0, nothing fatal. */
        public boolean ok() {
            return exitCode == 0 && !output.contains("FATAL");
        }
    }

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String database;

    public Sysbench(String host, int port, String user, String password, String database) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.database = database;
    }

    /**
     * {@code sysbench <test> <command>} with {@code --tables}, {@code --table-size}, {@code --threads}, {@code --time}
     * (bounded: killed after time + 120 s). Ids are given by sysbench ({@code --auto_inc=off}) so that a table sharded
     * by id needs no key generator.
     */
    public Result run(String test, String command, int tables, int tableSize, int threads, int seconds) throws IOException,
            InterruptedException {
        return run(test, command, tables, tableSize, threads, seconds, new String[0]);
    }

    /**
     * As {@link #run(String, String, int, int, int, int)}, with more options ({@code --key=value}); one that names an
     * option set here replaces it (e.g. {@code --report-interval=1}, {@code --mysql-ignore-errors=all}).
     */
    public Result run(String test, String command, int tables, int tableSize, int threads, int seconds, String... extra)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("sysbench", test, "--db-driver=mysql", "--mysql-host=" + host,
                "--mysql-port=" + port, "--mysql-user=" + user, "--mysql-password=" + password, "--mysql-db=" + database,
                "--mysql-ssl=off", "--tables=" + tables, "--table-size=" + tableSize, "--auto_inc=off",
                "--threads=" + threads, "--time=" + seconds, "--report-interval=0", "--histogram=off",
                "--db-ps-mode=auto", "--percentile=95", command));
        for (String option : extra) {
            String key = option.contains("=") ? option.substring(0, option.indexOf('=') + 1) : option;
            cmd.removeIf(o -> o.startsWith(key));
            cmd.add(cmd.size() - 1, option);
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            if (!p.waitFor(seconds + 120L, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("sysbench " + test + " " + command + " did not end within " + (seconds + 120) + " s");
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        String text = new String(out, StandardCharsets.UTF_8);
        return new Result(p.exitValue(), text, number(text, "transactions:\\s+\\d+\\s+\\(([0-9.]+) per sec"),
                number(text, "queries:\\s+\\d+\\s+\\(([0-9.]+) per sec"), number(text, "95th percentile:\\s+([0-9.]+)"),
                (long) Math.max(0, number(text, "ignored errors:\\s+(\\d+)")),
                (long) Math.max(0, number(text, "reconnects:\\s+(\\d+)")));
    }

    /**
     * The per-interval lines of a run with {@code --report-interval}: {second, tps, errors per second, reconnects per
     * second} each.
     */
    public static List<double[]> intervals(String output) {
        List<double[]> result = new ArrayList<>();
        Matcher m = Pattern.compile("\\[\\s*(\\d+)s \\].*? tps: ([0-9.]+).*? err/s: ([0-9.]+) reconn/s: ([0-9.]+)").matcher(output);
        while (m.find()) {
            result.add(new double[]{Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)),
                    Double.parseDouble(m.group(4))});
        }
        return result;
    }

    private static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }
}
