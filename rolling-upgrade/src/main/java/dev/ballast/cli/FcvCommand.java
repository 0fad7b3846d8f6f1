package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.upgrade.mongo.MongoFeatureCompatibility;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "fcv", sortOptions = false,
        description = "Sets a MongoDB replica set's featureCompatibilityVersion (setFeatureCompatibilityVersion on the "
                + "primary, with confirm: true on 7.0 and later) once every member's binaries (buildInfo) run --version "
                + "or newer; refused (exit 3) naming the older or unreachable member otherwise. Prints the value before "
                + "and after. Recorded in the audit log (recoveries/) when the config has failover.zookeeper.")
final class FcvCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    UpgradeCommand parent;

    @Mixin
    ConfigOption config;

    @Option(names = "--group", required = true, paramLabel = "REPLICA_SET",
            description = "The MongoDB replica set (mongo.replicaSets.<name>).")
    String group;

    @Option(names = "--version", required = true, paramLabel = "VERSION",
            description = "The featureCompatibilityVersion to set, e.g. 7.0 (major and minor only).")
    String version;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.load();
        MongoReplicaSetConfig rs = c.mongoReplicaSet(group).orElseThrow(() -> new ParameterException(spec.commandLine(),
                "Invalid value for option '--group': cluster " + c.name() + " has no MongoDB replica set '" + group + "'"
                        + (c.mongoReplicaSets().isEmpty() ? " (the config has no mongo.replicaSets)"
                        : " (mongo.replicaSets: " + String.join(", ", c.mongoReplicaSets().keySet()) + ")")));
        if (version == null || !version.matches("\\d{1,3}\\.\\d{1,3}")) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--version': '" + version
                    + "' is not a featureCompatibilityVersion such as 7.0 (MAJOR.MINOR)");
        }
        PrintWriter out = spec.commandLine().getOut();
        Optional<ZooKeeperSession> zk = c.failover().zookeeper().isPresent()
                ? Optional.of(parent.root.zookeeper(c)) : Optional.empty();
        try (ReplicaSetProbe probe = new ReplicaSetProbe(rs)) {
            MongoFeatureCompatibility.Result r = new MongoFeatureCompatibility(probe,
                    zk.map(ZooKeeperSession::store), Operator.name() + " (ballast upgrade fcv)").set(version);
            if (r.changed()) {
                out.println("featureCompatibilityVersion of replica set " + rs.name() + ": " + r.before() + " -> "
                        + r.after() + " (set on the primary " + r.primary() + (r.confirmed() ? ", confirm: true" : "")
                        + ")");
            } else {
                out.println("featureCompatibilityVersion of replica set " + rs.name() + " is already " + r.after()
                        + "; nothing changed");
            }
            if (zk.isEmpty()) {
                out.println("note: no audit record: the config has no failover.zookeeper");
            }
        } catch (MongoRefusedException e) {
            throw new RefusedException(e.getMessage());
        } finally {
            zk.ifPresent(ZooKeeperSession::close);
        }
        return BallastCli.OK;
    }
}
