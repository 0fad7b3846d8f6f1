package dev.ballast.keys;

import dev.ballast.rules.ClusterConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * Where a data source's snowflake worker id comes from: a lease in ZooKeeper ({@link WorkerLease}) when the config has
 * {@code failover.zookeeper}; otherwise the config's {@code workerId}, else the environment's {@value #ENV}, else 0 with
 * a warning that keys are then unique within one process only.
 */
public interface WorkerIds extends AutoCloseable {

    String ENV = "BALLAST_WORKER_ID";

    /** The worker id held now; throws {@link KeyGenerationException} naming the cluster and the reason when none is. */
    int current();

    /** Where the id comes from, for logs and errors. */
    String describe();

    @Override
    default void close() {
    }

    /**
     * The worker ids of a data source: a {@link WorkerLease} on {@code zookeeper} (the data source's own client) when
     * the config has ZooKeeper ({@value #ENV} is then ignored, with a warning), else {@link #withoutZooKeeper}.
     */
    static WorkerIds open(ClusterConfig config, java.util.Optional<org.apache.curator.framework.CuratorFramework> zookeeper,
                          Function<String, String> env) {
        if (zookeeper.isEmpty()) {
            return withoutZooKeeper(config, env);
        }
        String value = env.apply(ENV);
        if (value != null && !value.isBlank()) {
            LoggerFactory.getLogger(WorkerIds.class).warn("[cluster={}] {}={} ignored: with failover.zookeeper each data"
                    + " source leases its worker id", config.name(), ENV, value);
        }
        return WorkerLease.start(zookeeper.get(), config.name(), config.failover().clusterPath(config.name()),
                config.failover().zkConnectionTimeoutMs());
    }

    /** Whether any table of the config has a snowflake key generator. */
    static boolean needed(ClusterConfig config) {
        return config.tables().values().stream().anyMatch(t -> {
            java.util.Optional<dev.ballast.rules.KeyGeneratorSpec> k = t instanceof dev.ballast.rules.TableRule.Sharded s
                    ? s.keyGenerator() : t instanceof dev.ballast.rules.TableRule.Placed p ? p.keyGenerator()
                    : java.util.Optional.empty();
            return k.isPresent() && k.get().type() == dev.ballast.rules.KeyGeneratorSpec.Type.SNOWFLAKE;
        });
    }

    /** A fixed id. */
    static WorkerIds fixed(int id, String source) {
        if (id < 0 || id > Snowflake.MAX_WORKER_ID) {
            throw new IllegalArgumentException(source + ": worker id " + id + " is out of range 0.." + Snowflake.MAX_WORKER_ID);
        }
        return new WorkerIds() {
            @Override
            public int current() {
                return id;
            }

            @Override
            public String describe() {
                return "worker id " + id + " from " + source;
            }
        };
    }

    /**
     * The fixed id of a config without ZooKeeper: {@code workerId}, else {@value #ENV} from {@code env}, else 0 (logged
     * at WARN).
     */
    static WorkerIds withoutZooKeeper(ClusterConfig config, Function<String, String> env) {
        if (config.workerId().isPresent()) {
            return fixed(config.workerId().getAsInt(), "the config's workerId");
        }
        String value = env.apply(ENV);
        if (value != null && !value.isBlank()) {
            int id;
            try {
                id = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("[cluster=" + config.name() + "] " + ENV + "='" + value
                        + "' is not a whole number; expected 0.." + Snowflake.MAX_WORKER_ID);
            }
            if (id < 0 || id > Snowflake.MAX_WORKER_ID) {
                throw new IllegalArgumentException("[cluster=" + config.name() + "] " + ENV + "=" + id
                        + " is out of range; expected 0.." + Snowflake.MAX_WORKER_ID);
            }
            return fixed(id, ENV);
        }
        Logger log = LoggerFactory.getLogger(WorkerIds.class);
        log.warn("[cluster={}] snowflake worker id 0: no failover.zookeeper to lease one, no workerId in the config, no {}"
                + " in the environment; generated keys are unique within this process only. Give each process its own"
                + " id 0..1023 ({}=n) or configure ZooKeeper", config.name(), ENV, ENV);
        return fixed(0, "the default (no ZooKeeper, workerId or " + ENV + ")");
    }
}
