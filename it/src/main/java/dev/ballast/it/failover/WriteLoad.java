package dev.ballast.it.failover;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writer threads that insert rows with unique ids into {@code t_ack (id BIGINT PRIMARY KEY, writer INT)} through a data
 * source, one connection per insert (as an application with a pool does), and remember which inserts were acknowledged,
 * when, and every failure. Bounded: {@link #stop()} ends it, and every writer also stops after {@code maxSeconds}.
 */
public final class WriteLoad implements AutoCloseable {

    public static final String CREATE_TABLE = "CREATE TABLE t_ack (id BIGINT PRIMARY KEY, writer INT NOT NULL)";

    /** A failed insert: when (System.nanoTime), its id, and the error. */
    public record Failure(long atNanos, long id, SQLException error) {
        @Override
        public String toString() {
            return "id " + id + ": " + error.getSQLState() + " " + error.getMessage();
        }
    }

    private final DataSource ds;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Set<Long> acked = ConcurrentHashMap.newKeySet();
    /** end times of acknowledged inserts */
    private final ConcurrentLinkedQueue<Long> successTimes = new ConcurrentLinkedQueue<>();
    /** {start, end} of acknowledged inserts */
    private final ConcurrentLinkedQueue<long[]> spans = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final long deadlineNanos;

    private WriteLoad(DataSource ds, long maxSeconds) {
        this.ds = ds;
        this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    }

    public static WriteLoad start(DataSource ds, int writers, long maxSeconds) {
        WriteLoad load = new WriteLoad(ds, maxSeconds);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread t = new Thread(() -> load.write(writer), "write-load-" + w);
            t.setDaemon(true);
            load.threads.add(t);
            t.start();
        }
        return load;
    }

    private void write(int writer) {
        long seq = 0;
        while (running.get() && System.nanoTime() < deadlineNanos) {
            long id = (writer + 1) * 1_000_000_000L + seq++;
            long start = System.nanoTime();
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO t_ack (id, writer) VALUES (?, ?)")) {
                ps.setLong(1, id);
                ps.setInt(2, writer);
                ps.executeUpdate();
                acked.add(id);
                long end = System.nanoTime();
                successTimes.add(end);
                spans.add(new long[]{start, end});
            } catch (SQLException e) {
                failures.add(new Failure(System.nanoTime(), id, e));
                try {
                    Thread.sleep(5);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * When the first acknowledged insert that was <em>sent</em> after {@code nanos} completed, or -1. To time a failover,
     * pass the moment the old master was seen dead, not the moment it was signalled: SIGKILL takes effect a little after
     * it is sent, and an insert sent in between can still be acknowledged by the dying master.
     */
    public long firstSuccessAfter(long nanos) {
        long first = -1;
        for (long[] span : spans) {
            if (span[0] > nanos && (first < 0 || span[1] < first)) {
                first = span[1];
            }
        }
        return first;
    }

    /** Acknowledged inserts sent between {@code fromNanos} and {@code toNanos}. */
    public long ackedSentBetween(long fromNanos, long toNanos) {
        return spans.stream().filter(s -> s[0] > fromNanos && s[0] <= toNanos).count();
    }

    /** Acknowledged inserts that completed after {@code nanos}. */
    public long successesAfter(long nanos) {
        return successTimes.stream().filter(t -> t > nanos).count();
    }

    /** The longest time without any acknowledged insert between {@code fromNanos} and {@code toNanos}, in ms. */
    public long longestPauseMs(long fromNanos, long toNanos) {
        List<Long> times = new ArrayList<>(successTimes.stream().filter(t -> t >= fromNanos && t <= toNanos).toList());
        times.sort(null);
        long previous = fromNanos;
        long longest = 0;
        for (long t : times) {
            longest = Math.max(longest, t - previous);
            previous = t;
        }
        longest = Math.max(longest, toNanos - previous);
        return longest / 1_000_000L;
    }

    /** Where the longest gap of {@link #longestPauseMs} begins (nanoTime of the last acknowledgement before it). */
    public long longestPauseStart(long fromNanos, long toNanos) {
        List<Long> times = new ArrayList<>(successTimes.stream().filter(t -> t >= fromNanos && t <= toNanos).toList());
        times.sort(null);
        long previous = fromNanos;
        long longest = 0;
        long at = fromNanos;
        for (long t : times) {
            if (t - previous > longest) {
                longest = t - previous;
                at = previous;
            }
            previous = t;
        }
        return toNanos - previous > longest ? previous : at;
    }

    public Set<Long> acked() {
        return Set.copyOf(acked);
    }

    /**
     * The acknowledged ids that {@code server} does not hold: every id is read back from its {@code t_ack}, so an empty
     * set means no acknowledged write was lost there.
     */
    public Set<Long> missingOn(Connection server) throws SQLException {
        Set<Long> missing = new HashSet<>(acked);
        try (Statement s = server.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM t_ack")) {
            while (rs.next()) {
                missing.remove(rs.getLong(1));
            }
        }
        return missing;
    }

    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    public List<Failure> failuresBetween(long fromNanos, long toNanos) {
        return failures.stream().filter(f -> f.atNanos() >= fromNanos && f.atNanos() <= toNanos).toList();
    }

    /** Stops the writers and waits for them (each finishes its current insert). */
    public void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
