package dev.ballast.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.ballast.replication.NodeProbe;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;

@Command(name = "status", sortOptions = false,
        description = {"Shows each group (and each MongoDB replica set: member state, lag behind the primary, ping, config "
                + "version, binary version) as a tree: the master, each replica with its state (replicating, lagging, "
                + "connecting, stopped, wrong-master, unreachable, disputed …), lag in ms and GTID position as the "
                + "monitors last probed them, each monitor's view where they disagree, and the last recoveries.",
                "Lag: 0 when the replica had applied all the master had at the same monitor's probe; else its "
                        + "Seconds_Behind_Master x 1000 (whole seconds); absent when unknown."})
final class StatusCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Mixin
    ConfigOption config;

    @Option(names = "--json", description = "Print one JSON document (the same facts) for scripts.")
    boolean json;

    @Option(names = "--recoveries", paramLabel = "N", defaultValue = "10",
            description = "How many of the last recoveries to show (default: ${DEFAULT-VALUE}).")
    int recoveries;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.loadWithZooKeeper();
        StatusView view;
        try (ZooKeeperSession zk = root.zookeeper(c)) {
            view = read(c, zk.store(), Math.max(0, recoveries));
        }
        if (json) {
            spec.commandLine().getOut().println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(view));
        } else {
            spec.commandLine().getOut().print(new StatusTree(root.colour).render(view));
        }
        spec.commandLine().getOut().flush();
        return BallastCli.OK;
    }

    /** Reads what {@code status} shows from ZooKeeper. */
    static StatusView read(ClusterConfig c, TopologyStore store, int lastRecoveries) {
        List<StatusView.GroupView> groups = new ArrayList<>();
        TreeSet<String> monitors = new TreeSet<>();
        for (GroupConfig g : c.groups().values()) {
            Optional<GroupTopology> t = store.read(g.name()).map(TopologyStore.Versioned::topology);
            List<NodeAddress> configured = new ArrayList<>();
            configured.add(g.master());
            configured.addAll(g.replicas());
            TreeSet<NodeAddress> nodes = new TreeSet<>(java.util.Comparator.comparing(NodeAddress::toString));
            nodes.addAll(configured);
            t.ifPresent(x -> nodes.addAll(x.servers()));
            Map<NodeAddress, Map<String, NodeProbe>> probes = new LinkedHashMap<>();
            for (NodeAddress n : nodes) {
                Map<String, NodeProbe> byMonitor = new TreeMap<>();
                for (Map.Entry<String, String> e : store.health(n.toString()).entrySet()) {
                    monitors.add(e.getKey());
                    try {
                        byMonitor.put(e.getKey(), NodeProbe.fromJson(e.getValue(), g.flavour()));
                    } catch (RuntimeException unreadable) {
                        byMonitor.put(e.getKey(), NodeProbe.unreachable(n, "unreadable health record: "
                                + unreadable.getMessage(), 0));
                    }
                }
                probes.put(n, byMonitor);
            }
            groups.add(StatusView.group(g.name(), t, configured, probes, c.readPolicy().maxReplicaLagMs()));
        }
        List<StatusView.ReplicaSetView> replicaSets = new ArrayList<>();
        for (dev.ballast.rules.MongoReplicaSetConfig rs : c.mongoReplicaSets().values()) {
            List<String> members = rs.members().stream().map(NodeAddress::toString).toList();
            Map<String, Map<String, String>> records = new LinkedHashMap<>();
            for (String m : members) {
                Map<String, String> r = store.health(m);
                monitors.addAll(r.keySet());
                records.put(m, r);
            }
            replicaSets.add(StatusView.replicaSet(rs.name(), members, records));
        }
        List<StatusView.MaintenanceView> maintenance = new ArrayList<>();
        store.drained().values().forEach(m -> maintenance.add(new StatusView.MaintenanceView(m.node().toString(), m.reason(),
                m.by(), m.sinceMillis())));
        List<StatusView.OperationView> operations = new ArrayList<>();
        dev.ballast.upgrade.OperationStore ops = dev.ballast.upgrade.OperationStore.of(store.client(), c);
        for (GroupConfig g : c.groups().values()) {
            ops.activeOn(g.name()).ifPresent(id -> {
                Optional<dev.ballast.upgrade.Operation> op = ops.read(id).map(dev.ballast.upgrade.OperationStore.Versioned::operation);
                operations.add(new StatusView.OperationView(g.name(), id, op.map(dev.ballast.upgrade.Operation::kind).orElse("?"),
                        op.map(o -> o.state().name()).orElse("missing"), op.map(dev.ballast.upgrade.Operation::reason).orElse("")));
            });
        }
        List<StatusView.DataPlaneView> planes = new ArrayList<>();
        try {
            for (dev.ballast.topology.PlaneRegistration.Plane p : dev.ballast.topology.PlaneRegistration.list(store.client(),
                    c.failover().clusterPath(c.name()))) {
                planes.add(new StatusView.DataPlaneView(p.name(), p.process(), p.main(), p.schemaVersion(), p.failure()));
            }
        } catch (Exception e) {
            planes.add(new StatusView.DataPlaneView("?", "", "", -1, "cannot list the data planes: " + e));
        }
        long schemaVersion = store.schemaVersion().map(dev.ballast.topology.SchemaVersion::version).orElse(0L);
        return new StatusView(c.name(), c.failover().zookeeper().orElse(""), System.currentTimeMillis(),
                List.copyOf(monitors), groups, StatusView.recoveries(store.recoveries(), lastRecoveries), maintenance,
                operations, replicaSets, schemaVersion, planes);
    }
}
