package dev.ballast.replication;

import dev.ballast.rules.NodeAddress;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ballast.rules.Flavour;

import java.util.Optional;

/**
 * What one monitor saw of one server in one probe; published as JSON at {@code health/<node>/<monitor>}
 * ({@link #toJson()}, {@link #fromJson}).
 *
 * @param node         the server
 * @param reachable    connected and answered within the probe's connect and socket timeouts (a hung server is not)
 * @param error        why not reachable (empty when reachable)
 * @param serverId     {@code @@server_id}, 0 when unknown
 * @param readOnly     {@code @@read_only}
 * @param executed     what the server has in its binlog: MariaDB {@code @@gtid_binlog_pos}, MySQL {@code @@gtid_executed}
 * @param replication  its replica status, empty when it is not configured as a replica (or not reachable)
 * @param semiSyncMaster whether the semi-sync master side is on
 * @param probedAtMillis wall-clock time of the probe
 * @param version      {@code SELECT VERSION()}, empty when unknown (unreachable, or a record of a monitor older than
 *                     the field)
 */
public record NodeProbe(NodeAddress node, boolean reachable, String error, long serverId, boolean readOnly,
                        Position executed, Optional<ReplicaThreads> replication, boolean semiSyncMaster,
                        long probedAtMillis, String version) {

    public NodeProbe {
        version = version == null ? "" : version;
    }

    /** A probe without the server's version (unknown). */
    public NodeProbe(NodeAddress node, boolean reachable, String error, long serverId, boolean readOnly,
                     Position executed, Optional<ReplicaThreads> replication, boolean semiSyncMaster, long probedAtMillis) {
        this(node, reachable, error, serverId, readOnly, executed, replication, semiSyncMaster, probedAtMillis, "");
    }

    public static NodeProbe unreachable(NodeAddress node, String error, long atMillis) {
        return new NodeProbe(node, false, error, 0, false, null, Optional.empty(), false, atMillis, "");
    }

    /** The same probe with {@code replication} replaced (the monitor adds the silence it derived). */
    public NodeProbe withReplication(Optional<ReplicaThreads> threads) {
        return new NodeProbe(node, reachable, error, serverId, readOnly, executed, threads, semiSyncMaster, probedAtMillis,
                version);
    }

    /** The same probe with {@code version} replaced. */
    public NodeProbe withVersion(String text) {
        return new NodeProbe(node, reachable, error, serverId, readOnly, executed, replication, semiSyncMaster, probedAtMillis,
                text);
    }

    /** The server's version, empty when unknown or unreadable. */
    public Optional<ServerVersion> serverVersion() {
        return ServerVersion.parse(version);
    }

    /** Whether it is writable (not read_only): a master, or a node that should not be. */
    public boolean writable() {
        return reachable && !readOnly;
    }

    /** The health record a monitor publishes. */
    public String toJson() {
        ObjectNode o = Documents.object();
        o.put("node", node.toString()).put("reachable", reachable).put("error", error == null ? "" : error)
                .put("serverId", serverId).put("readOnly", readOnly)
                .put("executed", executed == null ? "" : executed.toString())
                .put("semiSyncMaster", semiSyncMaster).put("probedAt", probedAtMillis).put("version", version);
        replication.ifPresent(r -> o.putObject("replication")
                .put("master", r.master().toString()).put("io", r.io().name()).put("sqlRunning", r.sqlRunning())
                .put("received", r.received() == null ? "" : r.received().toString())
                .put("applied", r.applied() == null ? "" : r.applied().toString())
                .put("lastIoErrno", r.lastIoErrno()).put("lastIoError", r.lastIoError())
                .put("lastSqlErrno", r.lastSqlErrno()).put("lastSqlError", r.lastSqlError())
                .put("secondsBehind", r.secondsBehind()).put("heartbeatPeriodMs", r.heartbeatPeriodMs())
                .put("receiveMark", r.receiveMark()).put("silentMs", r.silentMs()));
        return Documents.write(o);
    }

    /**
     * Reads a health record; positions are read as {@code flavour}'s.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static NodeProbe fromJson(String json, Flavour flavour) {
        JsonNode o = Documents.readObject(json, "health record");
        String what = "health record";
        NodeAddress node = NodeAddress.parse(Documents.text(o, "node", what));
        what = "health record of " + node;
        long probedAt = Documents.integer(o, "probedAt", what);
        if (!Documents.bool(o, "reachable", what)) {
            return unreachable(node, Documents.text(o, "error", what), probedAt);
        }
        Optional<ReplicaThreads> replication = Optional.empty();
        JsonNode r = o.get("replication");
        if (r != null && !r.isNull()) {
            String rw = what + ", replication";
            replication = Optional.of(new ReplicaThreads(NodeAddress.parse(Documents.text(r, "master", rw)),
                    ReplicaThreads.IoState.valueOf(Documents.text(r, "io", rw)), Documents.bool(r, "sqlRunning", rw),
                    Position.parse(flavour, Documents.text(r, "received", rw)), Position.parse(flavour, Documents.text(r, "applied", rw)),
                    (int) Documents.integer(r, "lastIoErrno", rw), Documents.text(r, "lastIoError", rw), (int) Documents.integer(r, "lastSqlErrno", rw),
                    Documents.text(r, "lastSqlError", rw), Documents.integer(r, "secondsBehind", rw),
                    r.has("heartbeatPeriodMs") ? Documents.integer(r, "heartbeatPeriodMs", rw) : -1,
                    r.has("receiveMark") ? Documents.text(r, "receiveMark", rw) : "",
                    r.has("silentMs") ? Documents.integer(r, "silentMs", rw) : -1));
        }
        return new NodeProbe(node, true, "", Documents.integer(o, "serverId", what), Documents.bool(o, "readOnly", what),
                Position.parse(flavour, Documents.text(o, "executed", what)), replication, Documents.bool(o, "semiSyncMaster", what), probedAt,
                o.has("version") ? Documents.text(o, "version", what) : ""); // absent in records of monitors before issue 12
    }



}
