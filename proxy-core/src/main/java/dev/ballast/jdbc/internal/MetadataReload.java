package dev.ballast.jdbc.internal;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.TableRule;
import org.apache.shardingsphere.infra.metadata.database.ShardingSphereDatabase;
import org.apache.shardingsphere.infra.metadata.database.schema.builder.GenericSchemaBuilder;
import org.apache.shardingsphere.infra.metadata.database.schema.builder.GenericSchemaBuilderMaterial;
import org.apache.shardingsphere.infra.metadata.database.schema.model.ShardingSphereSchema;
import org.apache.shardingsphere.infra.metadata.database.schema.model.ShardingSphereTable;
import org.apache.shardingsphere.mode.manager.ContextManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reloads the metadata of changed logical tables into a running data source, without a restart: ShardingSphere's (the
 * columns and indexes its binder checks statements against) and the fast path's (route templates analysed before).
 *
 * <p>ShardingSphere 5.5.2's own {@code ContextManager.reloadTable} only writes the loaded table into the metadata
 * repository, which its standalone (JDBC) mode never reads back; this loads the table the same way
 * ({@code GenericSchemaBuilder} over the data source's storage units and rules: the columns of the first data node)
 * and puts it into the in-memory schema through the metadata manager, as ShardingSphere does after DDL that ran
 * through it. Statements already running keep the table they bound; the next ones see the new one.
 */
public final class MetadataReload {

    private static final Logger log = LoggerFactory.getLogger(MetadataReload.class);

    /** What a reload did: tables reloaded, names the config does not list, tables the servers do not have. */
    public record Result(List<String> reloaded, List<String> unknown, List<String> missing, int templatesForgotten) {
    }

    private final ClusterConfig config;
    private final ContextManager context;
    private final Templates templates;

    public MetadataReload(ClusterConfig config, ContextManager context, Templates templates) {
        this.config = config;
        this.context = context;
        this.templates = templates;
    }

    /** Reloads {@code tables} (logical names, any case); a name the config does not list is logged and ignored. */
    public synchronized Result reload(Collection<String> tables) throws SQLException {
        Map<String, TableRule> byName = new java.util.HashMap<>();
        config.tables().values().forEach(t -> byName.put(t.name().toLowerCase(Locale.ROOT), t));
        Set<String> known = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String t : tables) {
            TableRule rule = byName.get(t.toLowerCase(Locale.ROOT));
            if (rule == null) {
                unknown.add(t);
            } else {
                known.add(rule.name());
            }
        }
        if (!unknown.isEmpty()) {
            log.warn("[cluster={}] schema change of {} ignored: not a table of the config (tables: {}); push a config that "
                    + "lists it ('ballast config push')", config.name(), unknown, byName.keySet());
        }
        List<String> reloaded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        if (!known.isEmpty()) {
            ShardingSphereDatabase database = context.getDatabase(config.database());
            String schemaName = database.getName();
            GenericSchemaBuilderMaterial material = new GenericSchemaBuilderMaterial(
                    database.getResourceMetaData().getStorageUnits(), database.getRuleMetaData().getRules(),
                    context.getMetaDataContexts().getMetaData().getProps(), schemaName);
            Map<String, ShardingSphereSchema> loaded = GenericSchemaBuilder.build(known, database.getProtocolType(), material);
            ShardingSphereSchema schema = loaded.get(schemaName);
            for (String name : known) {
                ShardingSphereTable table = schema == null ? null : schema.getTable(name);
                if (table == null) {
                    missing.add(name);
                    continue;
                }
                context.getMetaDataContextManager().getSchemaMetaDataManager().alterSchema(database.getName(), schemaName,
                        table, null);
                reloaded.add(name);
            }
            if (!missing.isEmpty()) {
                log.warn("[cluster={}] schema change of {}: no such table on the servers (its first data node); "
                        + "ShardingSphere keeps what it knew of it until the next change", config.name(), missing);
            }
        }
        Set<String> forget = new LinkedHashSet<>();
        known.forEach(t -> forget.add(t.toLowerCase(Locale.ROOT)));
        int forgotten = forget.isEmpty() ? 0 : templates.forget(forget);
        return new Result(reloaded, unknown, missing, forgotten);
    }
}
