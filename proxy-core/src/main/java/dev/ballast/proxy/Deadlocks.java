package dev.ballast.proxy;

import dev.ballast.jdbc.internal.NodeDataSource;
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
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Finds deadlocks between the proxy's relayed transactions over several groups and breaks them. Each server sees only
 * its own part of such a cycle (T1 waits for T2 on one group, T2 for T1 on another), so no server detects it, and both
 * would wait for {@code innodb_lock_wait_timeout} (50 s by default) while every transaction that wants their rows queues
 * behind them.
 *
 * <p>Every {@code proxy.deadlockCheckMs} it looks at the pins of the open transactions; when two or more transactions
 * have a statement in flight for longer than that, it reads the lock waits of the masters they wait on
 * ({@code INNODB_LOCK_WAITS}, which needs {@code PROCESS}: the {@code monitor:} user when there is one, else the
 * application user), maps the servers' thread ids to the transactions that own them, and rolls back the youngest member
 * of each cycle ({@link WaitForGraph}): it marks the transaction as the victim and interrupts its waiting statement
 * ({@code KILL QUERY}, as the application user that owns the connection); the relay then rolls the transaction back on
 * every group and answers error 1213 (SQLSTATE 40001), as a server does for a deadlock it finds itself. Only this
 * proxy's own transactions are seen: a cycle through another proxy or another client still ends at the timeout.
 */
