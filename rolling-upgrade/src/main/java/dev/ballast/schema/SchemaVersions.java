package dev.ballast.schema;

import java.util.List;

/**
 * Tells the data planes that tables changed, once a statement has completed on every server: they reload those
 * tables' metadata. Wired to the schema version znode ({@code /ballast/<cluster>/schema}) by the CLI.
 */
@FunctionalInterface
public interface SchemaVersions {
    void bump(List<String> logicalTables) throws Exception;
}
