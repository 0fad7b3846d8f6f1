package dev.ballast.keys;

import org.apache.shardingsphere.infra.algorithm.core.context.AlgorithmSQLContext;
import org.apache.shardingsphere.infra.algorithm.keygen.core.KeyGenerateAlgorithm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ShardingSphere's key generator SPI (type {@value #TYPE}) over a data source's {@link Snowflake}, found by the id in
 * property {@value #GENERATOR}. ShardingSphere's own SNOWFLAKE takes one worker id when the rules are built and cannot
 * stop when a ZooKeeper lease is lost; this one asks the lease for every key.
 */
public final class BallastSnowflakeAlgorithm implements KeyGenerateAlgorithm {

    public static final String TYPE = "BALLAST_SNOWFLAKE";
    public static final String GENERATOR = "generator";

    private static final Map<String, Snowflake> REGISTRY = new ConcurrentHashMap<>();

    private Snowflake snowflake;

    /** Makes {@code generator} findable by the returned id until {@link #unregister}. */
    public static String register(Snowflake generator) {
        String id = UUID.randomUUID().toString();
        REGISTRY.put(id, generator);
        return id;
    }

    public static void unregister(String id) {
        REGISTRY.remove(id);
    }

    @Override
    public void init(Properties props) {
        String id = props.getProperty(GENERATOR);
        snowflake = id == null ? null : REGISTRY.get(id);
        if (snowflake == null) {
            throw new IllegalStateException(TYPE + " needs property '" + GENERATOR + "' naming a registered generator (a"
                    + " BallastDataSource registers its own); got '" + id + "'");
        }
    }

    @Override
    public Collection<Long> generateKeys(AlgorithmSQLContext context, int count) {
        List<Long> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add(snowflake.next());
        }
        return keys;
    }

    @Override
    public String getType() {
        return TYPE;
    }
}
