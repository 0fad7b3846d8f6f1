package dev.ballast.cli;

import dev.ballast.failover.Monitor;
import dev.ballast.rules.ClusterConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "monitor", sortOptions = false,
        description = {"Runs a failover monitor until SIGTERM/SIGINT: probes every server of every group, publishes what it "
                + "sees under health/<node>/<monitor>, and, while it is the elected leader, replaces dead masters and fences "
                + "stray writable servers. Run two or three, on different machines.",
                "Unlike the other verbs it does not give up when ZooKeeper is unreachable: it keeps probing and acts once "
                        + "ZooKeeper answers."})
final class MonitorCommand implements Callable<Integer> {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOption config;

    @Option(names = "--id", paramLabel = "NAME", description = "This monitor's name in health/ and in the audit log. "
            + "Default: monitor-<pid>.")
    String id;

    @Override
    public Integer call() throws Exception {
        ClusterConfig c = config.loadWithZooKeeper();
        String name = id != null ? id : "monitor-" + ProcessHandle.current().pid();
        CountDownLatch stop = new CountDownLatch(1);
        Monitor monitor = new Monitor(c, name, null);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            monitor.close();
            stop.countDown();
        }, "ballast-monitor-shutdown"));
        monitor.start();
        // MongoDB replica sets: a watcher beside the failover monitor, publishing into the same health tree
        org.apache.curator.framework.CuratorFramework mongoZk = c.mongoReplicaSets().isEmpty() ? null
                : dev.ballast.topology.TopologyStore.connect(c);
        dev.ballast.mongo.ReplicaSetWatcher watcher = mongoZk == null ? null : new dev.ballast.mongo.ReplicaSetWatcher(c,
                dev.ballast.topology.TopologyStore.of(mongoZk, c), name, monitor.metrics().registry()).start();
        if (watcher != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                watcher.close();
                mongoZk.close();
            }, "ballast-mongo-watcher-shutdown"));
        }
        spec.commandLine().getOut().println("ballast monitor " + name + " watching cluster " + c.name() + " ("
                + c.groups().size() + " groups" + (watcher == null ? "" : ", " + c.mongoReplicaSets().size()
                + " MongoDB replica sets") + ") through ZooKeeper " + c.failover().zookeeper().orElse(""));
        spec.commandLine().getOut().flush();
        stop.await();
        return BallastCli.OK;
    }
}
