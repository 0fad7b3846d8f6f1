package dev.ballast.jdbc.internal;

import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.replication.Position;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.ReadPolicy;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.LiveTopology;
import dev.ballast.rules.shardingsphere.ShardingSphereRules;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Chooses the server for an autocommit read in a group: a replica that is reachable, replicating and
 * within {@code maxReplicaLagMs}, and that has the connection's own writes (read-your-writes); else the
 * master, or an error when {@code fallback: fail}. Reached from ShardingSphere through
 * {@link BallastLoadBalancer}; the decision reads the health snapshot only, except for one fresh
 * position check when read-your-writes needs it.
 */
public final class ReadRouter {

    private static final Map<String, ReadRouter> REGISTRY = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();
    private final ClusterConfig config;
    private final ReadPolicy policy;
    private final dev.ballast.metrics.DataPlaneMetrics metrics;
    private volatile HealthProbe probe;
    private final LiveTopology topology;
    /** one pool per server and role, made when the server first takes the role */
    private final Map<String, NodeDataSource> pools = new ConcurrentHashMap<>();
    private final Map<String, Integer> slots = new HashMap<>();
    private volatile Map<String, Routes> groups = Map.of();

    /** Where a group's statements go now: immutable, replaced whole when the topology changes. */
    private static final class Routes {
        final GroupConfig group;
        final GroupTopology topology;
        final String masterUnit;
        final NodeDataSource master;
        final List<String> replicaUnits = new ArrayList<>();
        final Map<String, NodeDataSource> replicas = new HashMap<>();
        final AtomicInteger next;

        Routes(GroupConfig group, GroupTopology topology, NodeDataSource master, AtomicInteger next) {
            this.group = group;
            this.topology = topology;
            this.masterUnit = ShardingSphereRules.masterUnit(group.name());
            this.master = master;
            this.next = next;
        }
    }

    /**
     * @param probe    the health of the servers of {@code topology} as it is now
     * @param topology who serves each group; the router follows its changes through {@link #follow}
     */
    public ReadRouter(ClusterConfig config, HealthProbe probe, LiveTopology topology) {
        this.config = config;
        this.policy = config.readPolicy();
        this.metrics = new dev.ballast.metrics.DataPlaneMetrics(config);
        this.probe = probe;
        this.topology = topology;
        Map<String, Routes> initial = new HashMap<>();
        for (GroupConfig g : config.groups().values()) {
            slots.put(g.name(), g.replicas().size());
            initial.put(g.name(), routes(g, topology.get(g.name()), new AtomicInteger()));
        }
        groups = Map.copyOf(initial);
        topology.addDrainListener(this::countDrained);
        REGISTRY.put(id, this);
    }

    private Routes routes(GroupConfig g, GroupTopology t, AtomicInteger next) {
        Routes r = new Routes(g, t, pool(g.name(), NodeDataSource.MASTER, t.master()), next);
        int n = Math.min(slots.get(g.name()), t.replicas().size());
        if (n < t.replicas().size()) {
            org.slf4j.LoggerFactory.getLogger(ReadRouter.class).warn("[cluster={} group={}] the topology has {} replicas; "
                    + "reads use the first {} (the config lists {} replicas)", config.name(), g.name(), t.replicas().size(), n, n);
        }
        for (int i = 0; i < n; i++) {
            String unit = ShardingSphereRules.replicaUnit(g.name(), i);
            r.replicaUnits.add(unit);
            r.replicas.put(unit, pool(g.name(), NodeDataSource.REPLICA, t.replicas().get(i)));
        }
        return r;
    }

    private NodeDataSource pool(String group, String role, NodeAddress address) {
        return pools.computeIfAbsent(role + "@" + address, k -> {
            NodeDataSource node = new NodeDataSource(config, group, role, address, metrics);
            if (NodeDataSource.REPLICA.equals(role)) {
                node.routeFailuresThrough(this);
            }
            return node;
        });
    }

    /**
     * Moves the group's routes to {@code t} (reads keep the old probe's view of the replicas until {@link #useProbe}). The write pool of a master that is no longer master is closed (its
     * connections in use are aborted: nothing more is written through them) and so is the read pool of a server that
     * is no longer a replica.
     */
    public synchronized void follow(GroupTopology t) {
        Routes before = groups.get(t.group());
        if (before == null) {
            return;
        }
        Routes after = routes(before.group, t, before.next);
        Map<String, Routes> next = new HashMap<>(groups);
        next.put(t.group(), after);
        groups = Map.copyOf(next);
        if (!before.topology.master().equals(t.master())) {
            retire(NodeDataSource.MASTER, before.topology.master());
        }
        for (NodeAddress r : before.topology.replicas()) {
            if (!t.replicas().contains(r)) {
                retire(NodeDataSource.REPLICA, r);
            }
        }
    }

