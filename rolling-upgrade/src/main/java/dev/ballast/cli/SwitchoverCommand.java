package dev.ballast.cli;

import dev.ballast.failover.Switchover;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "switchover", sortOptions = false,
        description = {"Planned change of a group's master, without client errors: phase SWITCHING (clients hold new "
                + "writes), read_only on the master, the candidate applies everything, promotion, the old master and the "
                + "other replicas become replicas of the new one, next epoch. If anything fails before the promotion the "
                + "old master is made writable again and nothing moved (exit 1); a --to node that may not be promoted is "
                + "refused before anything changes (exit 3)."})
final class SwitchoverCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Mixin
    ConfigOption config;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The replica group whose master moves.")
    String group;

    @Option(names = "--to", paramLabel = "HOST:PORT", description = "The replica to promote. Default: the most advanced "
            + "healthy replica that failover.promotion allows.")
    NodeAddress to;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.loadWithZooKeeper();
        if (!c.groups().containsKey(group)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--group': "
                    + "cluster " + c.name() + " has no group '" + group + "' (groups: " + String.join(", ", c.groups().keySet()) + ")");
        }
        try (ZooKeeperSession zk = root.zookeeper(c)) {
            Switchover.Result r = new Switchover(c, zk.store(), Operator.name()).run(group, Optional.ofNullable(to));
            spec.commandLine().getOut().println("switched over group " + group + " from " + r.before().master() + " to "
                    + r.after().master() + " (epoch " + r.after().epoch() + ", writes held " + r.writePauseMs() + " ms)");
        }
        return BallastCli.OK;
    }
}
