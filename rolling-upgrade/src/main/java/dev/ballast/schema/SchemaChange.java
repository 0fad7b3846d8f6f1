package dev.ballast.schema;

import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.TableRule;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Progress;
import dev.ballast.upgrade.Runner;
import org.apache.curator.framework.CuratorFramework;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code ballast schema diff|plan|apply|resume} without the command line: parse, ask the servers, plan (pure), store the
 * operation in ZooKeeper and run it with the operation engine's {@link Runner}, resumably.
 */
public final class SchemaChange implements AutoCloseable {

    public static final String KIND = "schema";

    private final ClusterConfig config;
    private final TopologyStore topology;
    private final OperationStore operations;
    private final Servers servers;
    private final SchemaVersions versions;
    private final Consumer<String> notices;
    private final long maxLagMs;
    private final long lockTimeoutMs;
    private LagGate gate;

    public SchemaChange(ClusterConfig config, CuratorFramework client, SchemaVersions versions, Consumer<String> notices,
                        long lockTimeoutMs) {
        this.config = config;
        this.topology = TopologyStore.of(client, config);
        this.operations = OperationStore.of(client, config);
        this.servers = new Servers(config);
        this.versions = versions;
        this.notices = notices;
        this.maxLagMs = config.schema().maxLagMs();
        this.lockTimeoutMs = lockTimeoutMs;
    }

    /** The group's topology as ZooKeeper has it, or the config's before any monitor published one. */
    public GroupTopology group(String name) {
        return topology.read(name).map(TopologyStore.Versioned::topology).orElseGet(() -> GroupTopology.of(config.group(name)));
    }

    public Map<String, NodeAddress> masters() {
        Map<String, NodeAddress> out = new LinkedHashMap<>();
        config.groups().keySet().forEach(g -> out.put(g, group(g).master()));
        return out;
    }

    /** Parses and plans; throws {@link SchemaException} (nothing changed) for any refused statement. */
    public SchemaPlan plan(String script, Optional<Strategy> forced, boolean allowDrop) throws SQLException {
        List<Ddl> ddls = new DdlParser(config.tables().keySet(), allowDrop).parse(script);
        Map<String, NodeAddress> masters = masters();
        Map<String, List<NodeAddress>> replicas = new LinkedHashMap<>();
        config.groups().keySet().forEach(g -> replicas.put(g, group(g).replicas()));
        ServerFacts facts = new FactProbe(servers).probe(ddls, masters, replicas);
        return SchemaPlanner.plan(config, ddls, facts, masters, replicas, forced, maxLagMs);
    }

    /** Stores the plan as a new PENDING operation (refused while another operation holds one of its groups). */
    public Operation create(String id, SchemaPlan plan, String by) {
        Operation op = Operation.create(id, KIND, config.name(), by, System.currentTimeMillis(), plan.steps());
        operations.create(op);
        return op;
    }

    /** Runs or resumes operation {@code id}; returns it DONE, or PAUSED with the reason. */
    public Operation run(String id, Progress progress) throws InterruptedException {
        SchemaActions actions = new SchemaActions(servers, this::group, this::gate, maxLagMs, versions, notices);
        Map<String, dev.ballast.upgrade.StepAction> all = new HashMap<>(actions.byName());
        // rolling: the upgrade's drain and undrain (maintenance marks), and the project's planned switchover
        Map<String, dev.ballast.upgrade.StepAction> upgrade = new dev.ballast.upgrade.server.ServerUpgradeActions(config,
                topology, "schema " + id).actions();
        all.put(SchemaPlanner.DRAIN, upgrade.get(SchemaPlanner.DRAIN));
        all.put(SchemaPlanner.UNDRAIN, upgrade.get(SchemaPlanner.UNDRAIN));
        all.put(SchemaPlanner.SWITCHOVER, actions.switchover(new dev.ballast.failover.Switchover(config, topology,
                "schema " + id)));
        return new Runner(operations, all, lockTimeoutMs, progress).run(id);
    }

    public OperationStore operations() {
        return operations;
    }

    private synchronized LagGate gate() {
        if (gate == null) {
            Map<String, GroupConfig> groups = new LinkedHashMap<>();
            for (GroupConfig g : config.groups().values()) {
                GroupTopology t = group(g.name());
                groups.put(g.name(), new GroupConfig(g.name(), t.master(), t.replicas(), g.flavour()));
            }
            gate = new LagGate(config.withGroups(groups), maxLagMs, 600_000, notices);
        }
        return gate;
    }

    /** Reads every physical table of every logical table on every server and compares them. */
    public SchemaDiff.Report diff() throws SQLException {
        Map<NodeAddress, Connection> open = new HashMap<>();
        try {
            List<SchemaDiff.TableReport> reports = new ArrayList<>();
            for (TableRule rule : config.tables().values()) {
                Map<SchemaDiff.Place, TableShape> shapes = new LinkedHashMap<>();
                for (DataNode n : rule.dataNodes()) {
                    GroupTopology t = group(n.group());
                    List<NodeAddress> nodes = new ArrayList<>();
                    nodes.add(t.master());
                    nodes.addAll(t.replicas());
                    for (NodeAddress node : nodes) {
                        Connection c = open.get(node);
                        if (c == null) {
                            c = servers.open(node, 30_000);
                            open.put(node, c);
                        }
                        shapes.put(new SchemaDiff.Place(n.group(), node.toString(), node.equals(t.master()) ? "master"
                                : "replica", n.table()), TableShape.read(c, config.database(), n.table()));
                    }
                }
                reports.add(SchemaDiff.compare(rule.name(), shapes));
            }
            return new SchemaDiff.Report(reports);
        } finally {
            for (Connection c : open.values()) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing after reading: nothing to do
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        if (gate != null) {
            gate.close();
        }
    }
}
