package dev.ballast.failover;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.Position;
import dev.ballast.failover.model.PromotionRule;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A planned change of master (DESIGN.md "Failover", step 5). Under the group's lock: publish phase SWITCHING (clients hold
 * new writes), set the master read_only (this waits for transactions in flight), wait until the candidate has applied
 * everything the master wrote, promote it, make the old master and the other replicas its replicas, publish the next
 * epoch. If anything fails before the promotion, the old master is made writable again and the phase set back: nothing
 * moved. Runs in whatever process calls it (the {@code ballast} CLI), not only in the monitor.
 */
public final class Switchover {

    private static final Logger log = LoggerFactory.getLogger(Switchover.class);

    /** How a switchover ended, with the time clients' writes were held (from SWITCHING to the new epoch). */
    public record Result(GroupTopology before, GroupTopology after, long writePauseMs, String auditPath) {
    }

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String by;

    public Switchover(ClusterConfig config, TopologyStore store, String by) {
        this(config, store, by, null);
    }

    /**
     * A switchover that records its outcome and duration in {@code metrics} (may be null). Monitors count switchovers
     * from the audit log: do not pass the metrics of a monitor running in the same process, or it counts twice.
     */
    public Switchover(ClusterConfig config, TopologyStore store, String by, MonitorMetrics metrics) {
        this.config = config;
        this.store = store;
        this.by = by;
        this.metrics = metrics;
    }

    private final MonitorMetrics metrics;

    /**
     * Moves the master of {@code group} to {@code to}, or to the most advanced replica that may be promoted.
     *
     * @throws SwitchoverException naming the step that failed and the server; the old master serves again in that case
     *                             unless the message says otherwise
     */
    public Result run(String group, Optional<NodeAddress> to) throws SwitchoverException {
        String ctx = "[cluster=" + config.name() + " group=" + group + "]";
        InterProcessMutex lock = new InterProcessMutex(store.client(), store.lockPath(group));
        try {
            if (!lock.acquire(10, TimeUnit.SECONDS)) {
                throw new SwitchoverException(ctx + " another change of this group (a failover or switchover) holds its lock");
            }
        } catch (SwitchoverException e) {
            throw e;
        } catch (Exception e) {
            throw new SwitchoverException(ctx + " taking the group's lock: " + e, e);
        }
        long started = System.nanoTime();
        boolean done = false;
        try (NodeConnections nodes = new NodeConnections(config)) {
            Result r = locked(group, to, nodes, ctx);
            done = true;
            if (metrics != null) {
                metrics.topology(r.after());
            }
            return r;
        } finally {
            if (metrics != null) {
                metrics.switchover(group, done, System.nanoTime() - started);
            }
            try {
                lock.release();
            } catch (Exception e) {
                log.debug("releasing the lock of {}: {}", group, e.toString());
            }
        }
    }

