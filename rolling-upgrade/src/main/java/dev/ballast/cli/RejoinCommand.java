package dev.ballast.cli;

import dev.ballast.failover.Rejoin;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "rejoin", sortOptions = false,
        description = "Brings a server that left the topology (an old master the monitor fenced) back as a replica of "
                + "the current master. Refused when it has transactions the master lacks (errant): the message names them "
                + "and the ways out.")
final class RejoinCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Mixin
    ConfigOption config;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The replica group it rejoins.")
    String group;

    @Option(names = "--node", required = true, paramLabel = "HOST:PORT", description = "The server that rejoins.")
    NodeAddress node;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.loadWithZooKeeper();
        if (!c.groups().containsKey(group)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--group': "
                    + "cluster " + c.name() + " has no group '" + group + "' (groups: " + String.join(", ", c.groups().keySet()) + ")");
        }
        try (ZooKeeperSession zk = root.zookeeper(c)) {
            GroupTopology t = new Rejoin(c, zk.store(), Operator.name()).run(group, node);
            spec.commandLine().getOut().println("rejoined " + node + " to group " + group + " as a replica of " + t.master()
                    + " (epoch " + t.epoch() + ", replicas " + t.replicas() + ")");
        }
        return BallastCli.OK;
    }
}
