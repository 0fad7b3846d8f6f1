package dev.ballast.failover;

import dev.ballast.failover.analysis.Analysis;
import dev.ballast.failover.analysis.AnalysisSettings;
import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Problem;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import dev.ballast.topology.TreeAcl;
import dev.ballast.topology.ZkRole;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The failover monitor of one cluster (DESIGN.md "Failover"). Every monitor probes every server each
 * {@code failover.probeIntervalMs} and publishes what it saw as ephemeral health records; the one elected leader (Curator
 * {@link LeaderLatch} at {@code monitor/leader}) also analyses each group from all monitors' records and recovers: a dead
 * master is replaced ({@link Recovery}), and a server that is writable but not the master of the newest epoch (an old
 * master that came back) is fenced and marked for rejoin. The leader stops acting at once when its ZooKeeper connection is
 * SUSPENDED and gives up leadership when it is LOST, so two monitors never act together.
 *
 * <p>Run several (on different machines) for the analysis to tell "the master is dead" from "I cannot reach it".
 */
public final class Monitor implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Monitor.class);

    private final ClusterConfig config;
    private final String id;
    private final CuratorFramework client;
    private final boolean ownsClient;
    private final TopologyStore store;
    private final NodeConnections nodes;
    private final LeaderLatch latch;
    private final ScheduledExecutorService loop;
    private final ExecutorService probes;
    private final Map<String, GroupTopology> lastSeen = new ConcurrentHashMap<>();
    private final Map<String, Problem> reported = new ConcurrentHashMap<>();
    private volatile Set<NodeAddress> drained = Set.of();
    private final Map<String, Long> lastRecoveryAt = new ConcurrentHashMap<>();
    private volatile Map<NodeAddress, NodeProbe> latest = Map.of();
    /** The newest finished probe of each server (a probe still running leaves the one before in place). */
    private final Map<NodeAddress, NodeProbe> finished = new ConcurrentHashMap<>();
    /** The probe running for each server: at most one at a time, so a hung server never holds more than one thread. */
    private final Map<NodeAddress, Running> running = new ConcurrentHashMap<>();
    private final AtomicLong probeSeq = new AtomicLong();
    private final ReceiveClock receiveClock = new ReceiveClock();
    private volatile boolean connected = true;
    private volatile boolean closed;
    private final AtomicInteger recoveries = new AtomicInteger();
    private final MonitorMetrics metrics;

    /**
     * @param client a started Curator client, or null to open one from the config (then closed with the monitor)
     */
    public Monitor(ClusterConfig config, String id, CuratorFramework client) {
        this(config, id, client, MonitorMetrics.prometheus(config));
    }

    /** A monitor whose meters go to {@code metrics} (served on {@code failover.metrics} when that is set). */
    public Monitor(ClusterConfig config, String id, CuratorFramework client, MonitorMetrics metrics) {
        if (config.failover().zookeeper().isEmpty() && client == null) {
            throw new IllegalArgumentException("[cluster=" + config.name() + "] failover.zookeeper is not set: a monitor "
                    + "publishes the topology in ZooKeeper and cannot run without it");
        }
        this.config = config;
        this.id = id;
        this.ownsClient = client == null;
        this.client = client == null ? TopologyStore.connect(config) : client;
        this.store = TopologyStore.of(this.client, config);
        this.nodes = new NodeConnections(config);
        this.latch = new LeaderLatch(this.client, store.leaderPath(), id);
        this.loop = Executors.newSingleThreadScheduledExecutor(daemon("ballast-monitor-" + id));
        this.probes = Executors.newFixedThreadPool(Math.max(2, Math.min(8, serverCount(config))), daemon("ballast-monitor-" + id + "-probe"));
        this.metrics = metrics;
        metrics.leader(id, this::acting);
    }

    /** This monitor's meters. */
    public MonitorMetrics metrics() {
        return metrics;
    }

    private static int serverCount(ClusterConfig config) {
        return config.groups().values().stream().mapToInt(g -> g.replicas().size() + 1).sum();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + (name.endsWith("probe") ? "-" + n.incrementAndGet() : ""));
            t.setDaemon(true);
            return t;
        };
    }

    /** Joins the election, writes the config's topology where ZooKeeper has none yet, and starts probing. */
    public Monitor start() throws Exception {
        config.failover().metrics().ifPresent(at -> log.info("[cluster={} monitor={}] metrics on http://{}:{}/metrics",
                config.name(), id, at.host(), metrics.serve(at)));
        client.getConnectionStateListenable().addListener((c, state) -> {
            connected = state.isConnected();
            if (state == ConnectionState.SUSPENDED) {
                log.warn("[cluster={} monitor={}] ZooKeeper connection suspended: not acting until it is back", config.name(), id);
            } else if (state == ConnectionState.LOST) {
                log.warn("[cluster={} monitor={}] ZooKeeper session lost: leadership given up", config.name(), id);
            }
        });
        if (!client.blockUntilConnected(config.failover().zkConnectionTimeoutMs(), TimeUnit.MILLISECONDS)) {
            log.warn("[cluster={} monitor={}] ZooKeeper {} not reachable yet; probing anyway, acting once it is",
                    config.name(), id, config.failover().zookeeper().orElse("(given client)"));
        } else {
            // An unprotected tree (older Ballast, or ACLs newly configured) is protected before anything is written to it.
            TreeAcl.forConfig(config, ZkRole.CONTROL_PLANE).ifPresent(acl -> acl.secure(client));
            store.bootstrap(config);
            loadRecoveryHistory();
            metrics.audit(store.recoveries(), false); // switchovers before this monitor started are not counted
        }
        latch.start();
        loop.execute(this::tick);
        return this;
    }

    public String id() {
        return id;
    }

    /** Whether this monitor is the leader and may act now. */
    public boolean acting() {
        return !closed && connected && client.getZookeeperClient().isConnected() && latch.hasLeadership();
    }

    /** How many recoveries this monitor published. */
    public int recoveries() {
        return recoveries.get();
    }

    /** The latest probe of each server. */
    /** The problems this monitor, while leading, found in {@code group} in its last round (what it logged). */
    public List<Problem> problems(String group) {
        return reported.entrySet().stream().filter(e -> e.getKey().startsWith(group + "|") && !e.getKey().endsWith("|anti-flap"))
                .map(Map.Entry::getValue).toList();
    }

    public Map<NodeAddress, NodeProbe> latest() {
        return latest;
    }

    private void loadRecoveryHistory() {
        for (String[] r : store.recoveries()) {
            try {
                AuditRecord.Summary o = AuditRecord.summary(r[1]);
                if ("failover".equals(o.kind()) && "done".equals(o.state()) && !o.acknowledged()) {
                    lastRecoveryAt.merge(o.group(), o.startedAt(), Math::max);
                }
            } catch (RuntimeException e) {
                log.debug("unreadable audit record {}: {}", r[0], e.toString());
            }
        }
    }

    // ---- the loop -------------------------------------------------------------------------------

    /**
     * One round, then the next one a probe interval after this one <em>started</em> (at once when it overran), so that
     * replicas are probed every interval even while a round waits for a slow server; a long recovery is not followed by
     * a burst of catch-up rounds.
     */
    private void tick() {
        long started = System.nanoTime();
        try {
            round();
        } finally {
            if (!closed) {
                long spentMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                try {
                    loop.schedule(this::tick, Math.max(0, config.failover().probeIntervalMs() - spentMs), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                }
            }
        }
    }

    private void round() {
        if (closed) {
            return;
        }
        try {
            Map<String, GroupTopology> previous = Map.copyOf(lastSeen);
            Map<String, GroupTopology> topologies = readTopologies();
            if (connected && !previous.isEmpty() && !previous.equals(topologies)) {
                // a change this monitor did not make now (e.g. a switchover by the CLI): count it if it ended; leaders only
                try {
                    metrics.audit(store.recoveries(), acting());
                } catch (RuntimeException e) {
                    log.debug("reading the audit log for metrics: {}", e.toString());
                }
            }
            Map<NodeAddress, NodeProbe> seen = probeAll(topologies);
            latest = seen;
            publish(seen);
            if (!acting()) {
                return;
            }
            Set<NodeAddress> marks = readDrained();
            for (GroupTopology t : topologies.values()) {
                if (!acting()) {
                    return;
                }
                examine(t, seen, marks);
            }
        } catch (RuntimeException e) {
            log.warn("[cluster={} monitor={}] round failed: {}", config.name(), id, e.toString(), e);
        } catch (Error e) {
            // tick() schedules the next round whatever happens, so an Error would vanish into a future nobody reads and
            // the monitor would go on probing without ever recovering (seen with a jar rebuilt under a running monitor).
            log.error("[cluster={} monitor={}] round failed with {}; if it repeats this monitor cannot recover anything: "
                    + "restart it", config.name(), id, e.toString(), e);
            if (e instanceof VirtualMachineError) {
                throw e;
            }
        }
    }

    private Map<String, GroupTopology> readTopologies() {
        Map<String, GroupTopology> out = new LinkedHashMap<>();
        for (GroupConfig g : config.groups().values()) {
            GroupTopology t = null;
            if (connected) {
                try {
                    t = store.read(g.name()).map(TopologyStore.Versioned::topology).orElse(null);
                } catch (RuntimeException e) {
                    log.debug("reading topology of {}: {}", g.name(), e.toString());
                }
            }
            if (t == null) {
                t = lastSeen.getOrDefault(g.name(), GroupTopology.of(g));
            }
            lastSeen.put(g.name(), t);
            metrics.topology(t);
            out.put(g.name(), t);
        }
        return out;
    }

    /** A probe under way: which one ({@code seq}), since when, and its result to come. */
    private record Running(long seq, long startedNanos, Future<?> future) {
    }

    /**
     * Probes every server of the topology and of the config (an old master that is no longer in the topology included)
     * and returns the newest result of each. The loop never waits for a slow server past {@code failover.probeTimeoutMs}:
     * it waits at most half a probe interval for this round's probes, a probe still running is not started again but
     * is picked up by a later round, and one running longer than probeTimeoutMs (the JDBC timeouts should have ended it)
     * counts as unreachable and has its connection aborted. So a hung master does not slow the probing of its replicas,
     * whose silence decides whether it is dead.
     */
    private Map<NodeAddress, NodeProbe> probeAll(Map<String, GroupTopology> topologies) {
        long timeoutMs = config.failover().probeTimeoutMs();
        long roundStart = System.nanoTime();
        Map<NodeAddress, Future<?>> started = new LinkedHashMap<>();
        Set<NodeAddress> all = new LinkedHashSet<>();
        for (GroupConfig g : config.groups().values()) {
            ServerDialect dialect = ServerDialect.of(g.flavour());
            Set<NodeAddress> servers = new LinkedHashSet<>(topologies.get(g.name()).servers());
            servers.add(g.master());
            servers.addAll(g.replicas());
            for (NodeAddress n : servers) {
                if (!all.add(n)) {
                    continue;
                }
                Running r = running.get(n);
                if (r != null && !r.future().isDone()) {
                    long ranMs = TimeUnit.NANOSECONDS.toMillis(roundStart - r.startedNanos());
                    if (ranMs < timeoutMs) {
                        continue;
                    }
                    running.remove(n, r);
                    r.future().cancel(true);
                    nodes.discard(n);
                    finished.put(n, NodeProbe.unreachable(n, "no answer within failover.probeTimeoutMs " + timeoutMs
                            + " ms (probe running for " + ranMs + " ms)", System.currentTimeMillis()));
                    continue;
                }
                long seq = probeSeq.incrementAndGet();
                Future<?> f = probes.submit(() -> {
                    NodeProbe p = receiveClock.stamp(metrics.probe(g.name(), () -> nodes.probe(n, dialect), NodeProbe::reachable));
                    Running self = running.get(n);
                    if (self != null && self.seq() == seq) {   // not given up on meanwhile
                        finished.put(n, p);
                    }
                });
                running.put(n, new Running(seq, System.nanoTime(), f));
                started.put(n, f);
            }
        }
        long deadline = roundStart + TimeUnit.MILLISECONDS.toNanos(Math.min(timeoutMs, Math.max(25, config.failover().probeIntervalMs() / 2)));
        for (Future<?> f : started.values()) {
            try {
                f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // still running: a later round takes its result, or gives up on it after probeTimeoutMs
            } catch (Exception e) {
                log.debug("probe failed: {}", e.toString());
            }
        }
        Map<NodeAddress, NodeProbe> out = new LinkedHashMap<>();
        for (NodeAddress n : all) {
            NodeProbe p = finished.get(n);
            if (p != null) {
                out.put(n, p);
            }
        }
        return out;
    }

    private void publish(Map<NodeAddress, NodeProbe> seen) {
        if (!connected) {
            return;
        }
        for (NodeProbe p : seen.values()) {
            try {
                store.publishHealth(p.node().toString(), id, p.toJson());
            } catch (RuntimeException e) {
                log.debug("publishing health of {}: {}", p.node(), e.toString());
                return;
            }
        }
    }

    /** Every monitor's latest view of the group's servers: this one's from memory, the others' from ZooKeeper. */
    private Map<String, Map<NodeAddress, NodeProbe>> views(GroupTopology t, Map<NodeAddress, NodeProbe> own) {
        Map<String, Map<NodeAddress, NodeProbe>> byMonitor = new LinkedHashMap<>();
        Map<NodeAddress, NodeProbe> mine = new LinkedHashMap<>();
        for (NodeAddress n : t.servers()) {
            NodeProbe p = own.get(n);
            if (p != null) {
                mine.put(n, p);
            }
        }
        byMonitor.put(id, mine);
        for (NodeAddress n : t.servers()) {
            for (Map.Entry<String, String> e : store.health(n.toString()).entrySet()) {
                if (e.getKey().equals(id)) {
                    continue;
                }
                try {
                    byMonitor.computeIfAbsent(e.getKey(), k -> new LinkedHashMap<>())
                            .put(n, NodeProbe.fromJson(e.getValue(), config.group(t.group()).flavour()));
                } catch (RuntimeException ex) {
                    log.debug("unreadable health record of {} by {}: {}", n, e.getKey(), ex.toString());
                }
            }
        }
        return byMonitor;
    }

    private AnalysisSettings settings() {
        long interval = config.failover().probeIntervalMs();
        return new AnalysisSettings(Math.max(1, config.readPolicy().maxReplicaLagMs() / 1000),
                Math.max(3 * interval + 3L * config.failover().probeTimeoutMs(), 2_000), System.currentTimeMillis(),
                config.failover().heartbeatPeriodMs(), config.failover().deadAfterHeartbeats());
    }

    /** The maintenance marks now; the last ones read when ZooKeeper does not answer (a mark is not dropped by a blip). */
    private Set<NodeAddress> readDrained() {
        try {
            drained = Set.copyOf(store.drained().keySet());
        } catch (RuntimeException e) {
            log.debug("[cluster={}] reading the maintenance marks: {}; using the last read {}", config.name(), e, drained);
        }
        return drained;
    }

    private void examine(GroupTopology t, Map<NodeAddress, NodeProbe> own, Set<NodeAddress> marks) {
        List<Problem> problems = Analysis.analyse(t, views(t, own), settings(), marks);
        report(t.group(), problems);
        Optional<Problem> failover = problems.stream().filter(p -> p.kind().needsFailover()).findFirst();
        if (failover.isPresent()) {
            recover(t.group(), failover.get());
            return;
        }
        fenceStrangers(t, own);
    }

    private void report(String group, List<Problem> problems) {
        Set<String> now = new LinkedHashSet<>();
        for (Problem p : problems) {
            String key = group + "|" + p.kind() + "|" + p.node();
            now.add(key);
            if (reported.putIfAbsent(key, p) == null) {
                log.warn("[cluster={} group={} node={}] {}: {}", config.name(), group, p.node(), p.kind(), p.detail());
            }
        }
        reported.keySet().removeIf(k -> k.startsWith(group + "|") && !now.contains(k) && logCleared(k));
    }

    private boolean logCleared(String key) {
        log.info("[cluster={} monitor={}] cleared: {}", config.name(), id, key.replace('|', ' '));
        return true;
    }

    /** Recovers a group under its lock, after checking again that the problem holds and the anti-flap window allows. */
    private void recover(String group, Problem problem) {
        long window = config.failover().antiFlapWindowMs();
        Long last = lastRecoveryAt.get(group);
        if (last != null && System.currentTimeMillis() - last < window) {
            String key = group + "|anti-flap";
            if (reported.putIfAbsent(key, problem) == null) {
                log.error("[cluster={} group={}] {} but the group was failed over {} s ago (failover.antiFlapWindowMs {} ms): "
                        + "not acting; fix by hand, or acknowledge the last recovery with 'ballast ack --group {}'",
                        config.name(), group, problem.kind(), (System.currentTimeMillis() - last) / 1000, window, group);
            }
            refreshAcknowledgements();
            return;
        }
        InterProcessMutex lock = new InterProcessMutex(client, store.lockPath(group));
        try {
            if (!lock.acquire(config.failover().probeTimeoutMs(), TimeUnit.MILLISECONDS)) {
                log.info("[cluster={} group={}] another change of this group holds its lock; next round", config.name(), group);
                return;
            }
        } catch (Exception e) {
            log.warn("[cluster={} group={}] taking the group's lock: {}", config.name(), group, e.toString());
            return;
        }
        try {
            Optional<TopologyStore.Versioned> seen = store.read(group);
            if (seen.isEmpty() || !acting()) {
                return;
            }
            // Re-check: the topology may have moved on, or the master may have come back. This monitor's own probe of
            // the master is the re-check when it failed within the last interval and timeout (a second probe of a hung
            // master would cost probeTimeoutMs more); otherwise probe it again, on a connection of its own (a probe of
            // the loop may still hold the kept one).
            GroupTopology t = seen.get().topology();
            if (!t.master().equals(problem.node())) {
                return;
            }
            NodeProbe own = latest.get(t.master());
            long recent = config.failover().probeIntervalMs() + config.failover().probeTimeoutMs();
            NodeProbe master = own != null && !own.reachable() && System.currentTimeMillis() - own.probedAtMillis() <= recent
                    ? own : nodes.probeOnce(t.master(), ServerDialect.of(config.group(group).flavour()));
            if (master.reachable()) {
                log.info("[cluster={} group={}] {} answers again; no failover", config.name(), group, t.master());
                return;
            }
            long started = System.nanoTime();
            Recovery.Outcome outcome = new Recovery(config, nodes, store, id, this::acting).failover(seen.get(), problem);
            metrics.failover(group, outcome.published(), System.nanoTime() - started);
            if (outcome.published()) {
                recoveries.incrementAndGet();
                lastRecoveryAt.put(group, System.currentTimeMillis());
                lastSeen.put(group, outcome.after());
                metrics.topology(outcome.after());
            }
        } finally {
            try {
                lock.release();
            } catch (Exception e) {
                log.debug("releasing the lock of {}: {}", group, e.toString());
            }
        }
    }

    /** An operator acknowledged the last recovery ({@code ballast ack}): the anti-flap window no longer applies. */
    private void refreshAcknowledgements() {
        Map<String, Long> latestDone = new HashMap<>();
        for (String[] r : store.recoveries()) {
            try {
                AuditRecord.Summary o = AuditRecord.summary(r[1]);
                if ("failover".equals(o.kind()) && "done".equals(o.state())) {
                    if (o.acknowledged()) {
                        latestDone.remove(o.group());
                    } else {
                        latestDone.put(o.group(), o.startedAt());
                    }
                }
            } catch (RuntimeException ignored) {
                // not ours to judge
            }
        }
        lastRecoveryAt.keySet().removeIf(g -> !latestDone.containsKey(g));
    }

    /**
     * A server of this group that is not in its topology (an old master that came back, perhaps restarted from a config
     * that says "master") and is writable: set it read_only before any client could write to it, and mark it for rejoin.
     * The data plane would not write to it anyway (it is not the master of the newest epoch); this stops other writers.
     *
     * <p>Under the group's lock, like recovery and switchover, and only after reading the topology and probing the node
     * again there: {@code t} was read at the start of the round, and a switchover that held the lock meanwhile may have
     * promoted that very node (it is writable before the new epoch is published). Not fenced this round when the lock is
     * busy; the next round tries again.
     */
    private void fenceStrangers(GroupTopology t, Map<NodeAddress, NodeProbe> own) {
        GroupConfig g = config.group(t.group());
        Set<NodeAddress> configured = new LinkedHashSet<>();
        configured.add(g.master());
        configured.addAll(g.replicas());
        List<NodeAddress> strangers = new ArrayList<>();
        for (NodeAddress n : configured) {
            NodeProbe p = own.get(n);
            if (!t.servers().contains(n) && p != null && p.writable()) {
                strangers.add(n);
            }
        }
        if (strangers.isEmpty()) {
            return;
        }
        InterProcessMutex lock = new InterProcessMutex(client, store.lockPath(t.group()));
        try {
            if (!lock.acquire(config.failover().probeTimeoutMs(), TimeUnit.MILLISECONDS)) {
                log.info("[cluster={} group={}] {} writable outside the topology, but another change of this group holds its "
                        + "lock; not fencing this round", config.name(), t.group(), strangers);
                return;
            }
        } catch (Exception e) {
            log.warn("[cluster={} group={}] taking the group's lock: {}", config.name(), t.group(), e.toString());
            return;
        }
        try {
            ServerDialect dialect = ServerDialect.of(g.flavour());
            for (NodeAddress n : strangers) {
                if (!acting()) {
                    return;
                }
                GroupTopology now = store.read(t.group()).map(TopologyStore.Versioned::topology).orElse(t);
                if (now.servers().contains(n)) {
                    log.info("[cluster={} group={} node={}] in the topology of epoch {} now (master {}); not fenced",
                            config.name(), t.group(), n, now.epoch(), now.master());
                    continue;
                }
                NodeProbe p = nodes.probe(n, dialect);
                if (!p.writable()) {
                    continue;
                }
                fence(now, n, p, dialect);
            }
        } finally {
            try {
                lock.release();
            } catch (Exception e) {
                log.debug("releasing the lock of {}: {}", t.group(), e.toString());
            }
        }
    }

    private void fence(GroupTopology t, NodeAddress n, NodeProbe p, ServerDialect dialect) {
        AuditRecord audit = new AuditRecord("fence", t.group(), id).text("node", n.toString())
                .text("reason", n + " is writable but not in epoch " + t.epoch() + " (master " + t.master() + ")")
                .text("executed", p.executed() == null ? "" : p.executed().toString());
        try (Connection c = nodes.connect(n)) {
            int killed = dialect.depose(c, config.failover().probeTimeoutMs());
            audit.step("fence").text("killedConnections", Integer.toString(killed)).state("done");
            log.warn("[cluster={} group={} node={}] fenced ({} client connections killed): it was writable but is not master "
                    + "of epoch {} ({} is); marked for rejoin: 'ballast rejoin --group {} --node {}'", config.name(), t.group(),
                    n, killed, t.epoch(), t.master(), t.group(), n);
        } catch (SQLException e) {
            audit.state("failed").text("error", e.getMessage());
            log.error("[cluster={} group={} node={}] writable outside the topology and could not be fenced: {}",
                    config.name(), t.group(), n, e.getMessage());
        }
        try {
            store.appendRecovery(audit.toJson());
        } catch (RuntimeException e) {
            log.debug("audit of fence: {}", e.toString());
        }
    }

    /** Stops probing and acting; gives up leadership at once (the next monitor takes over without waiting for a timeout). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        loop.shutdownNow();
        probes.shutdownNow();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            latch.close(LeaderLatch.CloseMode.SILENT);
        } catch (Exception e) {
            log.debug("closing the leader latch: {}", e.toString());
        }
        nodes.close();
        metrics.close();
        if (ownsClient) {
            client.close();
        }
    }

    /** For tests and operators: list the health records of the group's servers, by node. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        latest.forEach((n, p) -> out.add(n + " " + (p.reachable() ? (p.readOnly() ? "read-only" : "writable") + " "
                + p.executed() + p.replication().map(r -> " <- " + r.master() + " io=" + r.io() + " sql=" + r.sqlRunning()).orElse("")
                : "unreachable: " + p.error())));
        return out;
    }
}
