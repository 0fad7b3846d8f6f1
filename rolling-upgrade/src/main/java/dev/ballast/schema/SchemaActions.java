package dev.ballast.schema;

import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.Step;
import dev.ballast.upgrade.StepAction;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The step actions of a schema change: {@link SchemaPlanner#DDL} (one statement on one physical table, on its group's
 * current master) and {@link SchemaPlanner#SYNC} (every replica of the statement's groups has applied it; then the
 * schema version rises).
 */
public final class SchemaActions {

    private static final long OTHER_DDL_WAIT_MS = 3_600_000;
    private static final long REPLICA_WAIT_S = 3600;

    private final Servers servers;
    private final Function<String, GroupTopology> topology;
    private final Supplier<LagGate> gate;
    private final long maxLagMs;
    private final SchemaVersions versions;
    private final Consumer<String> notices;

    /**
     * @param topology the live topology of a group (ZooKeeper's, or the config's)
     * @param gate     the lag throttle, created on first use (null supplier result = no throttle)
     */
    SchemaActions(Servers servers, Function<String, GroupTopology> topology, Supplier<LagGate> gate, long maxLagMs,
                  SchemaVersions versions, Consumer<String> notices) {
        this.servers = servers;
        this.topology = topology;
        this.gate = gate;
        this.maxLagMs = maxLagMs;
        this.versions = versions;
        this.notices = notices;
    }

    /** The actions by name, for the {@link dev.ballast.upgrade.Runner}. */
    public Map<String, StepAction> byName() {
        return Map.of(SchemaPlanner.DDL, new Ddl(), SchemaPlanner.SYNC, new Sync(), SchemaPlanner.REPLICA_DDL,
                new ReplicaDdl());
    }

    /** The rolling strategy's switchover: the project's planned {@link dev.ballast.failover.Switchover}, once every
     * replica has the change and the master has not. */
    StepAction switchover(dev.ballast.failover.Switchover switchover) {
        return new StepAction() {
            @Override
            public boolean underGroupLock() {
                return false; // Switchover takes the group's lock itself
            }

            @Override
            public Check check(Operation op, Step step) throws Exception {
                GroupTopology t = topology.apply(step.group());
                if (t.phase() == GroupTopology.Phase.SWITCHING) {
                    return Check.notReady("group " + step.group() + " is switching over (phase SWITCHING); wait, or run"
                            + " 'ballast switchover --group " + step.group() + "' to finish or roll it back");
                }
                List<String> physical = Arrays.asList(step.action().parameter("physical").split(","));
                String expect = step.action().parameter("expect");
                if (!expect.isEmpty() && has(t.master(), physical, expect)) {
                    return Check.alreadyDone("the master " + t.master() + " already has " + expect);
                }
                for (NodeAddress r : t.replicas()) {
                    if (!expect.isEmpty() && !has(r, physical, expect)) {
                        return Check.notReady("replica " + r + " of " + step.group() + " lacks " + expect + "; a master"
                                + " with the new definition would replicate to a replica with the old one");
                    }
                }
                return Check.ready();
            }

            @Override
            public String act(Operation op, Step step) throws Exception {
                List<String> gaveWay = new java.util.ArrayList<>();
                dev.ballast.failover.Switchover.Result r = switchover.runGivingWay(step.group(), java.util.Optional.empty(),
                        dev.ballast.failover.Switchover.GIVE_WAY_ATTEMPTS, dev.ballast.failover.Switchover.GIVE_WAY_PAUSE_MS,
                        gaveWay);
                return "switched over from " + r.before().master() + " to " + r.after().master() + ", writes held "
                        + r.writePauseMs() + " ms" + (gaveWay.isEmpty() ? "" : " (before: " + String.join("; ", gaveWay)
                        + ", to transactions open on the master)")
                        + " [epoch " + r.after().epoch() + "]"; // the drain/undrain checks read the epoch
            }
        };
    }

    private boolean has(NodeAddress node, List<String> physical, String expect) throws SQLException {
        try (Connection c = servers.open(node, 60_000)) {
            for (String table : physical) {
                TableShape shape = TableShape.read(c, servers.config().database(), table);
                for (String effect : expect.split(";")) {
                    if (!shape.satisfies(effect)) {
                        return false;
                    }
                }
            }
            return true;
        }
    }

    /** The rolling strategy's change of one drained replica, with sql_log_bin=0: nothing reaches the binlog. */
    private final class ReplicaDdl implements StepAction {

        @Override
        public Check check(Operation op, Step step) throws Exception {
            GroupTopology t = topology.apply(step.group());
            NodeAddress node = NodeAddress.parse(step.node());
            if (node.equals(t.master())) {
                return Check.notReady(node + " is the master of " + step.group() + "; a change with sql_log_bin=0 on it"
                        + " would never reach its replicas. Run 'ballast switchover --group " + step.group() + "' first,"
                        + " or abort and plan again");
            }
            if (!t.replicas().contains(node)) {
                return Check.notReady(node + " is no longer a server of group " + step.group() + "; abort and plan again");
            }
            String physical = step.action().parameter("physical");
            String expect = step.action().parameter("expect");
            try (Connection c = servers.open(node, 0)) {
                awaitOtherDdl(c, node, physical);
                if (!expect.isEmpty() && has(node, List.of(physical), expect)) {
                    return Check.alreadyDone(expect + " already on " + physical + " at " + node);
                }
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = NodeAddress.parse(step.node());
            String physical = step.action().parameter("physical");
            try (Connection c = servers.open(node, 0); Statement s = c.createStatement()) {
                s.execute("SET SESSION sql_log_bin=0");
                long start = System.nanoTime();
                try {
                    s.execute(step.action().parameter("sql"));
                } catch (SQLException e) {
                    throw new SchemaException(servers.ctx(node) + " " + physical + ": " + e.getMessage(), e);
                }
                return "ran on " + node + " with sql_log_bin=0 in " + (System.nanoTime() - start) / 1_000_000 + " ms";
            }
        }
    }

