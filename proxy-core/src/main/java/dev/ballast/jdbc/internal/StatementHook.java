package dev.ballast.jdbc.internal;

import dev.ballast.metrics.DataPlaneMetrics;
import org.apache.shardingsphere.infra.database.core.connector.ConnectionProperties;
import org.apache.shardingsphere.infra.executor.sql.hook.SQLExecutionHook;
import org.apache.shardingsphere.infra.metadata.database.resource.unit.StorageUnit;

import java.sql.SQLException;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * ShardingSphere's SQL execution hook (an SPI it calls once per statement it sends to a storage unit): counts the
 * statement on the route {@code shardingsphere} with the unit's group and role. ShardingSphere hands the hook the unit's
 * {@link ConnectionProperties} object, one per unit of one data source, so that object (by identity) finds the unit's
 * counters: two Ballast data sources with the same group names never mix. It may run on ShardingSphere's executor
 * threads, where no Ballast connection is current.
 */
public final class StatementHook implements SQLExecutionHook {

    /** Replaced whole on each change (rare: a data source starts or closes); read without a lock. */
    private static volatile Map<ConnectionProperties, DataPlaneMetrics.StatementCounters> units = new IdentityHashMap<>();

    /** Registers the units of a data source that ShardingSphere built over Ballast's {@link UnitDataSource}s. */
    static synchronized void register(Map<String, StorageUnit> storageUnits) {
        Map<ConnectionProperties, DataPlaneMetrics.StatementCounters> next = new IdentityHashMap<>(units);
        for (StorageUnit u : storageUnits.values()) {
            try {
                if (u.getDataSource().isWrapperFor(UnitDataSource.class)) {
                    next.put(u.getConnectionProperties(), u.getDataSource().unwrap(UnitDataSource.class).statements());
                }
            } catch (SQLException e) {
                throw new IllegalStateException("reading ShardingSphere's storage unit " + u + ": " + e, e);
            }
        }
        units = next;
    }

    /** Forgets the units of a closed data source. */
    static synchronized void unregister(ReadRouter router) {
        Map<ConnectionProperties, DataPlaneMetrics.StatementCounters> next = new IdentityHashMap<>(units);
        next.values().removeIf(c -> router.metrics().owns(c));
        units = next;
    }

    @Override
    public void start(String dataSourceName, String sql, List<Object> params, ConnectionProperties connectionProps,
                      boolean isTrunkThread) {
        DataPlaneMetrics.StatementCounters c = units.get(connectionProps);
        if (c != null) {
            c.shardingSphere();
        }
    }

    @Override
    public void finishSuccess() {
    }

    @Override
    public void finishFailure(Exception cause) {
    }
}
