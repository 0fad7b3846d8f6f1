package dev.ballast.replication;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The JSON of every document Ballast keeps in ZooKeeper (topology, health records, audit records, later operations):
 * one Jackson mapper, so quoting and escaping are Jackson's. Readers ignore fields they do not know, so a newer
 * writer (a monitor of the next version during a rolling upgrade) does not break an older reader; what a reader needs
 * and does not find is an {@link IllegalArgumentException} naming the field.
 */
public final class Documents {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private Documents() {
    }

    /** A value (a record, a map, a tree) as compact JSON. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName() + " as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /** A value as pretty-printed JSON, for people and scripts ({@code ballast status --json}). */
    public static String writePretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getSimpleName() + " as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /**
     * Reads {@code json} as a {@code type}.
     *
     * @param what what the text is, for the message (e.g. "topology of group g0")
     * @throws IllegalArgumentException naming {@code what} and what is wrong
     */
    public static <T> T read(String json, Class<T> type, String what) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads {@code json} as a JSON object. */
    public static ObjectNode readObject(String json, String what) {
        JsonNode node = read(json, JsonNode.class, what);
        if (!(node instanceof ObjectNode o)) {
            throw new IllegalArgumentException(what + " is not a JSON object: " + Texts.clip(json));
        }
        return o;
    }

    /** A new, empty JSON object. */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** A value (a record, a map) as a JSON tree, to be put inside another document. */
    public static JsonNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** The named field; {@link IllegalArgumentException} naming it when it is missing or null. */
    static JsonNode required(JsonNode o, String field, String what) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(what + " has no '" + field + "'");
        }
        return v;
    }

    /** The named text field, or {@link IllegalArgumentException} naming it. */
    public static String text(JsonNode o, String field, String what) {
        JsonNode v = required(o, field, what);
        if (!v.isTextual()) {
            throw new IllegalArgumentException(what + ": '" + field + "' is not text: " + v);
        }
        return v.asText();
    }

    /** The named integer field, or {@link IllegalArgumentException} naming it. */
    public static long integer(JsonNode o, String field, String what) {
        JsonNode v = required(o, field, what);
        if (!v.canConvertToExactIntegral() || !v.canConvertToLong()) {
            throw new IllegalArgumentException(what + ": '" + field + "' is not an integer: " + v);
        }
        return v.asLong();
    }

    /** The named true/false field, or {@link IllegalArgumentException} naming it. */
    public static boolean bool(JsonNode o, String field, String what) {
        JsonNode v = required(o, field, what);
        if (!v.isBoolean()) {
            throw new IllegalArgumentException(what + ": '" + field + "' is not true/false: " + v);
        }
        return v.asBoolean();
    }
}
