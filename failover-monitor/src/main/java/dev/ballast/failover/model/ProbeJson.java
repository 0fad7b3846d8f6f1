package dev.ballast.failover.model;

import dev.ballast.jdbc.health.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.Json;

import java.util.Optional;

/** A {@link NodeProbe} as the JSON a monitor publishes at {@code health/<node>/<monitor>}, and back. */
public final class ProbeJson {

    private ProbeJson() {
    }

    public static String toJson(NodeProbe p) {
        StringBuilder b = new StringBuilder("{\"node\":").append(Json.quote(p.node().toString()))
                .append(",\"reachable\":").append(p.reachable())
                .append(",\"error\":").append(Json.quote(p.error() == null ? "" : p.error()))
                .append(",\"serverId\":").append(p.serverId())
                .append(",\"readOnly\":").append(p.readOnly())
                .append(",\"executed\":").append(Json.quote(p.executed() == null ? "" : p.executed().toString()))
                .append(",\"semiSyncMaster\":").append(p.semiSyncMaster())
                .append(",\"probedAt\":").append(p.probedAtMillis());
        p.replication().ifPresent(r -> b.append(",\"replication\":{\"master\":").append(Json.quote(r.master().toString()))
                .append(",\"io\":").append(Json.quote(r.io().name()))
                .append(",\"sqlRunning\":").append(r.sqlRunning())
                .append(",\"received\":").append(Json.quote(r.received() == null ? "" : r.received().toString()))
                .append(",\"applied\":").append(Json.quote(r.applied() == null ? "" : r.applied().toString()))
                .append(",\"lastIoErrno\":").append(r.lastIoErrno())
                .append(",\"lastIoError\":").append(Json.quote(r.lastIoError()))
                .append(",\"lastSqlErrno\":").append(r.lastSqlErrno())
                .append(",\"lastSqlError\":").append(Json.quote(r.lastSqlError()))
                .append(",\"secondsBehind\":").append(r.secondsBehind())
                .append(",\"heartbeatPeriodMs\":").append(r.heartbeatPeriodMs())
                .append(",\"receiveMark\":").append(Json.quote(r.receiveMark()))
                .append(",\"silentMs\":").append(r.silentMs()).append('}'));
        return b.append('}').toString();
    }

    /** @throws IllegalArgumentException when the text is not such a record */
    public static NodeProbe fromJson(String json, Flavour flavour) {
        Json.Obj o = Json.parseObject(json);
        NodeAddress node = NodeAddress.parse(o.string("node"));
        boolean reachable = bool(o, "reachable");
        if (!reachable) {
            return NodeProbe.unreachable(node, o.string("error"), o.number("probedAt"));
        }
        Optional<ReplicaThreads> replication = Optional.empty();
        if (o.has("replication")) {
            Json.Obj r = (Json.Obj) o.fields().get("replication");
            replication = Optional.of(new ReplicaThreads(NodeAddress.parse(r.string("master")),
                    ReplicaThreads.IoState.valueOf(r.string("io")), bool(r, "sqlRunning"),
                    Position.parse(flavour, r.string("received")), Position.parse(flavour, r.string("applied")),
                    (int) r.number("lastIoErrno"), r.string("lastIoError"), (int) r.number("lastSqlErrno"),
                    r.string("lastSqlError"), r.number("secondsBehind"),
                    r.has("heartbeatPeriodMs") ? r.number("heartbeatPeriodMs") : -1,
                    r.has("receiveMark") ? r.string("receiveMark") : "",
                    r.has("silentMs") ? r.number("silentMs") : -1));
        }
        return new NodeProbe(node, true, "", o.number("serverId"), bool(o, "readOnly"),
                Position.parse(flavour, o.string("executed")), replication, bool(o, "semiSyncMaster"), o.number("probedAt"));
    }

    private static boolean bool(Json.Obj o, String key) {
        Object v = o.fields().get(key);
        if (!(v instanceof Boolean b)) {
            throw new IllegalArgumentException("'" + key + "' is not true/false: " + v);
        }
        return b;
    }
}
