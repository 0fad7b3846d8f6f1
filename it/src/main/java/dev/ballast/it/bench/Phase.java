package dev.ballast.it.bench;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One measured stretch: {@code threads} workers run one workload against one contender for a fixed time. Workers
 * open their connection (and prepare a reused statement) before the clock starts and close it after it stops, so
 * the window holds only operations. Bounded: setup may take {@value #SETUP_TIMEOUT_S} s, and workers must finish
 * within the phase plus {@value #STUCK_AFTER_S} s (longer than the 30 s socket timeout), else the phase is reported
 * stuck.
 */
final class Phase {

    static final int SETUP_TIMEOUT_S = 30;
    static final int STUCK_AFTER_S = 40;
    /** A worker gives up after this many failed operations in one phase: something is broken, not noisy. */
    static final int MAX_ERRORS = 200;

    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /**
     * What one phase measured.
     *
     * @param nanos          wall time from the start signal to the last worker's last operation
     * @param cpuNanos       this JVM's CPU time over the window (all threads: JIT, GC and pool housekeeping too)
     * @param serverCpuNanos CPU time of the MariaDB servers over the window, or -1 when unknown
     * @param allocBytes     bytes allocated by the worker threads over the window
     * @param failure        why the phase did not run or ended badly, or null
     */
    record Result(Workload workload, int threads, String contender, long ops, long errors, long nanos, long cpuNanos,
                  long serverCpuNanos, long allocBytes, LatencyHistogram latency, String firstError, String failure) {

        double opsPerSecond() {
            return nanos == 0 ? 0 : ops * 1e9 / nanos;
        }

        boolean stuck() {
            return failure != null && failure.startsWith("stuck");
        }
    }

    private Phase() {
    }

    static Result run(Contender contender, Workload workload, int threads, Duration length, int rows,
                      LongSupplier serverCpuNanos) throws InterruptedException {
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        List<Worker> workers = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Worker w = new Worker(contender, workload, rows, ready, go, done);
            w.thread = new Thread(w, "bench-" + contender.name() + "-" + workload.name().toLowerCase() + "-" + i);
            w.thread.setDaemon(true);
            workers.add(w);
        }
        workers.forEach(w -> w.thread.start());
        if (!ready.await(SETUP_TIMEOUT_S, TimeUnit.SECONDS)) {
            workers.forEach(w -> w.abort = true);
            go.countDown();
            return failed(contender, workload, threads, "setup: workers not connected after " + SETUP_TIMEOUT_S + " s");
        }
        for (Worker w : workers) {
            if (w.setupError != null) {
                workers.forEach(x -> x.abort = true);
                go.countDown();
                joinAll(workers, SETUP_TIMEOUT_S);
                return failed(contender, workload, threads, "setup: " + w.setupError);
            }
        }
        long server0 = serverCpuNanos.getAsLong();
        long cpu0 = OS.getProcessCpuTime();
        long start = System.nanoTime();
        long end = start + length.toNanos();
        workers.forEach(w -> w.end = end);
        go.countDown();
        boolean finished = done.await(length.toSeconds() + STUCK_AFTER_S, TimeUnit.SECONDS);
        long cpu1 = OS.getProcessCpuTime();
        long server1 = serverCpuNanos.getAsLong();
        if (!finished) {
            workers.forEach(w -> w.abort = true);
            return failed(contender, workload, threads, "stuck: a worker did not return within " + STUCK_AFTER_S
                    + " s after the phase ended");
        }
        joinAll(workers, SETUP_TIMEOUT_S);

        LatencyHistogram latency = new LatencyHistogram();
        long ops = 0;
        long errors = 0;
        long alloc = 0;
        long last = start;
        String firstError = null;
        for (Worker w : workers) {
            latency.add(w.latency);
            ops += w.ops;
            errors += w.errors;
            alloc += w.allocBytes;
            last = Math.max(last, w.finish);
            if (firstError == null && w.firstError != null) {
                firstError = w.firstError.toString();
            }
        }
        long serverCpu = server0 < 0 || server1 < 0 ? -1 : server1 - server0;
        return new Result(workload, threads, contender.name(), ops, errors, last - start, cpu1 - cpu0, serverCpu,
                alloc, latency, firstError, null);
    }

    private static Result failed(Contender c, Workload w, int threads, String why) {
        return new Result(w, threads, c.name(), 0, 0, 0, 0, -1, 0, new LatencyHistogram(), null, why);
    }

    private static void joinAll(List<Worker> workers, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        for (Worker w : workers) {
            w.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
    }

    private static final class Worker implements Runnable {
        private final Contender contender;
        private final Workload workload;
        private final int rows;
        private final CountDownLatch ready;
        private final CountDownLatch go;
        private final CountDownLatch done;
        private final LatencyHistogram latency = new LatencyHistogram();
        Thread thread;
        volatile long end;
        volatile boolean abort;
        volatile Exception setupError;
        private boolean counted;
        long ops;
        long errors;
        long allocBytes;
        long finish;
        long sink;
        SQLException firstError;

        Worker(Contender contender, Workload workload, int rows, CountDownLatch ready, CountDownLatch go,
               CountDownLatch done) {
            this.contender = contender;
            this.workload = workload;
            this.rows = rows;
            this.ready = ready;
            this.go = go;
            this.done = done;
        }

        /**
         * Opens this worker's connections and, for a reused statement, its statements; waits for the start; runs the
         * loop. A contender with one data source has one "shard"; the hand-routed one has one per data node (one
         * connection per server it touches, held for the phase).
         */
        @Override
        public void run() {
            Contender.Shard[] routed = contender.shards();
            int n = routed == null ? 1 : routed.length;
            java.util.Map<javax.sql.DataSource, Connection> open = new java.util.LinkedHashMap<>();
            Connection[] connections = new Connection[n];
            String[] sql = new String[n];
            PreparedStatement[] reused = new PreparedStatement[n];
            boolean signalled = false;
            try {
                for (int i = 0; i < n; i++) {
                    javax.sql.DataSource ds = routed == null ? contender.dataSource(workload)
                            : workload.isSelect() ? routed[i].reads() : routed[i].writes();
                    Connection c = open.get(ds);
                    if (c == null) {
                        c = ds.getConnection();
                        open.put(ds, c);
                    }
                    connections[i] = c;
                    sql[i] = routed == null ? workload.sql() : workload.sql().replace(Workload.TABLE, routed[i].table());
                    if (workload.reuse()) {
                        reused[i] = c.prepareStatement(sql[i]);
                    }
                }
                ready.countDown();
                signalled = true;
                go.await();
                if (!abort) {
                    loop(connections, sql, workload.reuse() ? reused : null);
                }
            } catch (SQLException | RuntimeException e) {
                setupError = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                List<AutoCloseable> toClose = new ArrayList<>();
                for (PreparedStatement ps : reused) {
                    if (ps != null) {
                        toClose.add(ps);
                    }
                }
                toClose.addAll(open.values());
                for (AutoCloseable c : toClose) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        if (counted) {
                            // after the measured window: counted as an error of the phase, as a failed operation would be
                            errors++;
                            firstError = firstError != null ? firstError
                                    : e instanceof SQLException sqlError ? sqlError : new SQLException("closing: " + e, e);
                        } else if (setupError == null) {
                            setupError = e;
                        }
                    }
                }
                if (!signalled) {
                    ready.countDown();
                }
                if (!counted) {
                    done.countDown();
                }
            }
        }

        /** Operations until the end of the phase: the shard is user_id mod n (always 0 with one data source). */
        private void loop(Connection[] connections, String[] sql, PreparedStatement[] reused) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            int n = connections.length;
            long until = end;
            long alloc0 = THREADS.getCurrentThreadAllocatedBytes();
            long t0;
            while ((t0 = System.nanoTime()) < until && !abort) {
                try {
                    long drawn = workload.draw(contender, rows, random);
                    int shard = n == 1 ? 0 : Math.floorMod(workload.userId(drawn, rows), n);
                    if (reused != null) {
                        sink += workload.execute(reused[shard], contender, rows, drawn);
                    } else {
                        try (PreparedStatement ps = connections[shard].prepareStatement(sql[shard])) {
                            sink += workload.execute(ps, contender, rows, drawn);
                        }
                    }
                    latency.record(System.nanoTime() - t0);
                    ops++;
                } catch (SQLException e) {
                    if (firstError == null) {
                        firstError = e;
                    }
                    if (++errors >= MAX_ERRORS) {
                        break;
                    }
                }
            }
            finish = System.nanoTime();
            allocBytes = THREADS.getCurrentThreadAllocatedBytes() - alloc0;
            // counted here, before the connections close, so that closing is outside the measured window
            done.countDown();
            counted = true;
        }
    }
}
