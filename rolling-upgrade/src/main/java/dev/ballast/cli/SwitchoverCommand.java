package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.failover.Switchover;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.MongoSwitchover;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.upgrade.mongo.MongoAudit;
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
                + "refused before anything changes (exit 3).",
                "A MongoDB replica set (mongo.replicaSets.<name>) as --group: the other electable secondaries are frozen "
                + "(replSetFreeze), the primary steps down with a catch-up period (replSetStepDown), the new primary is "
                + "confirmed by its term and electionId, the others are unfrozen. A --to member that is an arbiter, hidden, "
                + "has priority 0, is down or does not catch up within catchUpSecs is refused (exit 3). Recorded in the audit "
                + "log (recoveries/) when the config has failover.zookeeper."})
final class SwitchoverCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Mixin
    ConfigOption config;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "The replica group whose master moves, "
            + "or the MongoDB replica set whose primary moves.")
    String group;

    @Option(names = "--to", paramLabel = "HOST:PORT", description = "The replica to promote. Default: the most advanced "
            + "healthy replica that failover.promotion allows.")
    NodeAddress to;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.load();
        if (c.mongoReplicaSet(group).isPresent()) {
            return mongo(c, c.mongoReplicaSet(group).get());
        }
        if (!c.groups().containsKey(group)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Invalid value for option '--group': "
                    + "cluster " + c.name() + " has no group '" + group + "' (groups: " + String.join(", ", c.groups().keySet())
                    + (c.mongoReplicaSets().isEmpty() ? "" : "; MongoDB replica sets: "
                    + String.join(", ", c.mongoReplicaSets().keySet())) + ")");
        }
        c = config.loadWithZooKeeper();
        try (ZooKeeperSession zk = root.zookeeper(c)) {
            Switchover.Result r = new Switchover(c, zk.store(), Operator.name()).run(group, Optional.ofNullable(to));
            spec.commandLine().getOut().println("switched over group " + group + " from " + r.before().master() + " to "
                    + r.after().master() + " (epoch " + r.after().epoch() + ", writes held " + r.writePauseMs() + " ms)");
        }
        return BallastCli.OK;
    }

    /** With failover.zookeeper the switchover is recorded in the audit log (recoveries/); without, it runs all the same. */
    private int mongo(ClusterConfig c, MongoReplicaSetConfig rs) throws RefusedException {
        Optional<String> target = Optional.ofNullable(to).map(NodeAddress::toString);
        Optional<ZooKeeperSession> zk = c.failover().zookeeper().isPresent() ? Optional.of(root.zookeeper(c))
                : Optional.empty();
        try (ReplicaSetProbe probe = new ReplicaSetProbe(rs)) {
            MongoSwitchover.Result r = zk.isPresent()
                    ? MongoAudit.switchover(zk.get().store(), rs, probe, Operator.name(), target, Optional.empty())
                    : new MongoSwitchover(rs, probe).run(target);
            spec.commandLine().getOut().println("switched over replica set " + rs.name() + " from " + r.from() + " to "
                    + r.to() + " (term " + r.termBefore() + " -> " + r.termAfter() + ", no primary for " + r.noPrimaryMs()
                    + " ms)" + (zk.isEmpty() ? "; no audit record: the config has no failover.zookeeper" : ""));
        } catch (MongoRefusedException e) {
            throw new RefusedException(e.getMessage());
        } finally {
            zk.ifPresent(ZooKeeperSession::close);
        }
        return BallastCli.OK;
    }
}