    private Result locked(String group, Optional<NodeAddress> to, NodeConnections nodes, String ctx) throws SwitchoverException {
        TopologyStore.Versioned seen = store.read(group).orElseThrow(() -> new SwitchoverException(ctx
                + " no topology in ZooKeeper yet; start a monitor (it writes the config's topology) first"));
        GroupTopology before = seen.topology();
        if (before.phase() == GroupTopology.Phase.SWITCHING) {
            throw new SwitchoverException(ctx + " is already SWITCHING (an earlier switchover was interrupted?); its master "
                    + before.master() + " may be read-only: check it, then publish the topology with phase SERVING");
        }
        ServerDialect dialect = ServerDialect.of(config.group(group).flavour());
        Credentials replication = config.failover().replication().orElseThrow(() -> new SwitchoverException(ctx
                + " failover.replication (user, password) is required to repoint replicas"));
        NodeAddress candidate = choose(before, to, nodes, dialect, ctx);
        AuditRecord audit = new AuditRecord("switchover", group, by).topology("before", before)
                .text("candidate", candidate.toString());
        String path = store.appendRecovery(audit.toJson());
        Connection master;
        Connection target;
        try {
            master = nodes.connect(before.master());
            target = nodes.connect(candidate);
        } catch (SQLException e) {
            fail(audit, path, "connecting: " + e.getMessage());
            throw new SwitchoverException(ctx + " cannot connect to " + before.master() + " or " + candidate + ": " + e.getMessage(), e);
        }
        try (master; target) {
            // Generous timeouts for the waits below (the probe timeout is for probes).
            master.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, config.failover().applyTimeoutMs() + 5_000));
            target.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, config.failover().applyTimeoutMs() + 5_000));
            GroupTopology switching = before.withPhase(GroupTopology.Phase.SWITCHING);
            if (!store.compareAndSet(switching, seen.version())) {
                fail(audit, path, "topology changed");
                throw new SwitchoverException(ctx + " the topology changed meanwhile; run the switchover again");
            }
            long pauseStart = System.nanoTime();
            int version = seen.version() + 1;
            audit.step("publishSwitching");
            String masterPosition;
            try {
                dialect.fence(master);
                audit.step("readOnly");
                masterPosition = dialect.probe(master, before.master()).executed().toString();
                if (!dialect.awaitApplied(target, masterPosition, config.failover().applyTimeoutMs())) {
                    throw new SQLException(candidate + " did not apply " + masterPosition + " within failover.applyTimeoutMs "
                            + config.failover().applyTimeoutMs() + " ms");
                }
                audit.step("candidateCaughtUp");
                dialect.promote(target);
                audit.step("promote");
            } catch (SQLException e) {
                rollBack(dialect, master, before, version, ctx);
                fail(audit, path, e.getMessage());
                throw new SwitchoverException(ctx + " switchover to " + candidate + " failed before the promotion, "
                        + before.master() + " is master again: " + e.getMessage(), e);
            }
            List<NodeAddress> replicas = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            for (NodeAddress r : before.replicas()) {
                if (r.equals(candidate)) {
                    continue;
                }
                try (Connection c = nodes.connect(r)) {
                    dialect.replicateFrom(c, candidate, replication, false, config.failover().heartbeatPeriodMs());
                    replicas.add(r);
                } catch (SQLException e) {
                    problems.add(r + ": " + e.getMessage());
                }
            }
            try {
                dialect.replicateFrom(master, candidate, replication, true, config.failover().heartbeatPeriodMs());
                replicas.add(before.master());
            } catch (SQLException e) {
                problems.add(before.master() + " (old master, left read-only): " + e.getMessage());
            }
            audit.step("repoint");
            GroupTopology after = new GroupTopology(group, candidate, replicas, before.epoch() + 1, GroupTopology.Phase.SERVING);
            if (!store.compareAndSet(after, version)) {
                fail(audit, path, "topology changed after the promotion");
                throw new SwitchoverException(ctx + " " + candidate + " was promoted but the topology changed meanwhile and "
                        + "was not published: check 'ballast status' and publish by hand");
            }
            long pauseMs = (System.nanoTime() - pauseStart) / 1_000_000L;
            audit.step("publish").topology("after", after).text("problems", String.join("; ", problems))
                    .value("writePauseMs", pauseMs).state("done");
            store.updateRecovery(path, audit.toJson());
            log.info("{} switched over from {} to {} in epoch {} (writes held {} ms){}", ctx, before.master(), candidate,
                    after.epoch(), pauseMs, problems.isEmpty() ? "" : "; not repointed: " + problems);
            return new Result(before, after, pauseMs, path);
        } catch (SQLException e) {
            fail(audit, path, e.getMessage());
            throw new SwitchoverException(ctx + " " + e.getMessage(), e);
        }
    }

    private NodeAddress choose(GroupTopology t, Optional<NodeAddress> to, NodeConnections nodes, ServerDialect dialect,
                               String ctx) throws SwitchoverException {
        Map<NodeAddress, PromotionRule> rules = Recovery.rules(config);
        if (to.isPresent()) {
            NodeAddress n = to.get();
            if (!t.replicas().contains(n)) {
                throw new SwitchoverException(ctx + " " + n + " is not a replica of the group (replicas: " + t.replicas() + ")");
            }
            if (rules.get(n) == PromotionRule.MUST_NOT) {
                throw new SwitchoverException(ctx + " " + n + " is must_not in failover.promotion");
            }
            NodeProbe p = nodes.probe(n, dialect);
            if (!p.reachable() || p.replication().isEmpty() || !p.replication().get().healthy()) {
                throw new SwitchoverException(ctx + " " + n + " is not a healthy replica: "
                        + (p.reachable() ? p.replication().map(Object::toString).orElse("no replication") : p.error()));
            }
            return n;
        }
        NodeAddress best = null;
        Position bestPos = null;
        int bestRank = Integer.MAX_VALUE;
        for (NodeAddress n : t.replicas()) {
            PromotionRule rule = rules.getOrDefault(n, PromotionRule.NEUTRAL);
            if (rule == PromotionRule.MUST_NOT) {
                continue;
            }
            NodeProbe p = nodes.probe(n, dialect);
            if (!p.reachable() || p.replication().isEmpty() || !p.replication().get().healthy()) {
                continue;
            }
            Position pos = p.replication().get().applied();
            int rank = rule.ordinal();
            boolean better = best == null || !bestPos.covers(pos) || (pos.covers(bestPos) && rank < bestRank);
            if (better) {
                best = n;
                bestPos = pos;
                bestRank = rank;
            }
        }
        if (best == null) {
            throw new SwitchoverException(ctx + " no healthy replica may be promoted (replicas: " + t.replicas() + ")");
        }
        return best;
    }

    private void rollBack(ServerDialect dialect, Connection master, GroupTopology before, int version, String ctx) {
        try {
            dialect.unfence(master);
        } catch (SQLException e) {
            log.error("{} making {} writable again failed: {}", ctx, before.master(), e.getMessage());
        }
        if (!store.compareAndSet(before.withPhase(GroupTopology.Phase.SERVING), version)) {
            log.error("{} could not set the phase back to SERVING (topology changed meanwhile)", ctx);
        }
    }

    private void fail(AuditRecord audit, String path, String reason) {
        audit.state("failed").text("reason", reason);
        try {
            store.updateRecovery(path, audit.toJson());
        } catch (RuntimeException e) {
            log.debug("audit: {}", e.toString());
        }
    }

    public static class SwitchoverException extends Exception {
        public SwitchoverException(String message) {
            super(message);
        }

        public SwitchoverException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
