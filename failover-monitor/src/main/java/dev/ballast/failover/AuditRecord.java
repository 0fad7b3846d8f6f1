package dev.ballast.failover;

import dev.ballast.topology.Json;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One entry of {@code recoveries/}: what kind of change, of which group, by which monitor or operator, why, the topology
 * before and after, every replica's verdict, the outcome and the time each step took. Written when the change starts and
 * rewritten after each step, so an interrupted one shows how far it got.
 */
public final class AuditRecord {

    private final Map<String, String> fields = new LinkedHashMap<>();
    private final Map<String, Long> timings = new LinkedHashMap<>();
    private final long startNanos = System.nanoTime();
    private long stepNanos = startNanos;

    public AuditRecord(String kind, String group, String by) {
        fields.put("kind", Json.quote(kind));
        fields.put("group", Json.quote(group));
        fields.put("by", Json.quote(by));
        fields.put("startedAt", Long.toString(System.currentTimeMillis()));
        fields.put("state", Json.quote("started"));
        fields.put("acknowledged", "false");
    }

    public AuditRecord text(String key, String value) {
        fields.put(key, Json.quote(value == null ? "" : value));
        return this;
    }

    /** A value that is already JSON (a topology). */
    public AuditRecord json(String key, String json) {
        fields.put(key, json);
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
        fields.put("state", Json.quote(state));
        if (!state.equals("started")) {
            fields.put("endedAt", Long.toString(System.currentTimeMillis()));
            timings.put("totalMs", (System.nanoTime() - startNanos) / 1_000_000L);
        }
        return this;
    }

    public String toJson() {
        StringBuilder b = new StringBuilder("{");
        fields.forEach((k, v) -> b.append(b.length() == 1 ? "" : ",").append(Json.quote(k)).append(':').append(v));
        b.append(",\"timings\":{");
        int i = 0;
        for (Map.Entry<String, Long> e : timings.entrySet()) {
            b.append(i++ == 0 ? "" : ",").append(Json.quote(e.getKey())).append(':').append(e.getValue());
        }
        return b.append("}}").toString();
    }
}
