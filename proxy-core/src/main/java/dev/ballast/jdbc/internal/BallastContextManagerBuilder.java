package dev.ballast.jdbc.internal;

import org.apache.shardingsphere.infra.config.database.DatabaseConfiguration;
import org.apache.shardingsphere.infra.config.props.ConfigurationProperties;
import org.apache.shardingsphere.infra.database.DatabaseTypeEngine;
import org.apache.shardingsphere.infra.database.core.metadata.database.system.SystemDatabase;
import org.apache.shardingsphere.infra.database.core.type.DatabaseType;
import org.apache.shardingsphere.infra.instance.ComputeNodeInstance;
import org.apache.shardingsphere.infra.instance.ComputeNodeInstanceContext;
import org.apache.shardingsphere.infra.metadata.ShardingSphereMetaData;
import org.apache.shardingsphere.infra.metadata.database.ShardingSphereDatabase;
import org.apache.shardingsphere.infra.metadata.database.resource.ResourceMetaData;
import org.apache.shardingsphere.infra.metadata.database.rule.RuleMetaData;
import org.apache.shardingsphere.infra.rule.builder.global.GlobalRulesBuilder;
import org.apache.shardingsphere.infra.util.eventbus.EventBusContext;
import org.apache.shardingsphere.mode.manager.ContextManager;
import org.apache.shardingsphere.mode.manager.ContextManagerBuilder;
import org.apache.shardingsphere.mode.manager.ContextManagerBuilderParameter;
import org.apache.shardingsphere.mode.manager.standalone.lock.StandaloneLockContext;
import org.apache.shardingsphere.mode.manager.standalone.workerid.StandaloneWorkerIdGenerator;
import org.apache.shardingsphere.mode.metadata.MetaDataContexts;
import org.apache.shardingsphere.mode.metadata.ShardingSphereStatisticsFactory;
import org.apache.shardingsphere.mode.metadata.persist.MetaDataPersistService;

import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Builds ShardingSphere's context for a Ballast data source (mode type {@value #TYPE}).
 *
 * <p>ShardingSphere's standalone builder writes every rule configuration into its metadata repository as YAML
 * (one document per logical table) before the data source is usable, so that DistSQL can alter rules and a
 * restarted ShardingSphere-Proxy can read them back. Ballast needs neither: its rules come from its own config on
 * every start, and ShardingSphere-JDBC 5.5.2 runs no DistSQL (no DistSQL handler is on the class path; such text
 * fails to parse as MySQL). With 10 000 tables that write-out was a third of the build (JFR), so this builder
 * builds the same metadata from the given configuration and writes only the database's and its schemas' names.
 * The repository (in memory) still receives what ShardingSphere writes later, e.g. table metadata learnt from DDL;
 * nothing on the JDBC path reads rules back from it.
 *
 * <p>The other mode services (metadata manager, locks, worker ids) are ShardingSphere's standalone ones: a
 * type without its own implementation falls back to the default. The standalone worker id is 0 (or the algorithm's
 * {@code worker-id} property) in every process, so a Ballast data source generates snowflake keys with its own
 * algorithm ({@code dev.ballast.keys}, worker id leased per data source) instead of ShardingSphere's SNOWFLAKE.
 */
public final class BallastContextManagerBuilder implements ContextManagerBuilder {

    public static final String TYPE = "Ballast";

    /** The context built last on this thread: ShardingSphere's data source does not hand its context out. */
    private static final ThreadLocal<ContextManager> BUILT = new ThreadLocal<>();

    /**
     * The context ShardingSphere's data source factory just built on this thread (once; null when none), so that the
     * Ballast data source can reload table metadata into it ({@link MetadataReload}).
     */
    public static ContextManager takeBuilt() {
        ContextManager built = BUILT.get();
        BUILT.remove();
        return built;
    }

    @Override
    public ContextManager build(ContextManagerBuilderParameter param, EventBusContext eventBus) throws SQLException {
        MemoryRepository repository = new MemoryRepository();
        MetaDataPersistService persist = new MetaDataPersistService(repository);
        ComputeNodeInstanceContext instance = new ComputeNodeInstanceContext(
                new ComputeNodeInstance(param.getInstanceMetaData()), param.getModeConfiguration(), eventBus);
        instance.init(new StandaloneWorkerIdGenerator(), new StandaloneLockContext());
        ConfigurationProperties props = new ConfigurationProperties(param.getProps());
        Map<String, ShardingSphereDatabase> databases = databases(param.getDatabaseConfigs(), props, instance);
        RuleMetaData globalRules = new RuleMetaData(GlobalRulesBuilder.buildRules(param.getGlobalRuleConfigs(), databases.values(), props));
        ShardingSphereMetaData metaData = new ShardingSphereMetaData(databases.values(),
                new ResourceMetaData(param.getGlobalDataSources()), globalRules, props);
        for (String name : param.getDatabaseConfigs().keySet()) {
            StatementHook.register(metaData.getDatabase(name).getResourceMetaData().getStorageUnits());
            persist.getDatabaseMetaDataFacade().getDatabase().add(name);
            metaData.getDatabase(name).getAllSchemas()
                    .forEach(s -> persist.getDatabaseMetaDataFacade().getSchema().add(name, s.getName()));
        }
        MetaDataContexts contexts = new MetaDataContexts(metaData, ShardingSphereStatisticsFactory.create(persist, metaData));
        ContextManager built = new ContextManager(contexts, instance, repository);
        BUILT.set(built);
        return built;
    }

    /**
     * The configured databases and, built alongside on a second thread, ShardingSphere's system databases
     * (information_schema, mysql, performance_schema, sys: some 300 YAML table descriptions, about a fifth of a cold
     * build, that do not depend on the configuration). The same databases as ShardingSphere's own factory makes.
     */
    private static Map<String, ShardingSphereDatabase> databases(Map<String, DatabaseConfiguration> configs,
                                                                 ConfigurationProperties props,
                                                                 ComputeNodeInstanceContext instance) throws SQLException {
        DatabaseType protocol = DatabaseTypeEngine.getProtocolType(configs, props);
        SystemDatabase systemDatabase = new SystemDatabase(protocol);
        List<String> systemNames = systemDatabase.getSystemDatabaseSchemaMap().keySet().stream()
                .filter(n -> !configs.containsKey(n) || configs.get(n).getStorageUnits().isEmpty())
                .toList();
        FutureTask<Map<String, ShardingSphereDatabase>> system = new FutureTask<>(() -> {
            Map<String, ShardingSphereDatabase> built = new HashMap<>();
            for (String n : systemNames) {
                built.put(n.toLowerCase(Locale.ROOT), ShardingSphereDatabase.create(n, protocol, props));
            }
            return built;
        });
        Thread builder = new Thread(system, "ballast-system-schemas");
        builder.setDaemon(true);
        builder.start();
        Map<String, ShardingSphereDatabase> result = new ConcurrentHashMap<>();
        for (Map.Entry<String, DatabaseConfiguration> e : configs.entrySet()) {
            if (!e.getValue().getStorageUnits().isEmpty() || !systemDatabase.getSystemSchemas().contains(e.getKey())) {
                result.put(e.getKey().toLowerCase(Locale.ROOT),
                        ShardingSphereDatabase.create(e.getKey(), protocol, e.getValue(), props, instance));
            }
        }
        try {
            result.putAll(system.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while building ShardingSphere's system schemas", e);
        } catch (ExecutionException e) {
            throw new SQLException("building ShardingSphere's system schemas: " + e.getCause(), e.getCause());
        }
        return result;
    }

    @Override
    public String getType() {
        return TYPE;
    }
}
