package dev.ballast.jdbc.health;

import dev.ballast.replication.ServerDialect;
import dev.ballast.replication.Texts;
import dev.ballast.replication.Position;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.MonitorCredentials;
import dev.ballast.rules.NodeAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Probes every server of a cluster each {@code readPolicy.probeIntervalMs} and keeps an immutable snapshot per
 * replica group: the master's position and reachability, and for each replica whether it is reachable, replicating
 * and how stale it is ({@link LagTracker}). Readers call {@link #group(String)}: a volatile read, no lock.
 *
 * <pre>{@code
 * try (HealthProbe probe = new HealthProbe(config)) {
 *     probe.start();                                  // one full round first: snapshots exist from here on
 *     GroupHealth g0 = probe.group("g0");
 *     g0.replicas().values().stream().filter(r -> r.qualifies(maxLag)) ...
 * }
 * }</pre>
 *
 * <p><b>Connections.</b> One plain JDBC connection per server ({@code jdbc:mysql://host:port/database}, as the
 * application user), opened on first use and reopened after it broke. With a {@code monitor:} user in the config the
 * probe connects as that user instead (without a default database, which it has no rights on) and also reads each
 * replica's IO/SQL thread state. {@code connectTimeout} is the pool's; {@code socketTimeout} is the pool's but at most
 * {@code max(1000, 2 * probeIntervalMs)} ms, so a hung server answers "unreachable" within about two intervals.
 *
 * <p><b>Threads.</b> Rounds run on one daemon thread, {@code ballast-health-<cluster>}. The queries run on a small
 * fixed pool ({@code ballast-health-<cluster>-io-N}, one thread per server up to 4) with at most one probe per server
 * in flight. A round waits for its probes at most one interval; a server still busy then (hung: SIGSTOP, a full
 * backlog, a dead network path) keeps its previous status and is skipped by later rounds until its probe ends within
 * its timeouts. So a hung server costs the others nothing as long as fewer hung servers than threads exist; beyond
 * that, probes of healthy servers queue behind the timeouts. Chosen over one sequential loop per group because a
 * hung master would then also freeze the view of its replicas.
 *
 * <p><b>Not guaranteed.</b> A snapshot is up to one interval old (longer for a hung server, whose {@code
 * probedAtNanos} then stops advancing). Lag is a lower bound (see {@link LagTracker}) and unknown ({@code -1}) until
 * the master has answered once. Listeners run on the probe thread; a slow listener delays the next round.
 */
public final class HealthProbe implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthProbe.class);
    private static final int MAX_IO_THREADS = 4;

    private enum State { LATENT, STARTED, CLOSED }

    /** What one probe of one server found; {@code position == null} when it failed. */
    private record Reading(long atNanos, Position position, Boolean replicating, String threadProblem, String error) {
        static Reading failed(long atNanos, String error) {
            return new Reading(atNanos, null, null, "", error);
        }

        boolean ok() {
            return position != null;
        }
    }

    private record Ejection(long atNanos, String reason) {
    }

    /** One server. Fields are touched by the round thread, or under {@link #publishLock} where said. */
    private static final class Server {
        final String group;
        final NodeAddress node;
        final boolean master;
        final String context;
        final ServerConnection connection;
        volatile boolean statusDeniedLogged;
        Future<Reading> inFlight;
        Reading last;
        Position lastPosition;
        // under publishLock
        ReplicaStatus status;
        Ejection ejection;
        Boolean wasQualified;
        Boolean wasReachable;

        Server(String group, NodeAddress node, boolean master, String context, ServerConnection connection) {
            this.group = group;
            this.node = node;
            this.master = master;
            this.context = context;
            this.connection = connection;
        }
    }

    private static final class Group {
        final GroupConfig config;
        final ServerDialect dialect;
        final LagTracker tracker = new LagTracker();
        final Server master;
        final List<Server> replicas;

        Group(GroupConfig config, Server master, List<Server> replicas) {
            this.config = config;
            this.dialect = ServerDialect.of(config.flavour());
            this.master = master;
            this.replicas = List.copyOf(replicas);
        }
    }

    private final ClusterConfig config;
    private final long intervalMs;
    private final long maxLagMs;
    private final int connectTimeoutMs;
    private final int socketTimeoutMs;
    private final Optional<MonitorCredentials> monitor;
    private final List<Group> groups = new ArrayList<>();
    private final Map<NodeAddress, Server> replicas = new LinkedHashMap<>();
    private final Map<Server, Group> groupOf = new LinkedHashMap<>();
    private final List<Server> servers = new ArrayList<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final CopyOnWriteArrayList<Consumer<GroupHealth>> listeners = new CopyOnWriteArrayList<>();
    private final Object publishLock = new Object();
    private volatile Map<String, GroupHealth> snapshots = Map.of();
    private volatile ScheduledExecutorService scheduler;
    private volatile ExecutorService io;
    private volatile Thread probeThread;

    /** Told how long each probe of a server took (on the probe's io thread; keep it cheap). */
    public interface Timing {
        Timing NONE = (group, node, ok, nanos) -> { };

        void probed(String group, NodeAddress node, boolean ok, long nanos);
    }

    private final Timing timing;

    public HealthProbe(ClusterConfig config) {
        this(config, Timing.NONE);
    }

    public HealthProbe(ClusterConfig config, Timing timing) {
        this.config = config;
        this.timing = timing;
        this.intervalMs = config.readPolicy().probeIntervalMs();
        this.maxLagMs = config.readPolicy().maxReplicaLagMs();
        this.connectTimeoutMs = config.pool().connectTimeoutMs();
        int cap = (int) Math.min(Integer.MAX_VALUE, Math.max(1000, 2 * intervalMs));
        int poolSocketTimeout = config.pool().socketTimeoutMs();
        this.socketTimeoutMs = poolSocketTimeout <= 0 ? cap : Math.min(poolSocketTimeout, cap);
        this.monitor = config.monitor();
        for (GroupConfig g : config.groups().values()) {
            Server master = server(g, g.master(), true);
            List<Server> groupReplicas = new ArrayList<>();
            for (NodeAddress r : g.replicas()) {
                Server replica = server(g, r, false);
                if (replicas.putIfAbsent(r, replica) != null) {
                    throw new IllegalArgumentException("[cluster=" + config.name() + "] " + r
                            + " is a replica in two groups; a server belongs to one group");
                }
                groupReplicas.add(replica);
            }
            Group group = new Group(g, master, groupReplicas);
            groups.add(group);
            servers.add(master);
            servers.addAll(groupReplicas);
            groupOf.put(master, group);
            groupReplicas.forEach(r -> groupOf.put(r, group));
        }
        long now = System.nanoTime();
        for (Server r : replicas.values()) {
            r.status = new ReplicaStatus(r.node, false, null, -1, Position.empty(groupOf.get(r).config.flavour()), now,
                    r.context + " no answer yet");
        }
    }

    private Server server(GroupConfig g, NodeAddress node, boolean master) {
        String context = "[cluster=" + config.name() + " group=" + g.name() + " node=" + node + "]";
        Properties p = new Properties();
        config.pool().jdbcProperties().forEach(p::setProperty);
        p.setProperty("user", monitor.map(MonitorCredentials::user).orElse(config.credentials().user()));
        p.setProperty("password", monitor.map(MonitorCredentials::password).orElse(config.credentials().password()));
        p.setProperty("connectTimeout", Integer.toString(connectTimeoutMs));
        p.setProperty("socketTimeout", Integer.toString(socketTimeoutMs));
        // The monitor user has no rights on the application's schema, and needs none to read positions.
        String database = monitor.isPresent() ? "" : config.database();
        return new Server(g.name(), node, master, context, new ServerConnection(context, node, database, p));
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    /**
     * Probes every server once and waits for the answers (a server that is down or hung shows as unreachable; this
     * never throws for that), then probes every {@code probeIntervalMs} on the background thread.
     *
     * @throws IllegalStateException if already started or closed
     */
    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("[cluster=" + config.name() + "] health probe is " + state.get()
                    + "; start() may be called once");
        }
        String name = "ballast-health-" + config.name();
        int threads = Math.max(1, Math.min(MAX_IO_THREADS, servers.size()));
        AtomicInteger ioThreads = new AtomicInteger();
        io = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name + "-io-" + ioThreads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            probeThread = t;
            return t;
        });
        s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        scheduler = s;
        // The first round waits for every answer: a probe ends within connect + socket timeout, twice if queued.
        round(TimeUnit.MILLISECONDS.toNanos(2L * (connectTimeoutMs + socketTimeoutMs) + 1000));
        if (state.get() == State.STARTED) {
            s.scheduleAtFixedRate(this::scheduledRound, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
        }
        log.debug("[cluster={}] probing {} servers every {} ms (connectTimeout {} ms, socketTimeout {} ms{})",
                config.name(), servers.size(), intervalMs, connectTimeoutMs, socketTimeoutMs,
                monitor.isPresent() ? ", as monitor user " + monitor.get().user() : "");
    }

    /** Stops probing and closes the connections (one still in a probe closes when that probe ends). Idempotent. */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        ScheduledExecutorService s = scheduler;
        ExecutorService pool = io;
        if (s != null) {
            s.shutdownNow();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        for (Server server : servers) {
            server.connection.close();
        }
        if (s != null && Thread.currentThread() != probeThread) {
            try {
                s.awaitTermination(1, TimeUnit.SECONDS); // a round in progress only has to notice the interrupt
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- reading --------------------------------------------------------------------------------

    /**
     * The latest snapshot of a group.
     *
     * @throws IllegalStateException    before {@link #start()}
     * @throws IllegalArgumentException for a group the config does not have
     */
    public GroupHealth group(String name) {
        GroupHealth g = snapshots.get(name);
        if (g == null) {
            if (state.get() == State.LATENT) {
                throw new IllegalStateException("[cluster=" + config.name() + "] health probe not started; call start() first");
            }
            throw new IllegalArgumentException("[cluster=" + config.name() + "] no group '" + name + "'; groups are "
                    + config.groups().keySet());
        }
        return g;
    }

    /**
     * Reads a replica's applied position now, over the probe's connection to it; for read-your-writes. Takes at
     * most about twice the connect plus socket timeout (when a probe is using the connection, it waits for that).
     *
     * @throws SQLException             naming the node, when it cannot be read
     * @throws IllegalArgumentException if {@code replica} is not a replica of this cluster
     */
    public Position freshApplied(NodeAddress replica) throws SQLException {
        Server r = replica(replica);
        if (state.get() == State.CLOSED) {
            throw new SQLNonTransientConnectionException(r.context + " the health probe is closed", "08003");
        }
        Group g = groupOf.get(r);
        try {
            String text = r.connection.use(c -> ServerConnection.single(c, g.dialect.appliedPositionQuery()),
                    connectTimeoutMs + socketTimeoutMs);
            return Position.parse(g.config.flavour(), text);
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(r.context)) {
                throw e;
            }
            String message = r.context + " cannot read the replica's applied position: " + Texts.brief(e);
            throw ServerConnection.breaksConnection(e)
                    ? new SQLTransientConnectionException(message, e.getSQLState(), e.getErrorCode(), e)
                    : new SQLException(message, e.getSQLState(), e.getErrorCode(), e);
        } catch (IllegalArgumentException e) {
            throw new SQLException(r.context + " unreadable applied position: " + e.getMessage(), "HY000", e);
        }
    }

    /**
     * Marks a replica unreachable in its group's snapshot (at once, and listeners hear of it) until a probe that
     * starts after this call finds it qualifying again. For callers that saw it fail before the probe did.
     *
     * @throws IllegalArgumentException if {@code replica} is not a replica of this cluster
     */
    public void eject(NodeAddress replica, String reason) {
        Server r = replica(replica);
        GroupHealth published = null;
        synchronized (publishLock) {
            r.ejection = new Ejection(System.nanoTime(), reason == null || reason.isBlank() ? "no reason given" : reason);
            if (!snapshots.isEmpty()) {
                GroupHealth g = snapshot(groupOf.get(r));
                Map<String, GroupHealth> next = new LinkedHashMap<>(snapshots);
                next.put(g.group(), g);
                snapshots = Collections.unmodifiableMap(next);
                published = g;
            }
        }
        if (published != null) {
            tell(published);
        }
    }

    /** Called with each group's new snapshot after every round (on the probe thread) and after {@link #eject}. */
    public void addListener(Consumer<GroupHealth> listener) {
        listeners.add(listener);
    }

    private Server replica(NodeAddress node) {
        Server r = replicas.get(node);
        if (r == null) {
            throw new IllegalArgumentException("[cluster=" + config.name() + "] " + node + " is not a replica in the config; "
                    + "replicas are " + replicas.keySet());
        }
        return r;
    }

    // ---- rounds ---------------------------------------------------------------------------------

    private void scheduledRound() {
        try {
            round(TimeUnit.MILLISECONDS.toNanos(intervalMs));
        } catch (RuntimeException | Error e) {
            // an exception would cancel the schedule: keep probing
            if (state.get() != State.CLOSED) {
                log.error("[cluster={}] health probe round failed; probing goes on", config.name(), e);
            }
        }
    }

    /** Sends a probe to every server without one in flight, waits up to {@code waitNanos}, publishes what came back. */
    private void round(long waitNanos) {
        long start = System.nanoTime();
        for (Server s : servers) {
            if (s.inFlight == null) {
                Group g = groupOf.get(s);
                s.inFlight = io.submit(() -> probe(g, s));
            }
        }
        for (Server s : servers) {
            long left = start + waitNanos - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                s.inFlight.get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException | CancellationException e) {
                // still busy (it stays in flight) or failed (collected below)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return; // closing
            }
        }
        List<GroupHealth> published = new ArrayList<>(groups.size());
        synchronized (publishLock) {
            if (state.get() == State.CLOSED) {
                return;
            }
            Map<String, GroupHealth> next = new LinkedHashMap<>();
            for (Group g : groups) {
                collect(g);
                GroupHealth h = snapshot(g);
                next.put(h.group(), h);
                published.add(h);
            }
            snapshots = Collections.unmodifiableMap(next);
        }
        published.forEach(this::tell);
    }

    /** Takes the finished readings of a group: the master's first, so replicas are compared with its newest position. */
    private void collect(Group g) {
        Reading m = take(g.master);
        if (m != null) {
            g.master.last = m;
            if (m.ok()) {
                g.master.lastPosition = m.position();
                g.tracker.masterSample(m.atNanos(), m.position());
            }
        }
        for (Server r : g.replicas) {
            Reading x = take(r);
            if (x != null) {
                r.last = x;
                if (x.ok()) {
                    r.lastPosition = x.position();
                }
                r.status = status(g, r, x);
            }
        }
    }

    private static Reading take(Server s) {
        Future<Reading> f = s.inFlight;
        if (f == null || !f.isDone()) {
            return null;
        }
        s.inFlight = null;
        try {
            return f.get();
        } catch (ExecutionException | CancellationException | InterruptedException e) {
            return Reading.failed(System.nanoTime(), "probe failed: " + e);
        }
    }

    private ReplicaStatus status(Group g, Server r, Reading x) {
        Position applied = r.lastPosition != null ? r.lastPosition : Position.empty(g.config.flavour());
        if (!x.ok()) {
            return new ReplicaStatus(r.node, false, null, -1, applied, x.atNanos(), r.context + " unreachable: " + x.error());
        }
        long lag = g.tracker.lagMillis(x.position(), x.atNanos());
        String problem = "";
        if (Boolean.FALSE.equals(x.replicating())) {
            problem = r.context + " " + x.threadProblem();
        } else if (lag < 0) {
            Reading m = g.master.last;
            problem = r.context + " lag unknown: no position from master " + g.master.node + " yet"
                    + (m != null && !m.ok() ? " (" + m.error() + ")" : "");
        } else if (lag > maxLagMs) {
            problem = r.context + " replica lag " + lag + " ms > maxReplicaLagMs " + maxLagMs;
        }
        return new ReplicaStatus(r.node, true, x.replicating(), lag, x.position(), x.atNanos(), problem);
    }

    /** The group as published now: ejections applied, changes of state logged. Under publishLock. */
    private GroupHealth snapshot(Group g) {
        Map<NodeAddress, ReplicaStatus> statuses = new LinkedHashMap<>();
        for (Server r : g.replicas) {
            ReplicaStatus s = r.status;
            Ejection e = r.ejection;
            if (e != null) {
                if (s.probedAtNanos() - e.atNanos() > 0 && s.qualifies(maxLagMs)) {
                    r.ejection = null;
                } else {
                    s = new ReplicaStatus(s.node(), false, s.replicating(), s.lagMillis(), s.applied(), s.probedAtNanos(),
                            r.context + " ejected: " + e.reason());
                }
            }
            boolean qualifies = s.qualifies(maxLagMs);
            if (r.wasQualified == null ? !qualifies : r.wasQualified != qualifies) {
                if (qualifies) {
                    log.info("{} replica qualifies again: lag {} ms <= maxReplicaLagMs {}", r.context, s.lagMillis(), maxLagMs);
                } else {
                    log.warn("{}: no new reads", s.problem());
                }
            }
            r.wasQualified = qualifies;
            statuses.put(r.node, s);
        }
        Reading m = g.master.last;
        boolean masterReachable = m != null && m.ok();
        if (g.master.wasReachable == null ? !masterReachable : g.master.wasReachable != masterReachable) {
            if (masterReachable) {
                log.info("{} master reachable again", g.master.context);
            } else {
                log.warn("{} master unreachable: {}", g.master.context, m == null ? "no answer yet" : m.error());
            }
        }
        g.master.wasReachable = masterReachable;
        Position master = g.master.lastPosition != null ? g.master.lastPosition : Position.empty(g.config.flavour());
        return new GroupHealth(g.config.name(), master, masterReachable, statuses);
    }

    private void tell(GroupHealth g) {
        for (Consumer<GroupHealth> listener : listeners) {
            try {
                listener.accept(g);
            } catch (RuntimeException e) {
                log.warn("[cluster={} group={}] health listener {} failed", config.name(), g.group(), listener, e);
            }
        }
    }

    // ---- one probe (on an io thread) ------------------------------------------------------------

    private Reading probe(Group g, Server s) {
        long start = System.nanoTime();
        Reading r = probeNow(g, s);
        try {
            timing.probed(g.config.name(), s.node, r.ok(), System.nanoTime() - start);
        } catch (RuntimeException e) {
            log.debug("{} probe timing: {}", s.context, e.toString());
        }
        return r;
    }

    private Reading probeNow(Group g, Server s) {
        long[] at = {System.nanoTime()};
        try {
            return s.connection.use(c -> {
                at[0] = System.nanoTime();
                String sql = s.master ? g.dialect.masterPositionQuery() : g.dialect.appliedPositionQuery();
                Position position = Position.parse(g.config.flavour(), ServerConnection.single(c, sql));
                if (s.master || monitor.isEmpty()) {
                    return new Reading(at[0], position, null, "", "");
                }
                return withThreads(g, s, c, at[0], position);
            }, connectTimeoutMs + socketTimeoutMs);
        } catch (SQLException e) {
            return Reading.failed(at[0], Texts.brief(e));
        } catch (RuntimeException e) {
            return Reading.failed(at[0], e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** Adds the replica's thread state, as the monitor user sees it in the status statement. */
    private Reading withThreads(Group g, Server s, Connection c, long at, Position position) throws SQLException {
        ServerDialect d = g.dialect;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(d.replicaStatusQuery())) {
            if (!rs.next()) {
                return new Reading(at, position, false, "replication is not configured (" + d.replicaStatusQuery()
                        + " returns no row)", "");
            }
            String io = text(rs.getString(d.ioRunningColumn()));
            String sql = text(rs.getString(d.sqlRunningColumn()));
            // IO "Connecting" counts as running: the master may be down, and then the replica is as fresh as it
            // gets; if the master is up and the replica cannot reach it, the lag shows it.
            if ("Yes".equalsIgnoreCase(sql) && !"No".equalsIgnoreCase(io)) {
                return new Reading(at, position, true, "", "");
            }
            String ioError = text(rs.getString(d.lastIoErrorColumn()));
            String sqlError = text(rs.getString(d.lastSqlErrorColumn()));
            return new Reading(at, position, false, "replication stopped: " + d.ioRunningColumn() + "=" + io + ", "
                    + d.sqlRunningColumn() + "=" + sql
                    + (sqlError.isEmpty() ? "" : ", " + d.lastSqlErrorColumn() + ": " + sqlError)
                    + (ioError.isEmpty() ? "" : ", " + d.lastIoErrorColumn() + ": " + ioError), "");
        } catch (SQLException e) {
            if (ServerConnection.breaksConnection(e)) {
                throw e;
            }
            if (!s.statusDeniedLogged) {
                s.statusDeniedLogged = true;
                log.warn("{} monitor user '{}' cannot run {}: {}; grant it SLAVE MONITOR (MariaDB) or REPLICATION CLIENT "
                        + "(MySQL). Until then replication threads are not checked", s.context, monitor.get().user(),
                        d.replicaStatusQuery(), Texts.brief(e));
            }
            return new Reading(at, position, null, "", "");
        }
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }

    @Override
    public String toString() {
        return "HealthProbe[cluster=" + config.name() + ", " + state.get() + ", " + servers.size() + " servers every "
                + intervalMs + " ms]";
    }
}
