package dev.ballast.jdbc.internal;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MonitorCredentials;
import dev.ballast.rules.NodeAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Finds deadlocks between one data plane's transactions over several groups and breaks them. Each server sees only its
 * own part of such a cycle (T1 waits for T2 on one group, T2 for T1 on another), so no server detects it, and both
 * would wait for {@code innodb_lock_wait_timeout} (50 s by default) while every transaction that wants their rows
 * queues behind them.
 *
 * <p>Every {@code deadlockCheckMs} it looks at the open transactions that registered ({@link Transaction}: the driver's
 * logical connections and the proxy's relayed transactions); when two or more have had a statement running for longer
 * than that, it reads the lock waits of the masters they hold connections to ({@code INNODB_LOCK_WAITS}, which needs
 * {@code PROCESS}: the {@code monitor:} user when there is one, else the application user), maps the servers' thread ids
 * to the transactions that own them, and rolls back the youngest member of each cycle ({@link WaitForGraph}): it marks
 * the transaction as the victim and interrupts its waiting statements ({@code KILL QUERY}, as the application user that
 * owns the connection, on a connection of the check's own: the pool may be held whole by the waiting transactions).
 * The transaction then rolls itself back on every group and answers error 1213 (SQLSTATE 40001),
 * as a server does for a deadlock it finds. Only this data plane's transactions are seen: a cycle through another
 * process or another client still ends at the timeout.
 */
public final class Deadlocks implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deadlocks.class);

    /** A transaction over several groups that the check may roll back; its methods are called from the check's thread. */
    public interface Transaction {
        /** When it began (System.nanoTime): the youngest of a cycle is rolled back. */
        long startedNanos();

        /** Since when a statement of it has been running (System.nanoTime), or 0 while none is. */
        long busySinceNanos();

        /** Its server connections now: the node of each and the server's thread id of the connection there. */
        List<Held> held();

        /** It was chosen to end a deadlock ({@code why} is the client's message), before its statements are interrupted. */
        void victim(String why);
    }

    /** One server connection of a transaction. */
    public record Held(NodeDataSource node, long threadId) {
    }

    /** Each lock wait as the server's thread ids of the waiting and the blocking transaction. */
    static final String LOCK_WAITS = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id"
            + " FROM information_schema.INNODB_LOCK_WAITS w"
            + " JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id"
            + " JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id";

    /** how long a server that refused the lock-wait query is left alone before it is asked again */
    private static final long REFUSED_RETRY_MS = 60_000;

    private final ClusterConfig config;
    private final long checkMs;
    private final Properties readerProperties;
    private final Properties killerProperties;
    private final Set<Transaction> open = ConcurrentHashMap.newKeySet();
    private final LongAdder victims = new LongAdder();
    private final ScheduledExecutorService timer;
    /** one connection per master to read its lock waits; the timer thread only */
    private final Map<NodeAddress, Connection> readers = new HashMap<>();
    /**
     * one connection per master, as the application user, to interrupt a victim's statement (a user may kill its own
     * threads): not from the pool, which the deadlocked transactions may hold whole; the timer thread only
     */
    private final Map<NodeAddress, Connection> killers = new HashMap<>();
    /** masters that refused the lock-wait query (no PROCESS privilege), until when (System.nanoTime) they are skipped */
    private final Map<NodeAddress, Long> refusedUntil = new HashMap<>();

    /** A check every {@code config.deadlockCheckMs()} (which must be above 0), started by {@link #start()}. */
    public Deadlocks(ClusterConfig config) {
        this.config = config;
        this.checkMs = config.deadlockCheckMs();
        Properties p = new Properties();
        config.pool().jdbcProperties().forEach(p::setProperty);
        p.setProperty("user", config.monitor().map(MonitorCredentials::user).orElse(config.credentials().user()));
        p.setProperty("password", config.monitor().map(MonitorCredentials::password).orElse(config.credentials().password()));
        p.setProperty("connectTimeout", "2000");
        p.setProperty("socketTimeout", "2000");
        this.readerProperties = p;
        Properties k = new Properties();
        k.putAll(p);
        k.setProperty("user", config.credentials().user());
        k.setProperty("password", config.credentials().password() == null ? "" : config.credentials().password());
        this.killerProperties = k;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ballast-deadlocks-" + config.name());
            t.setDaemon(true);
            return t;
        });
    }

    /** Whether the config wants a check: several groups (one server sees a one-group cycle whole) and an interval. */
    public static boolean wanted(ClusterConfig config) {
        return config.deadlockCheckMs() > 0 && config.groups().size() > 1;
    }

    /**
     * Checks now that each master lets this process read its lock waits (a warning names the one that does not), then
     * looks every interval.
     */
    public void start() {
        timer.execute(() -> {
            for (dev.ballast.rules.GroupConfig g : config.groups().values()) {
                lockWaits(g.master());
            }
        });
        timer.scheduleWithFixedDelay(this::checkSafely, checkMs, checkMs, TimeUnit.MILLISECONDS);
    }

    /** From its first statement on a master until it ends. */
    public void register(Transaction t) {
        open.add(t);
    }

    public void unregister(Transaction t) {
        open.remove(t);
    }

    /** Transactions rolled back so far to end a deadlock. */
    public long victims() {
        return victims.sum();
    }

    private void checkSafely() {
        try {
            check();
        } catch (RuntimeException e) {
            log.warn("[cluster={}] deadlock check failed: {}", config.name(), e.toString(), e);
        }
    }

    /** One look: the transactions that wait, the masters' lock waits between them, the cycles and their victims. */
    void check() {
        long now = System.nanoTime();
        long threshold = checkMs * 1_000_000L;
        Map<NodeAddress, Map<Long, Transaction>> owners = new HashMap<>();
        Map<NodeAddress, NodeDataSource> asked = new LinkedHashMap<>();
        Map<Transaction, Long> waiting = new HashMap<>(); // each waiting transaction and its statement's start
        for (Transaction t : open) {
            long since = t.busySinceNanos();
            boolean waits = since != 0 && now - since > threshold;
            for (Held h : t.held()) {
                owners.computeIfAbsent(h.node().address(), k -> new HashMap<>()).put(h.threadId(), t);
                if (waits) {
                    asked.put(h.node().address(), h.node());
                }
            }
            if (waits) {
                waiting.put(t, since);
            }
        }
        if (waiting.size() < 2) {
            return; // a cycle needs two transactions that both wait
        }
        Map<Transaction, Set<Transaction>> graph = new LinkedHashMap<>();
        Map<Transaction, List<Held>> waitsOn = new HashMap<>(); // the connections each waiter waits on
        for (Map.Entry<NodeAddress, NodeDataSource> e : asked.entrySet()) {
            Map<Long, Transaction> own = owners.getOrDefault(e.getKey(), Map.of());
            for (long[] w : lockWaits(e.getKey())) {
                Transaction waiter = own.get(w[0]);
                Transaction holder = own.get(w[1]);
                if (waiter != null && holder != null && waiter != holder && waiting.containsKey(waiter)) {
                    graph.computeIfAbsent(waiter, k -> new LinkedHashSet<>()).add(holder);
                    waitsOn.computeIfAbsent(waiter, k -> new ArrayList<>()).add(new Held(e.getValue(), w[0]));
                }
            }
        }
        for (WaitForGraph.Cycle<Transaction> c : WaitForGraph.victims(graph,
                Comparator.comparingLong(Transaction::startedNanos))) {
            rollBack(c, waiting, waitsOn);
        }
    }

    /** The victim is marked and its waiting statements interrupted; it rolls itself back when their errors come. */
    private void rollBack(WaitForGraph.Cycle<Transaction> c, Map<Transaction, Long> waiting, Map<Transaction, List<Held>> waitsOn) {
        for (Transaction member : c.members()) {
            if (member.busySinceNanos() != waiting.get(member)) {
                return; // a member's wait ended while the servers were read (a timeout, a client gone): no cycle now
            }
        }
        Transaction victim = c.victim();
        StringJoiner where = new StringJoiner(", ");
        for (Transaction member : c.members()) {
            for (Held h : waitsOn.getOrDefault(member, List.of())) {
                where.add((member == victim ? "this one on " : "another on ") + h.node().address() + " (group "
                        + h.node().group() + ")");
            }
        }
        String why = "[cluster=" + config.name() + "] Deadlock found when trying to get lock; try restarting transaction: "
                + c.members().size() + " transactions over several groups waited for each other's locks (" + where
                + "), which no server sees whole; Ballast rolled back this one, the youngest, on every group";
        victim.victim(why);
        int interrupted = 0;
        for (Held h : waitsOn.getOrDefault(victim, List.of())) {
            try {
                Connection conn = open(killers, h.node().address(), killerProperties);
                try (Statement s = conn.createStatement()) {
                    s.execute("KILL QUERY " + h.threadId());
                }
                interrupted++;
            } catch (SQLException e) {
                discard(killers, h.node().address());
                log.warn("[cluster={} node={}] could not interrupt the statement of a deadlock's victim (KILL QUERY {}): {}; "
                        + "it waits for innodb_lock_wait_timeout", config.name(), h.node().address(), h.threadId(), e.getMessage());
            }
        }
        if (interrupted > 0) {
            victims.increment();
            log.info("[cluster={}] deadlock across groups: {}; rolling back the youngest", config.name(), where);
        }
    }

    /** The master's lock waits (waiting thread id, blocking thread id); none when it cannot say. */
    private List<long[]> lockWaits(NodeAddress address) {
        Long until = refusedUntil.get(address);
        if (until != null && System.nanoTime() - until < 0) {
            return List.of();
        }
        List<long[]> waits = new ArrayList<>();
        try {
            Connection c = open(readers, address, readerProperties);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(LOCK_WAITS)) {
                while (rs.next()) {
                    waits.add(new long[]{rs.getLong(1), rs.getLong(2)});
                }
            }
            refusedUntil.remove(address);
        } catch (SQLException e) {
            discard(readers, address);
            if (e.getErrorCode() == 1227 || e.getErrorCode() == 1044 || e.getErrorCode() == 1045) {
                refusedUntil.put(address, System.nanoTime() + REFUSED_RETRY_MS * 1_000_000L);
                log.warn("[cluster={} node={}] cannot read the lock waits as user {} ({}): deadlocks between transactions "
                        + "over several groups end only at innodb_lock_wait_timeout there. Give that user PROCESS (a "
                        + "monitor: user with PROCESS is used when set), or set deadlockCheckMs: 0; asking again "
                        + "in {} s", config.name(), address, readerProperties.getProperty("user"), e.getMessage(),
                        REFUSED_RETRY_MS / 1000);
            } else {
                log.debug("[cluster={} node={}] lock waits: {}", config.name(), address, e.getMessage());
            }
        }
        return waits;
    }

    /** The kept connection to {@code address}, opened now if there is none. */
    private static Connection open(Map<NodeAddress, Connection> kept, NodeAddress address, Properties properties)
            throws SQLException {
        Connection c = kept.get(address);
        if (c == null) {
            c = DriverManager.getConnection("jdbc:mysql://" + address + "/", properties);
            kept.put(address, c);
        }
        return c;
    }

    /** Closes a kept connection after a failure: the next use opens a new one. */
    private static void discard(Map<NodeAddress, Connection> kept, NodeAddress address) {
        Connection c = kept.remove(address);
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken anyway
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Map<NodeAddress, Connection> kept : List.of(readers, killers)) {
            for (NodeAddress a : List.copyOf(kept.keySet())) {
                discard(kept, a);
            }
        }
        open.clear();
    }
}
