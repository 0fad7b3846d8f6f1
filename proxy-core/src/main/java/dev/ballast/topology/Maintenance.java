package dev.ballast.topology;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ballast.replication.Documents;
import dev.ballast.rules.NodeAddress;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A maintenance mark: the node was drained on purpose (DESIGN.md "Topology store",
 * {@code /ballast/<cluster>/maintenance/<node>}). Data planes send it no new reads; the monitor does not treat it being
 * down as a problem of a replica (a drained master that dies is still failed over).
 *
 * @param node         the server, {@code host:port}
 * @param reason       why, for people ({@code "upgrade to 11.4.5, operation op-7"})
 * @param by           who drained it (an operation id, a user)
 * @param sinceMillis  wall-clock time the mark was set
 */
public record Maintenance(NodeAddress node, String reason, String by, long sinceMillis) {

    public Maintenance {
        reason = reason == null ? "" : reason;
        by = by == null ? "" : by;
    }

    public String toJson() {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("node", node.toString());
        o.put("reason", reason);
        o.put("by", by);
        o.put("since", sinceMillis);
        return Documents.write(o);
    }

    /** @throws IllegalArgumentException naming what is wrong */
    public static Maintenance fromJson(String json) {
        JsonNode o = Documents.readObject(json, "maintenance mark");
        String what = "maintenance mark";
        NodeAddress node = NodeAddress.parse(Documents.text(o, "node", what));
        what = "maintenance mark of " + node;
        return new Maintenance(node, o.has("reason") ? Documents.text(o, "reason", what) : "",
                o.has("by") ? Documents.text(o, "by", what) : "", Documents.integer(o, "since", what));
    }
}
