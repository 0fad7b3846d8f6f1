package dev.ballast.schema;

import java.util.List;

/**
 * Tells the data planes that tables changed, once a statement has completed on every server: they reload those
 * tables' metadata. Wired to the schema version znode ({@code /ballast/<cluster>/schema}) by {@link ZkSchemaVersions}.
 */
@FunctionalInterface
public interface SchemaVersions {

    /** Raises the schema version for {@code logicalTables}; returns one line saying how the data planes took it. */
    String bump(List<String> logicalTables) throws Exception;
}
