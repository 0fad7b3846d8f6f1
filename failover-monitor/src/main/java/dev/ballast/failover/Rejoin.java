package dev.ballast.failover;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Brings a server that left the topology (an old master after a failover) back as a replica of the current master:
 * refused when it has transactions the master does not have (errant; they would be lost or would break replication),
 * then repointed by GTID ({@code MASTER_DEMOTE_TO_SLAVE}) and added to the topology's replicas (same epoch).
 */
public final class Rejoin {

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String by;

    public Rejoin(ClusterConfig config, TopologyStore store, String by) {
        this.config = config;
        this.store = store;
        this.by = by;
    }

    /** @return the topology with the node as replica */
    public GroupTopology run(String group, NodeAddress node) throws Switchover.SwitchoverException {
        String ctx = "[cluster=" + config.name() + " group=" + group + " node=" + node + "]";
        TopologyStore.Versioned seen = store.read(group).orElseThrow(() -> new Switchover.SwitchoverException(ctx + " no topology in ZooKeeper"));
        GroupTopology t = seen.topology();
        if (t.servers().contains(node)) {
            throw new Switchover.SwitchoverException(ctx + " is already in the topology: " + t);
        }
        ServerDialect dialect = ServerDialect.of(config.group(group).flavour());
        try (NodeConnections nodes = new NodeConnections(config)) {
            NodeProbe master = nodes.probe(t.master(), dialect);
            NodeProbe self = nodes.probe(node, dialect);
            if (!master.reachable() || !self.reachable()) {
                throw new Switchover.SwitchoverException(ctx + " cannot probe " + (master.reachable() ? node + ": " + self.error()
                        : "the master " + t.master() + ": " + master.error()));
            }
            if (!master.executed().covers(self.executed())) {
                throw new Switchover.SwitchoverException(ctx + " has errant transactions: it executed " + self.executed()
                        + ", the master " + t.master() + " has " + master.executed() + ". Rejoining would lose them or "
                        + "break replication: inspect them (mariadb-binlog on its binlog), then rebuild the server from a "
                        + "backup of the master, or remove the transactions by hand");
            }
            AuditRecord audit = new AuditRecord("rejoin", group, by).text("node", node.toString()).topology("before", t);
            try (Connection c = nodes.connect(node)) {
                dialect.replicateFrom(c, t.master(), config.failover().replication().orElseThrow(() ->
                        new Switchover.SwitchoverException(ctx + " failover.replication is required")), self.replication().isEmpty(),
                        config.failover().heartbeatPeriodMs());
            } catch (SQLException e) {
                throw new Switchover.SwitchoverException(ctx + " repointing to " + t.master() + ": " + e.getMessage(), e);
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
}
