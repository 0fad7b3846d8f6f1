package dev.ballast.jdbc.internal;

import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.jdbc.health.HealthProbe;
import dev.ballast.jdbc.health.Position;
import dev.ballast.jdbc.health.ReplicaStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.ReadPolicy;
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
    private final HealthProbe probe;
    private final Map<String, Routes> groups = new HashMap<>();

    private static final class Routes {
        final GroupConfig group;
        final String masterUnit;
        final NodeDataSource master;
        final List<String> replicaUnits = new ArrayList<>();
        final Map<String, NodeDataSource> replicas = new HashMap<>();
        final AtomicInteger next = new AtomicInteger();

        Routes(GroupConfig group, NodeDataSource master) {
            this.group = group;
            this.masterUnit = ShardingSphereRules.masterUnit(group.name());
            this.master = master;
        }
    }

    /** @param units every storage unit by name, as given to ShardingSphere */
    public ReadRouter(ClusterConfig config, HealthProbe probe, Map<String, NodeDataSource> units) {
        this.config = config;
        this.policy = config.readPolicy();
        this.probe = probe;
        for (GroupConfig g : config.groups().values()) {
            Routes r = new Routes(g, units.get(ShardingSphereRules.masterUnit(g.name())));
            for (int i = 0; i < g.replicas().size(); i++) {
                String unit = ShardingSphereRules.replicaUnit(g.name(), i);
                r.replicaUnits.add(unit);
                r.replicas.put(unit, units.get(unit));
            }
            groups.put(g.name(), r);
        }
        REGISTRY.put(id, this);
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
    }

    /** The server for an autocommit read in {@code group} (the fast path asks this directly). */
    public NodeDataSource chooseNode(String group) {
        Routes r = groups.get(group);
        if (r.replicaUnits.isEmpty()) {
            return r.master;
        }
        String unit = choose(group, r.replicaUnits);
        return unit.equals(r.masterUnit) ? r.master : r.replicas.get(unit);
    }

    public NodeDataSource master(String group) {
        return groups.get(group).master;
    }

    /** The storage unit for a read in {@code group}, among {@code available} (ShardingSphere's read units). */
    String choose(String group, List<String> available) {
        Routes r = groups.get(group);
        if (r == null || r.replicaUnits.isEmpty()) {
            return available.get(0);
        }
        Session session = Session.current();
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
        GroupHealth health = probe.group(group);
        int n = r.replicaUnits.size();
        int start = policy.loadBalance() == ReadPolicy.LoadBalance.RANDOM
                ? ThreadLocalRandom.current().nextInt(n) : Math.floorMod(r.next.getAndIncrement(), n);
        boolean freshCheckDone = false;
        boolean someQualified = false;
        for (int i = 0; i < n; i++) {
            String unit = r.replicaUnits.get((start + i) % n);
            NodeDataSource replica = r.replicas.get(unit);
            ReplicaStatus status = health.replicas().get(replica.address());
            if (!available.contains(unit) || status == null || !status.qualifies(policy.maxReplicaLagMs())) {
                continue;
            }
            someQualified = true;
            if (required != null && !status.applied().covers(required)) {
                if (freshCheckDone || !freshlyCovers(replica, required)) {
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

    private boolean freshlyCovers(NodeDataSource replica, Position required) {
        try {
            return probe.freshApplied(replica.address()).covers(required);
        } catch (SQLException e) {
            probe.eject(replica.address(), "position check failed: " + e.getMessage());
            return false;
        }
    }

    private String describe(Routes r, GroupHealth health) {
        List<String> parts = new ArrayList<>();
        for (String unit : r.replicaUnits) {
            NodeDataSource replica = r.replicas.get(unit);
            ReplicaStatus s = health.replicas().get(replica.address());
            parts.add(replica.address() + ": " + (s == null ? "not probed yet"
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
        Routes r = groups.get(failed.group());
        List<String> available = new ArrayList<>();
        for (String unit : r.replicaUnits) {
            if (r.replicas.get(unit) != failed) {
                available.add(unit);
            }
        }
        String unit;
        try {
            unit = available.isEmpty() ? r.masterUnit : choose(failed.group(), available);
        } catch (NoReplicaException e) {
            throw new SQLTransientConnectionException(e.getMessage(), Errors.CANNOT_CONNECT, cause);
        }
        NodeDataSource target = unit.equals(r.masterUnit) ? r.master : r.replicas.get(unit);
        return target.getConnectionNoFallback();
    }

    /** The replica a failed read went to: eject it so that the retry goes elsewhere. */
    public void readFailedOn(NodeDataSource replica, SQLException cause) {
        probe.eject(replica.address(), "read failed: " + cause.getMessage());
    }

    /** No replica qualifies and {@code fallback: fail}. */
    public static final class NoReplicaException extends RuntimeException {
        public NoReplicaException(String message) {
            super(message);
        }
    }
}
