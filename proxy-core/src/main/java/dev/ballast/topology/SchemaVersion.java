package dev.ballast.topology;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ballast.replication.Documents;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster's schema version, {@code /ballast/<cluster>/schema} (DESIGN.md "Topology store"): raised by
 * {@link TopologyStore#bumpSchemaVersion} after a schema change has completed on every server, and watched by every data
 * plane, which then reloads the metadata of {@link #tables()} (ShardingSphere's and the fast path's).
 *
 * @param version     rises by one with every bump (1 for the first)
 * @param tables      the logical tables whose definition changed, as the caller named them
 * @param atMillis    wall-clock time of the bump
 * @param by          who bumped it (an operation id, {@code user@host})
 */
public record SchemaVersion(long version, List<String> tables, long atMillis, String by) {

    public SchemaVersion {
        tables = List.copyOf(tables);
        by = by == null ? "" : by;
    }

    public String toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("version", version);
        o.put("tables", tables);
        o.put("at", atMillis);
        o.put("by", by);
        return Documents.write(o);
    }

    /** @throws IllegalArgumentException naming what is wrong */
    public static SchemaVersion fromJson(String json) {
        String what = "schema version";
        JsonNode o = Documents.readObject(json, what);
        long version = Documents.integer(o, "version", what);
        what = "schema version " + version;
        JsonNode t = o.get("tables");
        if (t == null || !t.isArray()) {
            throw new IllegalArgumentException(what + " has no 'tables' list");
        }
        List<String> tables = new ArrayList<>();
        for (JsonNode n : t) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException(what + ": 'tables' holds a non-text entry: " + n);
            }
            tables.add(n.asText());
        }
        return new SchemaVersion(version, tables, o.has("at") ? Documents.integer(o, "at", what) : 0,
                o.has("by") ? Documents.text(o, "by", what) : "");
    }
}
