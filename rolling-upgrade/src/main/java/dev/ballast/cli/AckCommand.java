package dev.ballast.cli;

import dev.ballast.failover.AuditRecord;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.topology.TopologyStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "ack", sortOptions = false,
        description = "Acknowledges the group's latest automatic failover: its anti-flap window "
                + "(failover.antiFlapWindowMs) no longer holds back the next one.")
public final class AckCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Mixin
    ConfigOption config;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The replica group.")
    String group;

    @Override
    public Integer call() {
        ClusterConfig c = config.loadWithZooKeeper();
        try (ZooKeeperSession zk = root.zookeeper(c)) {
            spec.commandLine().getOut().println(acknowledge(zk.store(), group));
        }
        return BallastCli.OK;
    }

    /** Marks the group's latest failover in {@code recoveries/} as acknowledged; says which, or that there is none. */
    public static String acknowledge(TopologyStore store, String group) {
        List<String[]> recoveries = store.recoveries();
        for (int i = recoveries.size() - 1; i >= 0; i--) {
            String[] r = recoveries.get(i);
            AuditRecord.Summary o;
            try {
                o = AuditRecord.summary(r[1]);
            } catch (IllegalArgumentException unreadable) {
                continue; // not ours to fix here; status shows it as unreadable
            }
            if (group.equals(o.group()) && "failover".equals(o.kind())) {
                store.updateRecovery(r[0], AuditRecord.acknowledged(r[1], Operator.name()));
                return "acknowledged " + r[0];
            }
        }
        return "no failover of group " + group + " to acknowledge";
    }
}
