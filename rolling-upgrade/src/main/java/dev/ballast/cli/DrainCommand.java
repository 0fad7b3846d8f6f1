package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.Maintenance;
import dev.ballast.topology.TopologyStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code ballast drain} and {@code ballast undrain}: a replica's maintenance mark, by hand. */
final class DrainCommand {

    private DrainCommand() {
    }

    /** The group whose topology in ZooKeeper holds {@code node}; a usage error naming the groups' servers otherwise. */
    static GroupTopology groupOf(CommandSpec spec, ClusterConfig c, TopologyStore store, NodeAddress node) {
        StringBuilder known = new StringBuilder();
        for (String g : c.groups().keySet()) {
            Optional<GroupTopology> t = store.read(g).map(TopologyStore.Versioned::topology);
            if (t.isEmpty()) {
                continue;
            }
            if (t.get().servers().contains(node)) {
                return t.get();
            }
            t.get().servers().forEach(s -> known.append(known.length() == 0 ? "" : ", ").append(s));
        }
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--node': " + node + " is not a server of"
                + " any group of cluster " + c.name() + " in ZooKeeper (servers: " + known + ")");
    }

    @Command(name = "drain", description = "Puts a maintenance mark on a replica: every data plane stops sending it new "
            + "reads (reads in flight finish), and the monitor does not fail over or raise an alarm when it is down. "
            + "Refused for a master (switch over first). Undo with 'ballast undrain'.")
    static final class Drain implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        BallastCli root;
        @Mixin
        ConfigOption config;
        @Option(names = "--node", required = true, paramLabel = "HOST:PORT", description = "The replica to drain.")
        NodeAddress node;
        @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "drained by hand",
                description = "Why, shown by 'ballast status' (default: ${DEFAULT-VALUE}).")
        String reason;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = root.zookeeper(c)) {
                GroupTopology t = groupOf(spec, c, zk.store(), node);
                if (t.master().equals(node)) {
                    throw new RefusedException(node + " is the master of group " + t.group() + " (epoch " + t.epoch()
                            + "): a maintenance mark drains reads only, writes would still go there; move the master"
                            + " first with 'ballast switchover --group " + t.group() + "'");
                }
                Maintenance m = zk.store().drain(node, reason, Operator.name());
                spec.commandLine().getOut().println("drained " + node + " (group " + t.group() + "): no new reads; "
                        + "'ballast undrain --node " + node + "' sends it reads again" + (m.reason().equals(reason) ? ""
                        : " (" + m.reason() + ")"));
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "undrain", description = "Removes a node's maintenance mark: data planes send it reads again once it "
            + "is healthy and within the lag limit.")
    static final class Undrain implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        BallastCli root;
        @Mixin
        ConfigOption config;
        @Option(names = "--node", required = true, paramLabel = "HOST:PORT", description = "The node to undrain.")
        NodeAddress node;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = root.zookeeper(c)) {
                boolean had = zk.store().undrain(node);
                if (!had) {
                    groupOf(spec, c, zk.store(), node); // a wrong node is a usage error, not "nothing to do"
                }
                spec.commandLine().getOut().println(had ? "undrained " + node + ": data planes send it reads again"
                        : node + " had no maintenance mark; nothing changed");
            }
            return BallastCli.OK;
        }
    }
}