final class Deadlocks implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Deadlocks.class);

    /** Each lock wait as the server's thread ids of the waiting and the blocking transaction. */
    static final String LOCK_WAITS = "SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id"
            + " FROM information_schema.INNODB_LOCK_WAITS w"
            + " JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id"
            + " JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id";

    /** how long a server that refused the lock-wait query is left alone before it is asked again */
    private static final long REFUSED_RETRY_MS = 60_000;

    private final ClusterConfig config;
    private final Backends backends;
    private final long checkMs;
    private final Properties readerProperties;
    private final ScheduledExecutorService timer;
    /** one connection per master to read its lock waits; the timer thread only */
    private final Map<NodeAddress, Connection> readers = new HashMap<>();
    /** masters that refused the lock-wait query (no PROCESS privilege), until when (System.nanoTime) they are skipped */
    private final Map<NodeAddress, Long> refusedUntil = new HashMap<>();

    Deadlocks(ClusterConfig config, Backends backends) {
        this.config = config;
        this.backends = backends;
        this.checkMs = config.proxy().deadlockCheckMs();
        Properties p = new Properties();
        config.pool().jdbcProperties().forEach(p::setProperty);
        p.setProperty("user", config.monitor().map(MonitorCredentials::user).orElse(config.credentials().user()));
        p.setProperty("password", config.monitor().map(MonitorCredentials::password).orElse(config.credentials().password()));
        p.setProperty("connectTimeout", "2000");
        p.setProperty("socketTimeout", "2000");
        this.readerProperties = p;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ballast-proxy-deadlocks");
            t.setDaemon(true);
            return t;
        });
    }

    /** Checks now that each master lets the proxy read its lock waits (a warning names the one that does not), then looks every interval. */
    void start() {
        timer.execute(() -> {
            for (dev.ballast.rules.GroupConfig g : config.groups().values()) {
                lockWaits(g.master());
            }
        });
        timer.scheduleWithFixedDelay(this::checkSafely, checkMs, checkMs, TimeUnit.MILLISECONDS);
    }

    private void checkSafely() {
        try {
            check();
        } catch (RuntimeException e) {
            log.warn("[cluster={}] deadlock check failed: {}", config.name(), e.toString(), e);
        }
    }

    /** A statement in flight on a pin for longer than the check interval. */
    private record Waiting(ShardedTransaction tx, ShardedTransaction.Pin pin, long since) {
    }

    /** One look: the transactions that wait, the masters' lock waits between them, the cycles and their victims. */
    void check() {
        long now = System.nanoTime();
        long threshold = checkMs * 1_000_000L;
        Map<NodeAddress, Map<Long, ShardedTransaction>> owners = new HashMap<>();
        Map<NodeAddress, NodeDataSource> waitedOn = new LinkedHashMap<>();
        List<Waiting> waiting = new ArrayList<>();
        Set<ShardedTransaction> waiters = new HashSet<>();
        for (ShardedTransaction tx : backends.transactions) {
            for (ShardedTransaction.Pin pin : tx.pinned()) {
                Backend b = pin.backend;
                long id = b.serverThreadId;
                if (id != 0) {
                    owners.computeIfAbsent(b.node.address(), k -> new HashMap<>()).put(id, tx);
                }
                long since = b.busySinceNanos;
                if (since != 0 && now - since > threshold) {
                    waiting.add(new Waiting(tx, pin, since));
                    waiters.add(tx);
                    waitedOn.put(b.node.address(), b.node);
                }
            }
        }
        if (waiters.size() < 2) {
            return; // a cycle needs two transactions that both wait
        }
        Map<ShardedTransaction, Set<ShardedTransaction>> graph = new LinkedHashMap<>();
        for (Map.Entry<NodeAddress, NodeDataSource> e : waitedOn.entrySet()) {
            Map<Long, ShardedTransaction> own = owners.getOrDefault(e.getKey(), Map.of());
            for (long[] w : lockWaits(e.getKey())) {
                ShardedTransaction waiter = own.get(w[0]);
                ShardedTransaction holder = own.get(w[1]);
                if (waiter != null && holder != null && waiter != holder && waiters.contains(waiter)) {
                    graph.computeIfAbsent(waiter, k -> new LinkedHashSet<>()).add(holder);
                }
            }
        }
        for (WaitForGraph.Cycle<ShardedTransaction> c : WaitForGraph.victims(graph,
                Comparator.comparingLong((ShardedTransaction t) -> t.startedNanos))) {
            rollBack(c, waiting);
        }
    }

    /** The victim is marked and its waiting statements interrupted; the relay rolls it back when their errors come. */
    private void rollBack(WaitForGraph.Cycle<ShardedTransaction> c, List<Waiting> waiting) {
        for (ShardedTransaction member : c.members()) {
            if (waiting.stream().noneMatch(w -> w.tx() == member && w.pin().backend.busySinceNanos == w.since())) {
                return; // a member's wait ended while the servers were read (a timeout, a client gone): no cycle now
            }
        }
        ShardedTransaction victim = c.victim();
        StringJoiner where = new StringJoiner(", ");
        for (Waiting w : waiting) {
            if (c.members().contains(w.tx())) {
                where.add((w.tx() == victim ? "this one on " : "another on ") + w.pin().backend.node.address()
                        + " (group " + w.pin().group + ")");
            }
        }
        String why = "[cluster=" + config.name() + "] Deadlock found when trying to get lock; try restarting transaction: "
                + c.members().size() + " transactions over several groups waited for each other's locks (" + where
                + "), which no server sees whole; the proxy rolled back this one, the youngest, on every group";
        victim.victim(why);
        int interrupted = 0;
        for (Waiting w : waiting) {
            Backend b = w.pin().backend;
            if (w.tx() != victim || b.busySinceNanos != w.since()) {
                continue; // another transaction's, or the statement ended meanwhile
            }
            try (Connection conn = b.node.getConnection(); Statement s = conn.createStatement()) {
                s.execute("KILL QUERY " + b.serverThreadId);
                interrupted++;
            } catch (SQLException e) {
                log.warn("[cluster={} node={}] could not interrupt the statement of a deadlock's victim (KILL QUERY {}): {}; "
                        + "it waits for innodb_lock_wait_timeout", config.name(), b.node.address(), b.serverThreadId, e.getMessage());
            }
        }
        if (interrupted > 0) {
            backends.deadlockVictims.increment();
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
            Connection c = readers.get(address);
            if (c == null) {
                c = DriverManager.getConnection("jdbc:mysql://" + address + "/", readerProperties);
                readers.put(address, c);
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(LOCK_WAITS)) {
                while (rs.next()) {
                    waits.add(new long[]{rs.getLong(1), rs.getLong(2)});
                }
            }
            refusedUntil.remove(address);
        } catch (SQLException e) {
            Connection c = readers.remove(address);
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken anyway
                }
            }
            if (e.getErrorCode() == 1227 || e.getErrorCode() == 1044 || e.getErrorCode() == 1045) {
                refusedUntil.put(address, System.nanoTime() + REFUSED_RETRY_MS * 1_000_000L);
                log.warn("[cluster={} node={}] cannot read the lock waits as user {} ({}): deadlocks between transactions "
                        + "over several groups end only at innodb_lock_wait_timeout there. Give that user PROCESS (a "
                        + "monitor: user with PROCESS is used when set), or set proxy.deadlockCheckMs: 0; asking again "
                        + "in {} s", config.name(), address, readerProperties.getProperty("user"), e.getMessage(),
                        REFUSED_RETRY_MS / 1000);
            } else {
                log.debug("[cluster={} node={}] lock waits: {}", config.name(), address, e.getMessage());
            }
        }
        return waits;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Connection c : readers.values()) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        readers.clear();
    }
}
