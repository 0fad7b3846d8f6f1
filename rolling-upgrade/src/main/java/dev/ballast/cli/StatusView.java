package dev.ballast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code ballast status} shows, computed by pure functions from what ZooKeeper holds: each group's topology, every
 * monitor's last probe of every server, the audit log. The tree ({@link StatusTree}) and {@code --json} print this one
 * value, so both carry the same facts.
 *
 * <p>Lag is a snapshot of the monitors' last probes, not a measurement over time: 0 when the replica had applied
 * everything the master had written at the same monitor's probe of the master (both within one probe round, so it can
 * lag by up to {@code failover.probeIntervalMs}); otherwise the replica's own {@code Seconds_Behind_Master} × 1000,
 * which has whole-second granularity (a replica behind by less than a second shows 0 ms with {@code caughtUp=false});
 * null when neither is known (unreachable, not replicating, or the master not probed).
 */
record StatusView(String cluster, String zookeeper, long generatedAt, List<String> monitors, List<GroupView> groups,
                  List<RecoveryView> recoveries, List<MaintenanceView> maintenance, List<OperationView> operations,
                  List<ReplicaSetView> replicaSets, long schemaVersion, List<DataPlaneView> dataPlanes) {

    /** A view without the schema version and the data planes. */
    StatusView(String cluster, String zookeeper, long generatedAt, List<String> monitors, List<GroupView> groups,
               List<RecoveryView> recoveries, List<MaintenanceView> maintenance, List<OperationView> operations,
               List<ReplicaSetView> replicaSets) {
        this(cluster, zookeeper, generatedAt, monitors, groups, recoveries, maintenance, operations, replicaSets, 0, List.of());
    }

    /** A running data plane registered under {@code planes/}: which process, and the schema version it has loaded. */
    record DataPlaneView(String name, String process, String main, long schemaVersion, String failure) {
    }

    /** A view without MongoDB replica sets. */
    StatusView(String cluster, String zookeeper, long generatedAt, List<String> monitors, List<GroupView> groups,
               List<RecoveryView> recoveries, List<MaintenanceView> maintenance, List<OperationView> operations) {
        this(cluster, zookeeper, generatedAt, monitors, groups, recoveries, maintenance, operations, List.of());
    }

    /** One MongoDB replica set as the monitors' watchers last saw it (records {@code kind: mongo} in health/). */
    record ReplicaSetView(String replicaSet, Long term, String primary, List<MemberView> members) {
    }

    /**
     * One member: state in lower case ({@code primary}, {@code secondary}, {@code arbiter}, {@code other},
     * {@code down}, or {@code no-probe}), lag behind the primary, ping, config version and binary version from the
     * newest record; {@code disputed} when the monitors' states differ.
     */
    record MemberView(String address, String state, Long lagMs, Long pingMs, Integer configVersion, String version,
                      String detail, boolean disputed, Map<String, String> monitors) {
    }

    /** A replica set's view from each monitor's health record of each member (monitor id to JSON). */
    static ReplicaSetView replicaSet(String name, List<String> members, Map<String, Map<String, String>> records) {
        List<MemberView> out = new ArrayList<>();
        Long term = null;
        String primary = null;
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String m : members) {
            Map<String, String> byMonitor = records.getOrDefault(m, Map.of());
            Map<String, String> states = new java.util.TreeMap<>();
            JsonNode newest = null;
            for (Map.Entry<String, String> e : byMonitor.entrySet()) {
                try {
                    JsonNode r = json.readTree(e.getValue());
                    states.put(e.getKey(), r.path("state").asText("?").toLowerCase(java.util.Locale.ROOT));
                    if (newest == null || r.path("at").asLong() > newest.path("at").asLong()) {
                        newest = r;
                    }
                } catch (Exception unreadable) {
                    states.put(e.getKey(), "unreadable");
                }
            }
            if (newest == null) {
                out.add(new MemberView(m, "no-probe", null, null, null, null,
                        "no monitor has published a record of it: is a monitor running?", false, states));
                continue;
            }
            String state = newest.path("state").asText("?").toLowerCase(java.util.Locale.ROOT);
            if (state.equals("primary")) {
                primary = m;
            }
            if (newest.path("term").asLong(-1) >= 0) {
                term = term == null ? newest.path("term").asLong() : Math.max(term, newest.path("term").asLong());
            }
            boolean disputed = states.values().stream().distinct().count() > 1;
            long lag = newest.path("lagMs").asLong(-1);
            long ping = newest.path("pingMs").asLong(-1);
            int config = newest.path("configVersion").asInt(-1);
            StringBuilder detail = new StringBuilder(newest.path("error").asText(""));
            if (newest.path("hidden").asBoolean()) {
                detail.append(detail.isEmpty() ? "" : "; ").append("hidden");
            }
            if (newest.path("priority").asDouble(1) == 0 && !newest.path("arbiter").asBoolean()) {
                detail.append(detail.isEmpty() ? "" : "; ").append("priority 0");
            }
            out.add(new MemberView(m, disputed ? "disputed" : state, lag < 0 ? null : lag, ping < 0 ? null : ping,
                    config < 0 ? null : config, newest.path("version").asText("").isEmpty() ? null
                    : newest.path("version").asText(), detail.toString(), disputed, states));
        }
        return new ReplicaSetView(name, term, primary, out);
    }


    StatusView(String cluster, String zookeeper, long generatedAt, List<String> monitors, List<GroupView> groups,
               List<RecoveryView> recoveries) {
        this(cluster, zookeeper, generatedAt, monitors, groups, recoveries, List.of(), List.of(), List.of());
    }

    /** A node under a maintenance mark ({@code ballast drain}, or an upgrade step): data planes send it no reads. */
    record MaintenanceView(String node, String reason, String by, long since) {
    }

    /** An operation holding a group ({@code active-operations/<group>}). */
    record OperationView(String group, String id, String kind, String state, String reason) {
    }

    /** One group: its topology in ZooKeeper (epoch null when none was written yet) and its servers, master first. */
    record GroupView(String group, Long epoch, String phase, String master, List<NodeView> nodes) {
    }

    /**
     * One server as the newest probe saw it, with every monitor's view; {@code disputed} when the monitors' states
     * differ (then each monitor's view should be read).
     */
    record NodeView(String address, String role, String state, String detail, Long lagMs, Boolean caughtUp,
                    String gtid, String received, boolean disputed, Map<String, ProbeView> monitors) {
    }

    /** One monitor's view of one server. {@code gtid}: executed (a master) or applied (a replica). */
    record ProbeView(String state, String detail, Long lagMs, Boolean caughtUp, String gtid, String received,
                     long probedAt) {
    }

    /** One audit record of {@code recoveries/}. */
    record RecoveryView(String id, String kind, String group, String by, Long startedAt, String state,
                        String beforeMaster, String afterMaster, String candidate, String node, Boolean acknowledged,
                        String reason) {
    }

    static final String MASTER = "master";
    static final String REPLICA = "replica";
    /** In the config's group but not in the topology: an old master waiting for {@code ballast rejoin}. */
    static final String OUTSIDE = "outside";

    /**
     * One group's view.
     *
     * @param configured the group's servers in the config (those missing from the topology are shown as outside)
     * @param probes     per server, each monitor's last probe
     * @param maxLagMs   above this a replicating replica is "lagging" ({@code readPolicy.maxReplicaLagMs}: the data
     *                   plane sends it no reads)
     */
    static GroupView group(String group, Optional<GroupTopology> topology, List<NodeAddress> configured,
                           Map<NodeAddress, Map<String, NodeProbe>> probes, long maxLagMs) {
        List<NodeView> nodes = new ArrayList<>();
        if (topology.isEmpty()) {
            for (NodeAddress n : configured) {
                nodes.add(node(n, OUTSIDE, null, probes, maxLagMs));
            }
            return new GroupView(group, null, null, null, nodes);
        }
        GroupTopology t = topology.get();
        nodes.add(node(t.master(), MASTER, t.master(), probes, maxLagMs));
        for (NodeAddress r : t.replicas()) {
            nodes.add(node(r, REPLICA, t.master(), probes, maxLagMs));
        }
        for (NodeAddress n : configured) {
            if (!t.servers().contains(n)) {
                nodes.add(node(n, OUTSIDE, t.master(), probes, maxLagMs));
            }
        }
        return new GroupView(group, t.epoch(), t.phase().name(), t.master().toString(), nodes);
    }

    private static NodeView node(NodeAddress n, String role, NodeAddress master,
                                 Map<NodeAddress, Map<String, NodeProbe>> probes, long maxLagMs) {
        Map<String, ProbeView> views = new LinkedHashMap<>();
        Map<String, NodeProbe> mine = probes.getOrDefault(n, Map.of());
        for (Map.Entry<String, NodeProbe> e : mine.entrySet()) {
            NodeProbe masterProbe = master == null ? null : probes.getOrDefault(master, Map.of()).get(e.getKey());
            views.put(e.getKey(), judge(role, e.getValue(), master, masterProbe, maxLagMs));
        }
        if (views.isEmpty()) {
            return new NodeView(n.toString(), role, "no-probe", "no monitor has published a probe of it: is a monitor running?",
                    null, null, null, null, false, views);
        }
        ProbeView newest = views.values().stream().max(java.util.Comparator.comparingLong(ProbeView::probedAt)).orElseThrow();
        boolean disputed = views.values().stream().map(ProbeView::state).distinct().count() > 1;
        return new NodeView(n.toString(), role, disputed ? "disputed" : newest.state(), newest.detail(), newest.lagMs(),
                newest.caughtUp(), newest.gtid(), newest.received(), disputed, views);
    }

    /** One monitor's probe of one server, judged against its role (and that monitor's probe of the master). */
    static ProbeView judge(String role, NodeProbe p, NodeAddress master, NodeProbe masterProbe, long maxLagMs) {
        if (!p.reachable()) {
            return new ProbeView("unreachable", p.error(), null, null, null, null, p.probedAtMillis());
        }
        String executed = text(p.executed());
        if (role.equals(MASTER)) {
            if (p.readOnly()) {
                return new ProbeView("read-only", "the master is read_only: writes fail (a switchover under way, or fenced)",
                        null, null, executed, null, p.probedAtMillis());
            }
            String detail = p.replication().map(r -> "also configured as a replica of " + r.master()).orElse("");
            return new ProbeView("writable", detail, null, null, executed, null, p.probedAtMillis());
        }
        Optional<ReplicaThreads> rep = p.replication();
        if (rep.isEmpty()) {
            String state = p.readOnly() ? "not-replicating" : "writable";
            String detail = p.readOnly() ? "no replication configured" : "writable and not replicating: fenced next by the "
                    + "monitor; bring it back with ballast rejoin";
            return new ProbeView(state, detail, null, null, executed, null, p.probedAtMillis());
        }
        ReplicaThreads r = rep.get();
        String applied = text(r.applied());
        String received = text(r.received());
        String notWritable = p.readOnly() ? "" : "; WRITABLE although a replica";
        Boolean caughtUp = null;
        Long lagMs = null;
        if (masterProbe != null && masterProbe.reachable() && masterProbe.executed() != null && r.applied() != null
                && masterProbe.executed().flavour() == r.applied().flavour()) {
            caughtUp = r.applied().covers(masterProbe.executed());
            if (caughtUp) {
                lagMs = 0L;
            }
        }
        if (lagMs == null && r.secondsBehind() >= 0) {
            lagMs = r.secondsBehind() * 1000L;
        }
        if (r.io() == ReplicaThreads.IoState.NO || !r.sqlRunning()) {
            List<String> why = new ArrayList<>();
            if (r.io() == ReplicaThreads.IoState.NO) {
                why.add("IO thread stopped" + (r.lastIoErrno() != 0 ? " (error " + r.lastIoErrno() + ": " + r.lastIoError() + ")" : ""));
            }
            if (!r.sqlRunning()) {
                why.add("SQL thread stopped" + (r.lastSqlErrno() != 0 ? " (error " + r.lastSqlErrno() + ": " + r.lastSqlError() + ")" : ""));
            }
            return new ProbeView("stopped", String.join("; ", why) + notWritable, lagMs, caughtUp, applied, received,
                    p.probedAtMillis());
        }
        if (r.io() == ReplicaThreads.IoState.CONNECTING) {
            return new ProbeView("connecting", "cannot connect to " + r.master()
                    + (r.lastIoErrno() != 0 ? " (error " + r.lastIoErrno() + ": " + r.lastIoError() + ")" : "") + notWritable,
                    lagMs, caughtUp, applied, received, p.probedAtMillis());
        }
        if (master != null && !r.master().equals(master)) {
            return new ProbeView("wrong-master", "replicates from " + r.master() + ", the topology's master is " + master
                    + notWritable, lagMs, caughtUp, applied, received, p.probedAtMillis());
        }
        boolean lagging = lagMs != null && lagMs > maxLagMs;
        return new ProbeView(lagging ? "lagging" : "replicating",
                (lagging ? "lag above readPolicy.maxReplicaLagMs=" + maxLagMs + " ms" : "") + notWritable,
                lagMs, caughtUp, applied, received, p.probedAtMillis());
    }

    private static String text(Object position) {
        return position == null ? null : position.toString();
    }

    /** The audit records, parsed with Jackson; one that does not parse is shown as such, not skipped. */
    static List<RecoveryView> recoveries(List<String[]> records, int last) {
        ObjectMapper json = new ObjectMapper();
        List<RecoveryView> out = new ArrayList<>();
        for (String[] r : records.subList(Math.max(0, records.size() - last), records.size())) {
            String id = r[0].substring(r[0].lastIndexOf('/') + 1);
            JsonNode o;
            try {
                o = json.readTree(r[1]);
            } catch (java.io.IOException e) {
                out.add(new RecoveryView(id, "unreadable", null, null, null, null, null, null, null, null, null,
                        "not JSON: " + e.getMessage().lines().findFirst().orElse("")));
                continue;
            }
            out.add(new RecoveryView(id, o.path("kind").asText(null), o.path("group").asText(null),
                    o.path("by").asText(null), o.hasNonNull("startedAt") ? o.get("startedAt").asLong() : null,
                    o.path("state").asText(null), master(o.get("before")), master(o.get("after")),
                    o.path("candidate").asText(null), o.path("node").asText(null), o.hasNonNull("acknowledged") ? o.get("acknowledged").asBoolean() : null,
                    firstText(o, "reason", "problem", "error")));
        }
        return out;
    }

    private static String master(JsonNode topology) {
        if (topology == null) {
            return null;
        }
        if (topology.isTextual()) { // a topology written as a JSON string rather than an object
            try {
                topology = new ObjectMapper().readTree(topology.asText());
            } catch (java.io.IOException e) {
                return null;
            }
        }
        // a MongoDB record (mongo-switchover, mongo-upgrade) names the replica set's primary
        return topology.path("master").asText(topology.path("primary").asText(null));
    }

    private static String firstText(JsonNode o, String... keys) {
        for (String k : keys) {
            if (o.hasNonNull(k) && !o.get(k).asText().isEmpty()) {
                return o.get(k).asText();
            }
        }
        return null;
    }
}
