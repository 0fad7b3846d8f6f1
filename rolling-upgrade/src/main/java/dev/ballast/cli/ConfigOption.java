package dev.ballast.cli;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.ConfigException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/** {@code --config FILE} (or {@code BALLAST_CONFIG}), shared by every verb that reads the cluster config. */
final class ConfigOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:BALLAST_CONFIG}",
            description = "The cluster config (YAML). Default: the file named by the environment variable BALLAST_CONFIG.")
    Path config;

    /** The config, or a usage error (exit 2) naming what is wrong with it. */
    ClusterConfig load() {
        if (config == null) {
            throw new ParameterException(mixee.commandLine(),
                    "Missing required option: '--config=FILE' (or set the environment variable BALLAST_CONFIG)");
        }
        try {
            return ClusterConfigLoader.load(config);
        } catch (ConfigException e) {
            throw new ParameterException(mixee.commandLine(), config + ": " + e.getMessage());
        }
    }

    /** The config of a cluster whose topology lives in ZooKeeper; a usage error for a static one. */
    ClusterConfig loadWithZooKeeper() {
        ClusterConfig c = load();
        if (c.failover().zookeeper().isEmpty()) {
            throw new ParameterException(mixee.commandLine(), config + " has no failover.zookeeper: the topology is static, "
                    + "there is nothing to " + mixee.name());
        }
        return c;
    }
}
