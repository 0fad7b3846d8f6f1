package dev.ballast.topology;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ballast.replication.Documents;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A cluster config published in ZooKeeper by {@code ballast config push} ({@code /<zkRoot>/<cluster>/config}, every
 * version also kept at {@code config/v-<version>}). The YAML is the file's text as pushed: {@code ${VAR}} references
 * stay unresolved and each data plane resolves them from its own environment, so no password lands in ZooKeeper
 * unless the file held it in clear.
 *
 * @param version   1 for the first push, +1 for each next
 * @param yaml      the config file's text
 * @param atMillis  wall-clock time of the push
 * @param by        who pushed ({@code user@host})
 * @param source    the file it came from, for people
 */
public record PublishedConfig(long version, String yaml, long atMillis, String by, String source) {

    public PublishedConfig {
        by = by == null ? "" : by;
        source = source == null ? "" : source;
    }

    public String toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("version", version);
        o.put("at", atMillis);
        o.put("by", by);
        o.put("source", source);
        o.put("yaml", yaml);
        return Documents.write(o);
    }

    /** @throws IllegalArgumentException naming what is wrong */
    public static PublishedConfig fromJson(String json) {
        String what = "published config";
        JsonNode o = Documents.readObject(json, what);
        long version = Documents.integer(o, "version", what);
        what = "published config version " + version;
        return new PublishedConfig(version, Documents.text(o, "yaml", what),
                o.has("at") ? Documents.integer(o, "at", what) : 0,
                o.has("by") ? Documents.text(o, "by", what) : "",
                o.has("source") ? Documents.text(o, "source", what) : "");
    }
}