    private void retire(String role, NodeAddress address) {
        NodeDataSource pool = pools.remove(role + "@" + address);
        if (pool != null) {
            Thread t = new Thread(pool::shutdown, "ballast-retire-" + address);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Replaces the health probe (one that probes the servers of the topology now in force) and closes the old one. */
    public void useProbe(HealthProbe newProbe) {
        HealthProbe old = probe;
        probe = newProbe;
        if (old != newProbe) {
            old.close();
        }
    }

    public LiveTopology topology() {
        return topology;
    }

    /** The meters of this data plane. */
    public dev.ballast.metrics.DataPlaneMetrics metrics() {
        return metrics;
    }

    /** Reports to {@code registry}: Ballast's meters, and HikariCP's own (its Micrometer tracker) for every pool. */
    public synchronized void bindTo(io.micrometer.core.instrument.MeterRegistry registry) {
        if (metrics.bindTo(registry, topology)) {
            pools.values().forEach(p -> p.track(registry));
        }
    }

    public HealthProbe probe() {
        return probe;
    }

    /** ShardingSphere's storage units, by name: each group's master unit and its read slots. */
    public Map<String, javax.sql.DataSource> storageUnits() {
        return UnitDataSource.all(config, this);
    }

    /** Every pool, for closing. */
    public java.util.Collection<NodeDataSource> pools() {
        return pools.values();
    }

    /**
     * A connection to the group's master for a write. When the master cannot be reached and the topology can change,
     * or while a switchover is under way, waits for the next topology (at most {@code failover.writeHoldMs}) and
     * connects to the master it names, instead of failing at once.
     */
    public Connection masterConnection(String group) throws SQLException {
        long hold = config.failover().writeHoldMs();
        long start = System.nanoTime();
        long deadline = start + hold * 1_000_000L;
        boolean held = false; // whether this write waited for a change of master (a write hold, in the metrics)
        while (true) {
            Routes r = groups.get(group);
            GroupTopology seen = r.topology;
            if (seen.phase() == GroupTopology.Phase.SWITCHING && topology.dynamic()) {
                held = true;
                if (!awaitChange(group, seen, deadline)) {
                    metrics.writeHold(group, false, System.nanoTime() - start);
                    throw new SQLTransientConnectionException("[cluster=" + config.name() + " group=" + group
                            + "] a switchover away from " + seen.master() + " did not finish within failover.writeHoldMs "
                            + hold + " ms; retry, or check the monitor's log and 'ballast status'", Errors.CANNOT_CONNECT);
                }
                continue;
            }
            try {
                Connection c = r.master.getConnectionNoFallback();
                if (held) {
                    metrics.writeHold(group, true, System.nanoTime() - start);
                }
                return c;
            } catch (SQLException e) {
                if (!topology.dynamic()) {
                    throw e;
                }
                held = true;
                if (groups.get(group) != r) {
                    continue; // the topology moved while we tried: try its master
                }
                if (System.nanoTime() >= deadline) {
                    metrics.writeHold(group, false, System.nanoTime() - start);
                    throw new SQLTransientConnectionException(e.getMessage() + "; no new master was published within "
                            + "failover.writeHoldMs " + hold + " ms (is a failover monitor running?)", Errors.CANNOT_CONNECT, e);
                }
                // The master may be gone: wait a little for a new epoch, then try again (its pool, or the new master's).
                awaitChange(group, seen, Math.min(deadline, System.nanoTime() + 250_000_000L));
            }
        }
    }

    /**
     * A write failed on {@code master} because it is read-only: when the topology can change and a switchover or failover
     * is moving the master away from it, waits (at most {@code failover.writeHoldMs}) until another master is published.
     *
     * @return true when the group now has another master
     */
    boolean awaitNewMaster(String group, NodeDataSource master) throws SQLException {
        if (!topology.dynamic()) {
            return false;
        }
        Routes r = groups.get(group);
        if (r.master != master) {
            return true;
        }
        long hold = config.failover().writeHoldMs() * 1_000_000L;
        long start = System.nanoTime();
        long deadline = start + hold;
        if (r.topology.phase() != GroupTopology.Phase.SWITCHING
                && !awaitChange(group, r.topology, System.nanoTime() + Math.min(hold, 1_000_000_000L))) {
            return false; // read-only for another reason than a change of master: report it
        }
        r = groups.get(group);
        if (r.master != master) {
            metrics.writeHold(group, true, System.nanoTime() - start);
            return true;
        }
        while (awaitChange(group, r.topology, deadline)) {
            r = groups.get(group);
            if (r.master != master) {
                metrics.writeHold(group, true, System.nanoTime() - start);
                return true;
            }
        }
        metrics.writeHold(group, false, System.nanoTime() - start);
        return false;
    }

    /** Waits until the group's routes differ from {@code seen}'s; false at the deadline. */
    private boolean awaitChange(String group, GroupTopology seen, long deadlineNanos) throws SQLException {
        try {
            while (true) {
                long left = (deadlineNanos - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return false;
                }
                // The routes follow the topology on the listener's thread; wait for both.
                topology.awaitChange(group, seen, Math.min(left, 50));
                if (groups.get(group).topology != seen && !groups.get(group).topology.equals(seen)) {
                    return true;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLTransientConnectionException("[cluster=" + config.name() + " group=" + group
                    + "] interrupted while waiting for a new master", Errors.CANNOT_CONNECT, e);
        }
    }

    /** The connection for read slot {@code unit}: its replica, or the master when the slot is empty now. */
    Connection slotConnection(String group, String unit) throws SQLException {
        Routes r = groups.get(group);
        NodeDataSource replica = r.replicas.get(unit);
        return replica == null ? masterConnection(group) : replica.getConnection();
    }

    /** The pool a storage unit stands for at start, whose URL and user ShardingSphere reads. */
    NodeDataSource unitPool(String group, String unit) {
        Routes r = groups.get(group);
        NodeDataSource replica = r.replicas.get(unit);
        return replica == null ? r.master : replica;
    }

    public String id() {
        return id;
    }

    static ReadRouter byId(String id) {
        ReadRouter router = REGISTRY.get(id);
        if (router == null) {
            throw new IllegalStateException("no Ballast read router '" + id + "' (its data source was closed)");
        }
        return router;
    }

    public void close() {
        REGISTRY.remove(id);
        StatementHook.unregister(this);
    }

    /** The server for an autocommit read in {@code group} (the fast path asks this directly). */
    public NodeDataSource chooseNode(String group) {
        Routes r = groups.get(group);
        if (r.replicaUnits.isEmpty()) {
            return r.master;
        }
        String unit = choose(r, r.replicaUnits);
        return unit.equals(r.masterUnit) ? r.master : r.replicas.get(unit);
    }

    public NodeDataSource master(String group) {
        return groups.get(group).master;
    }

    /** The storage unit for a read in {@code group}, among {@code available} (ShardingSphere's read units). */
    String choose(String group, List<String> available) {
        Routes r = groups.get(group);
        if (r == null) {
            return available.get(0);
        }
        if (r.replicaUnits.isEmpty()) {
            return r.masterUnit;
        }
        return choose(r, available);
    }

    private String choose(Routes r, List<String> available) {
        return choose(r, available, Session.current(), true);
    }

    /**
     * The server for an autocommit read in {@code group} for {@code session}, decided from the health snapshot alone
     * (for the proxy's relay, which runs on an event loop and must not wait): null when read-your-writes needs a fresh
     * position check, or when no server qualifies and {@code fallback: fail}; the caller then takes the JDBC path, which
     * decides with the check, or reports the error.
     */
    public NodeDataSource chooseWithoutWaiting(String group, Session session) {
        Routes r = groups.get(group);
        if (r.replicaUnits.isEmpty()) {
            return r.master;
        }
        String unit;
        try {
            unit = choose(r, r.replicaUnits, session, false);
        } catch (NoReplicaException e) {
            return null;
        }
        return unit == null ? null : unit.equals(r.masterUnit) ? r.master : r.replicas.get(unit);
    }

    /** The group's master while no switchover is under way (for the relay), else null. */
    public NodeDataSource masterIfServing(String group) {
        Routes r = groups.get(group);
        return r.topology.phase() == GroupTopology.Phase.SWITCHING && topology.dynamic() ? null : r.master;
    }

    /** @param mayBlock whether a fresh position check may be made; without it, null when one would be needed */
    private String choose(Routes r, List<String> available, Session session, boolean mayBlock) {
        String group = r.group.name();
        Position required = null;
        if (session != null) {
            switch (policy.readYourWrites()) {
                case MASTER_AFTER_WRITE -> {
                    if (session.nanosSinceWrite() < policy.masterAfterWriteMs() * 1_000_000L) {
                        return r.masterUnit;
                    }
                }
                case GTID_WAIT -> {
                    String gtid = session.lastGtid(group);
                    if (gtid != null) {
                        required = Position.parse(r.group.flavour(), gtid);
                    }
                }
                case OFF -> {
                }
            }
        }
        HealthProbe currentProbe = probe;
        GroupHealth health = currentProbe.group(group);
        java.util.Set<NodeAddress> drained = topology.drained();
        int n = r.replicaUnits.size();
        int start = policy.loadBalance() == ReadPolicy.LoadBalance.RANDOM
                ? ThreadLocalRandom.current().nextInt(n) : Math.floorMod(r.next.getAndIncrement(), n);
        boolean freshCheckDone = false;
        boolean someQualified = false;
        for (int i = 0; i < n; i++) {
            String unit = r.replicaUnits.get((start + i) % n);
            NodeDataSource replica = r.replicas.get(unit);
            ReplicaStatus status = health.replicas().get(replica.address());
            if (!available.contains(unit) || status == null || !status.qualifies(policy.maxReplicaLagMs())
                    || drained.contains(replica.address())) {
                continue;
            }
            someQualified = true;
            if (required != null && !status.applied().covers(required)) {
                if (!mayBlock) {
                    return null;
                }
                if (freshCheckDone || !freshlyCovers(currentProbe, replica, required)) {
                    continue;
                }
                freshCheckDone = true;
            }
            if (session != null) {
                session.routedTo(replica);
            }
            return unit;
        }
        if (someQualified || policy.fallback() == ReadPolicy.Fallback.MASTER) {
            return r.masterUnit; // read-your-writes, or no replica qualifies
        }
        throw new NoReplicaException("[cluster=" + config.name() + " group=" + group + "] no replica can serve reads ("
                + describe(r, health) + ") and readPolicy.fallback is 'fail'; wait for the replicas to catch up, or set "
                + "fallback: master");
    }

    private java.util.Set<NodeAddress> drainedSeen = java.util.Set.of();

    /** Counts each newly drained replica once, as an ejection of reason {@code drained}, in every group it serves reads. */
    private synchronized void countDrained(java.util.Set<NodeAddress> now) {
        for (NodeAddress node : now) {
            if (drainedSeen.contains(node)) {
                continue;
            }
            for (Routes r : groups.values()) {
                if (r.replicas.values().stream().anyMatch(d -> d.address().equals(node))) {
                    metrics.ejection(r.group.name(), "drained");
                }
            }
        }
        drainedSeen = now;
    }

    private boolean freshlyCovers(HealthProbe probe, NodeDataSource replica, Position required) {
        try {
            return probe.freshApplied(replica.address()).covers(required);
        } catch (SQLException e) {
            probe.eject(replica.address(), "position check failed: " + e.getMessage());
            metrics.ejection(replica.group(), "position_check");
            return false;
        }
    }

    private String describe(Routes r, GroupHealth health) {
        List<String> parts = new ArrayList<>();
        for (String unit : r.replicaUnits) {
            NodeDataSource replica = r.replicas.get(unit);
            ReplicaStatus s = health.replicas().get(replica.address());
            parts.add(replica.address() + ": " + (topology.drained().contains(replica.address()) ? "drained (maintenance mark)"
                    : s == null ? "not probed yet"
                    : !s.problem().isEmpty() ? s.problem()
                    : "lag " + s.lagMillis() + " ms > maxReplicaLagMs " + policy.maxReplicaLagMs()));
        }
        return String.join("; ", parts);
    }

    /**
     * A replica failed while connecting: eject it until a healthy probe, and hand out a connection from
     * the next replica that qualifies, else from the master (never an error while the master is up).
     */
    Connection connectionInsteadOf(NodeDataSource failed, SQLException cause) throws SQLException {
        probe.eject(failed.address(), "connect failed: " + cause.getMessage());
        metrics.ejection(failed.group(), "connect");
        Routes r = groups.get(failed.group());
        List<String> available = new ArrayList<>();
        for (String unit : r.replicaUnits) {
            if (r.replicas.get(unit) != failed) {
                available.add(unit);
            }
        }
        String unit;
        try {
            unit = available.isEmpty() ? r.masterUnit : choose(r, available);
        } catch (NoReplicaException e) {
            throw new SQLTransientConnectionException(e.getMessage(), Errors.CANNOT_CONNECT, cause);
        }
        if (unit.equals(r.masterUnit)) {
            return masterConnection(failed.group());
        }
        return r.replicas.get(unit).getConnectionNoFallback();
    }

    /** The replica a failed read went to: eject it so that the retry goes elsewhere. */
    public void readFailedOn(NodeDataSource replica, SQLException cause) {
        probe.eject(replica.address(), "read failed: " + cause.getMessage());
        metrics.ejection(replica.group(), "read");
    }

    /** No replica qualifies and {@code fallback: fail}. */
    public static final class NoReplicaException extends RuntimeException {
        public NoReplicaException(String message) {
            super(message);
        }
    }
}
