package dev.ballast.cli;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.ConfigException;
import dev.ballast.topology.PublishedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "config", sortOptions = false,
        description = "Publishes the cluster config in ZooKeeper for data planes that follow it (failover.followConfig), "
                + "and reads it back.",
        subcommands = {ConfigCommand.Push.class, ConfigCommand.Show.class})
public final class ConfigCommand implements Runnable {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: give push FILE or show");
    }

    @Command(name = "push", description = {
            "Validates FILE as every Ballast process does (an invalid config exits 2 naming the key; nothing is published),",
            "then publishes its text as the next version at <zkRoot>/<cluster>/config (each version also kept at",
            "config/v-<N>). Data planes with failover.followConfig build it whole and swap it in; ${VAR} references",
            "stay in the text and each data plane resolves them from its own environment. FILE's failover.zookeeper",
            "and failover.acl say where and as whom."})
    static final class Push implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        ConfigCommand parent;
        @Parameters(index = "0", paramLabel = "FILE", description = "The cluster config (YAML) to publish.")
        Path file;

        @Override
        public Integer call() {
            String text;
            try {
                text = Files.readString(file);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new ParameterException(spec.commandLine(), file + ": no such file");
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), file + ": cannot read it (" + e + ")");
            }
            ClusterConfig c;
            try {
                c = ClusterConfigLoader.parse(text, System::getenv);
            } catch (ConfigException e) {
                throw new ParameterException(spec.commandLine(), file + ": " + e.getMessage() + "; nothing published");
            }
            if (c.failover().zookeeper().isEmpty()) {
                throw new ParameterException(spec.commandLine(), file + " has no failover.zookeeper: there is no ZooKeeper "
                        + "to publish it to");
            }
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                PublishedConfig p = zk.store().publishConfig(text, file.toAbsolutePath().toString(), Operator.name());
                spec.commandLine().getOut().println("[cluster=" + c.name() + "] config version " + p.version()
                        + " published at " + zk.store().configPath() + " (" + c.groups().size() + " groups, "
                        + c.tables().size() + " tables); data planes with failover.followConfig take it now");
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "show", description = "Prints the published config's YAML (or one kept version), after a header line "
            + "naming its version, time, author and file.")
    static final class Show implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        ConfigCommand parent;
        @Mixin
        ConfigOption config;
        @Option(names = "--version", paramLabel = "N", description = "A kept version instead of the one in force.")
        Long version;

        @Override
        public Integer call() {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                Optional<PublishedConfig> p = version == null ? zk.store().publishedConfig()
                        : zk.store().publishedConfig(version);
                if (p.isEmpty()) {
                    throw new CliFailure("[cluster=" + c.name() + "] no config " + (version == null ? "" : "version " + version
                            + " ") + "published at " + zk.store().configPath() + "; publish one with 'ballast config push FILE'");
                }
                PublishedConfig v = p.get();
                spec.commandLine().getOut().println("# version " + v.version() + ", pushed " + Instant.ofEpochMilli(v.atMillis())
                        + " by " + v.by() + " from " + v.source());
                spec.commandLine().getOut().print(v.yaml().endsWith("\n") ? v.yaml() : v.yaml() + "\n");
            }
            return BallastCli.OK;
        }
    }
}
