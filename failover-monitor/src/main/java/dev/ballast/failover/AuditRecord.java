package dev.ballast.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ballast.replication.Documents;
import dev.ballast.replication.GroupTopology;

/**
 * One entry of {@code recoveries/}: what kind of change, of which group, by which monitor or operator, why, the topology
 * before and after, every replica's verdict, the outcome and the time each step took. Written when the change starts and
 * rewritten after each step, so an interrupted one shows how far it got. JSON by Jackson ({@link Documents}).
 */
public final class AuditRecord {

    /** The fields every reader of the audit log needs (the anti-flap window, {@code ballast ack}, {@code status}). */
    public record Summary(String kind, String group, String state, boolean acknowledged, long startedAt) {
    }

    private final ObjectNode doc = Documents.object();
    private final ObjectNode timings;
    private final long startNanos = System.nanoTime();
    private long stepNanos = startNanos;

    public AuditRecord(String kind, String group, String by) {
        doc.put("kind", kind).put("group", group).put("by", by).put("startedAt", System.currentTimeMillis())
                .put("state", "started").put("acknowledged", false);
        timings = Documents.object();
    }

    public AuditRecord text(String key, String value) {
        doc.put(key, value == null ? "" : value);
        return this;
    }

    /** A topology, as its document (the same JSON as at {@code topology/<group>}). */
    public AuditRecord topology(String key, GroupTopology topology) {
        doc.set(key, topology.toDocument());
        return this;
    }

    /** Any value Jackson can write (a list of verdicts). */
    public AuditRecord value(String key, Object value) {
        doc.set(key, Documents.tree(value));
        return this;
    }

    /** Records how long the step since the previous one took, in ms. */
    public AuditRecord step(String name) {
        long now = System.nanoTime();
        timings.put(name + "Ms", (now - stepNanos) / 1_000_000L);
        stepNanos = now;
        return this;
    }

    public AuditRecord state(String state) {
        doc.put("state", state);
        if (!state.equals("started")) {
            doc.put("endedAt", System.currentTimeMillis());
            timings.put("totalMs", (System.nanoTime() - startNanos) / 1_000_000L);
        }
        return this;
    }

    public String toJson() {
        ObjectNode out = doc.deepCopy();
        out.set("timings", timings.deepCopy());
        return Documents.write(out);
    }

    /**
     * The summary of a stored record.
     *
     * @throws IllegalArgumentException when the text is not an audit record
     */
    public static Summary summary(String json) {
        JsonNode o = Documents.readObject(json, "audit record");
        JsonNode ack = o.get("acknowledged");
        return new Summary(Documents.text(o, "kind", "audit record"), Documents.text(o, "group", "audit record"),
                Documents.text(o, "state", "audit record"), ack != null && ack.asBoolean(false),
                Documents.integer(o, "startedAt", "audit record"));
    }

    /** The stored record in state {@code interrupted} with {@code reason}; everything else kept. */
    public static String interrupted(String json, String reason) {
        ObjectNode o = Documents.readObject(json, "audit record");
        o.put("state", "interrupted").put("reason", reason).put("endedAt", System.currentTimeMillis());
        return Documents.write(o);
    }

    /** The stored record with {@code acknowledged} set (an operator's {@code ballast ack}); everything else kept. */
    public static String acknowledged(String json, String by) {
        ObjectNode o = Documents.readObject(json, "audit record");
        o.put("acknowledged", true).put("acknowledgedBy", by).put("acknowledgedAt", System.currentTimeMillis());
        return Documents.write(o);
    }
}