    private final class Ddl implements StepAction {

        @Override
        public Check check(Operation op, Step step) throws Exception {
            NodeAddress master = topology.apply(step.group()).master();
            String physical = step.action().parameter("physical");
            try (Connection c = servers.open(master, 0)) {
                awaitOtherDdl(c, master, physical);
                String expect = step.action().parameter("expect");
                if (expect.isEmpty()) {
                    return Check.ready();
                }
                TableShape shape = TableShape.read(c, servers.config().database(), physical);
                List<String> effects = Arrays.asList(expect.split(";"));
                long held = effects.stream().filter(shape::satisfies).count();
                if (held == effects.size()) {
                    return Check.alreadyDone(String.join(", ", effects) + " already on " + physical + " at " + master);
                }
                if (held > 0 && !"+table".equals(expect) && !"-table".equals(expect)) {
                    return Check.notReady(physical + " at " + master + " has only part of " + expect + " (an ALTER is"
                            + " atomic, so something else changed it); compare with 'ballast schema diff' and fix by hand");
                }
                return Check.ready();
            }
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            GroupTopology t = topology.apply(step.group());
            String physical = step.action().parameter("physical");
            long waited = 0;
            if ("online".equals(step.action().parameter("strategy")) && maxLagMs > 0) {
                LagGate g = gate.get();
                waited = g.await(step.group(), "ALTER of " + physical);
            }
            try (Connection c = servers.open(t.master(), 0); Statement s = c.createStatement()) {
                if (Boolean.parseBoolean(step.action().parameters().getOrDefault("twoPhase", "false"))) {
                    s.execute("SET SESSION binlog_alter_two_phase=ON");
                }
                long start = System.nanoTime();
                try {
                    s.execute(step.action().parameter("sql"));
                } catch (SQLException e) {
                    throw new SchemaException(servers.ctx(t.master()) + " " + physical + ": " + e.getMessage(), e);
                }
                long ms = (System.nanoTime() - start) / 1_000_000;
                return "ran on " + t.master() + " in " + ms + " ms" + (waited > 0 ? " after waiting " + waited
                        + " ms for replica lag" : "") + (t.master().toString().equals(step.node()) ? ""
                        : " (the master changed since the plan: was " + step.node() + ")");
            }
        }

    }

    /** A DDL of the same table from another session (a killed CLI's, still running on the server) ends first. */
    private void awaitOtherDdl(Connection c, NodeAddress master, String physical) throws Exception {
        long deadline = System.currentTimeMillis() + OTHER_DDL_WAIT_MS;
        long lastNotice = 0;
        while (true) {
            List<String> running = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT ID, TIME, INFO FROM information_schema.PROCESSLIST"
                    + " WHERE ID <> CONNECTION_ID() AND COMMAND IN ('Query','Execute') AND INFO IS NOT NULL")) {
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        String info = rs.getString(3);
                        String head = info.stripLeading().toUpperCase(java.util.Locale.ROOT);
                        if ((head.startsWith("ALTER") || head.startsWith("CREATE") || head.startsWith("DROP"))
                                && info.contains("`" + physical + "`")) {
                            running.add("connection " + rs.getLong(1) + " for " + rs.getLong(2) + " s");
                        }
                    }
                }
            }
            if (running.isEmpty()) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new SchemaException(servers.ctx(master) + " another DDL of " + physical + " is still running ("
                        + running + "); wait for it or KILL it, then resume");
            }
            if (System.currentTimeMillis() - lastNotice > 1000) {
                lastNotice = System.currentTimeMillis();
                notices.accept(servers.ctx(master) + " waiting for a DDL of " + physical + " left by another session: "
                        + running);
            }
            Thread.sleep(200);
        }
    }

    private final class Sync implements StepAction {

        @Override
        public Check check(Operation op, Step step) {
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            long start = System.nanoTime();
            for (String group : step.action().parameter("groups").split(",")) {
                GroupTopology t = topology.apply(group);
                String pos;
                try (Connection c = servers.open(t.master(), 60_000); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT @@gtid_binlog_pos")) {
                    rs.next();
                    pos = rs.getString(1);
                }
                for (NodeAddress replica : t.replicas()) {
                    try (Connection c = servers.open(replica, 0);
                         PreparedStatement p = c.prepareStatement("SELECT MASTER_GTID_WAIT(?, ?)")) {
                        p.setString(1, pos);
                        p.setLong(2, REPLICA_WAIT_S);
                        try (ResultSet rs = p.executeQuery()) {
                            rs.next();
                            if (rs.getInt(1) != 0) {
                                throw new SchemaException(servers.ctx(replica) + " has not applied " + pos + " of its master "
                                        + t.master() + " within " + REPLICA_WAIT_S + " s; check its replication"
                                        + " ('ballast status'), then resume");
                            }
                        }
                    }
                }
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            String table = step.action().parameter("table");
            String planes = versions.bump(List.of(table));
            return "every replica applied it in " + ms + " ms; " + planes;
        }
    }
}
