package dev.ballast.failover;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * Brings a server that left the topology (an old master after a failover) back as a replica of the current master:
 * refused when it has transactions the master does not have (errant; they would be lost or would break replication),
 * then repointed by GTID ({@code MASTER_DEMOTE_TO_SLAVE}) and added to the topology's replicas (same epoch), all under
 * the group's lock.
 */
public final class Rejoin {

    /** How long a rejoin waits for the group's lock. */
    public static final long LOCK_WAIT_MS = 10_000;

    private static final Logger log = LoggerFactory.getLogger(Rejoin.class);

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String by;

    public Rejoin(ClusterConfig config, TopologyStore store, String by) {
        this.config = config;
        this.store = store;
        this.by = by;
    }

    /**
     * Rejoins {@code node} under the group's lock (the one recovery, switchover and fencing take), reading the topology
     * only once it holds it: a failover or switchover in progress finishes first, and the rejoin then sees its result.
     *
     * @return the topology with the node as replica
     * @throws RefusedException when the node has errant transactions (nothing was changed)
     * @throws Switchover.SwitchoverException when the lock is not free within {@link #LOCK_WAIT_MS}, or a step failed
     */
    public GroupTopology run(String group, NodeAddress node) throws Switchover.SwitchoverException {
        String ctx = "[cluster=" + config.name() + " group=" + group + " node=" + node + "]";
        InterProcessMutex lock = new InterProcessMutex(store.client(), store.lockPath(group));
        try {
            if (!lock.acquire(LOCK_WAIT_MS, TimeUnit.MILLISECONDS)) {
                throw new Switchover.SwitchoverException(ctx + " not rejoined: another change of this group (a failover, "
                        + "switchover or fencing) has held its lock " + store.lockPath(group) + " for more than " + LOCK_WAIT_MS
                        + " ms; nothing was changed. Run rejoin again once it is done ('ballast status' shows the recoveries)");
            }
        } catch (Switchover.SwitchoverException e) {
            throw e;
        } catch (Exception e) {
            throw new Switchover.SwitchoverException(ctx + " taking the group's lock " + store.lockPath(group) + ": " + e, e);
        }
        try {
            return locked(group, node, ctx);
        } finally {
            try {
                lock.release();
            } catch (Exception e) {
                log.debug("releasing the lock of {}: {}", group, e.toString());
            }
        }
    }

    private GroupTopology locked(String group, NodeAddress node, String ctx) throws Switchover.SwitchoverException {
        TopologyStore.Versioned seen = store.read(group).orElseThrow(() -> new Switchover.SwitchoverException(ctx + " no topology in ZooKeeper"));
        GroupTopology t = seen.topology();
        if (t.servers().contains(node)) {
            throw new Switchover.SwitchoverException(ctx + " is already in the topology: " + t);
        }
        refuseIfOfAnotherGroup(group, node, ctx);
        ServerDialect dialect = ServerDialect.of(config.group(group).flavour());
        try (NodeConnections nodes = new NodeConnections(config)) {
            NodeProbe master = nodes.probe(t.master(), dialect);
            NodeProbe self = nodes.probe(node, dialect);
            if (!master.reachable() || !self.reachable()) {
                throw new Switchover.SwitchoverException(ctx + " cannot probe " + (master.reachable() ? node + ": " + self.error()
                        : "the master " + t.master() + ": " + master.error()));
            }
            if (!master.executed().covers(self.executed())) {
                throw new RefusedException(ctx + " has errant transactions: it executed " + self.executed()
                        + ", the master " + t.master() + " has " + master.executed() + ". Rejoining would lose them or "
                        + "break replication: inspect them (mariadb-binlog on its binlog), then rebuild the server from a "
                        + "backup of the master, or remove the transactions by hand; nothing was changed");
            }
            AuditRecord audit = new AuditRecord("rejoin", group, by).text("node", node.toString()).topology("before", t);
            try (Connection c = nodes.connect(node)) {
                dialect.replicateFrom(c, t.master(), config.failover().replication().orElseThrow(() ->
                        new Switchover.SwitchoverException(ctx + " failover.replication is required")), self.replication().isEmpty(),
                        config.failover().heartbeatPeriodMs());
            } catch (SQLException e) {
                throw new Switchover.SwitchoverException(ctx + " repointing to " + t.master() + ": " + e.getMessage(), e);
            }
            // a master left without replicas by a failover runs without semi-sync; a replica follows it again now
            try (Connection m = nodes.connect(t.master())) {
                dialect.semiSyncMaster(m, true);
                audit.text("semiSync", "on at " + t.master());
            } catch (SQLException e) {
                throw new Switchover.SwitchoverException(ctx + " replicates from " + t.master() + " now, but turning the "
                        + "master's semi-sync on failed: " + e.getMessage() + "; run rejoin again", e);
            }
            GroupTopology after = t.withReplica(node);
            if (!store.compareAndSet(after, seen.version())) {
                throw new Switchover.SwitchoverException(ctx + " replicates from " + t.master() + " now, but the topology "
                        + "changed meanwhile; run rejoin again to add it");
            }
            store.appendRecovery(audit.topology("after", after).state("done").toJson());
            return after;
        }
    }

    /**
     * A server of another group (in the config, or in that group's topology) holds another shard's data: made a replica
     * here it would replicate this group's master into it (or stop on the first conflicting GTID).
     */
    private void refuseIfOfAnotherGroup(String group, NodeAddress node, String ctx) throws RefusedException {
        for (var g : config.groups().values()) {
            if (g.name().equals(group)) {
                continue;
            }
            boolean inConfig = g.master().equals(node) || g.replicas().contains(node);
            boolean inTopology = store.read(g.name()).map(v -> v.topology().servers().contains(node)).orElse(false);
            if (inConfig || inTopology) {
                throw new RefusedException(ctx + " refusing rejoin: it is a server of group " + g.name() + " ("
                        + (inTopology ? "in its topology" : "in the config") + "), not of group " + group + ": it holds "
                        + "another group's data; nothing was changed. Did you mean 'ballast rejoin --group " + g.name()
                        + " --node " + node + "'?");
            }
        }
    }
}
