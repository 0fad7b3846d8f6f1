package dev.ballast.upgrade.server;

import dev.ballast.failover.Switchover;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.Flavour;
import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ServerDialect;
import dev.ballast.replication.ServerVersion;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.UpgradeSettings;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.Step;
import dev.ballast.upgrade.StepAction;
import dev.ballast.upgrade.StepAction.Check;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@link StepAction}s of a rolling server upgrade ({@link UpgradePlan}'s action names), against the live servers
 * and the topology in ZooKeeper. Each re-reads what it needs before acting and can run twice.
 *
 * <p>A failover during the operation: every step's check compares the group's epoch with the last one the operation
 * saw (each step's output ends with {@code [epoch N]}); a higher one that this operation did not cause pauses the
 * operation, naming the new master. The operator's {@code resume} acknowledges it (the refusal is kept in the step's
 * error) and the remaining steps go on against the new topology, each re-checking its precondition.
 */
public final class ServerUpgradeActions {

    private static final Pattern EPOCH = Pattern.compile("\\[epoch (\\d+)]");
    private static final Pattern SEEN = Pattern.compile("\\[failover seen: epoch (\\d+)]");

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String by;
    private final UpgradeSettings settings;

    public ServerUpgradeActions(ClusterConfig config, TopologyStore store, String by) {
        this.config = config;
        this.store = store;
        this.by = by;
        this.settings = config.upgrade();
    }

    /** The actions by name, for a {@link dev.ballast.upgrade.Runner}. */
    public Map<String, StepAction> actions() {
        Map<String, StepAction> m = new LinkedHashMap<>();
        m.put(UpgradePlan.DRAIN, new Drain());
        m.put(UpgradePlan.STOP, new Stop());
        m.put(UpgradePlan.INSTALL, new Install());
        m.put(UpgradePlan.START, new Start());
        m.put(UpgradePlan.POST_START, new PostStart());
        m.put(UpgradePlan.GATE, new Gate());
        m.put(UpgradePlan.UNDRAIN, new Undrain());
        m.put(UpgradePlan.SWITCHOVER, new SwitchoverStep());
        return m;
    }

    // ---- shared checks ----

    private GroupTopology topology(Step step) {
        return store.read(step.group()).orElseThrow(() -> new IllegalStateException("group " + step.group()
                + " has no topology in ZooKeeper (" + store.topologyPath(step.group()) + ")")).topology();
    }

    /** The highest epoch this operation has seen for the step's group: in finished steps' outputs and the plan's. */
    static long expectedEpoch(Operation op, Step step) {
        long seen = -1;
        for (Step s : op.steps()) {
            if (!s.group().equals(step.group())) {
                continue;
            }
            String p = s.action().parameters().get("epoch");
            if (p != null) {
                seen = Math.max(seen, Long.parseLong(p));
            }
            if (s.finished()) {
                Matcher m = EPOCH.matcher(s.output());
                while (m.find()) {
                    seen = Math.max(seen, Long.parseLong(m.group(1)));
                }
            }
        }
        return seen;
    }

    /**
     * A refusal when the group's master changed since the operation last looked, not by this operation; empty when it
     * did not, or when the operator resumed after this very refusal (it is in the step's error).
     */
    static Optional<String> failoverSince(Operation op, Step step, GroupTopology now) {
        long expected = expectedEpoch(op, step);
        if (expected < 0 || now.epoch() <= expected) {
            return Optional.empty();
        }
        Matcher m = SEEN.matcher(step.error());
        while (m.find()) {
            if (Long.parseLong(m.group(1)) == now.epoch()) {
                return Optional.empty();
            }
        }
        return Optional.of("the master of group " + step.group() + " changed while this operation ran, and not by it: "
                + "epoch " + expected + " → " + now.epoch() + ", master now " + now.master() + " (a failover: see 'ballast"
                + " status' and its recoveries) [failover seen: epoch " + now.epoch() + "]. Check the group; 'ballast"
                + " upgrade resume " + op.id() + "' then continues against the new topology (every step re-checks), or"
                + " 'ballast upgrade abort " + op.id() + "' stops here");
    }

    private Optional<Check> common(Operation op, Step step, GroupTopology t) {
        Optional<String> failover = failoverSince(op, step, t);
        if (failover.isPresent()) {
            return Optional.of(Check.notReady(failover.get()));
        }
        if (t.phase() == GroupTopology.Phase.SWITCHING) {
            return Optional.of(Check.notReady("group " + step.group() + " is switching over (phase SWITCHING); wait, or run"
                    + " 'ballast switchover --group " + step.group() + "' to finish or roll it back"));
        }
        return Optional.empty();
    }

    private Optional<Check> notAReplica(Step step, GroupTopology t, NodeAddress node) {
        if (node.equals(t.master())) {
            return Optional.of(Check.notReady(node + " is the master of group " + step.group() + " (epoch " + t.epoch()
                    + "); it is upgraded only after a switchover moved the master away"));
        }
        if (!t.replicas().contains(node)) {
            return Optional.of(Check.notReady(node + " is no longer a server of group " + step.group() + " (" + t
                    + "); abort this operation and plan again"));
        }
        return Optional.empty();
    }

    private static String epoch(GroupTopology t) {
        return " [epoch " + t.epoch() + "]";
    }

    private ServerDialect dialect(Step step) {
        return ServerDialect.of(config.group(step.group()).flavour());
    }

    private NodeProbe probe(Step step, NodeAddress node) {
        try (NodeConnections nodes = new NodeConnections(config)) {
            return nodes.probeOnce(node, dialect(step));
        }
    }

    private static TargetVersion target(Step step) {
        return TargetVersion.parse(step.action().parameter("to"));
    }

    private static boolean runs(NodeProbe p, TargetVersion target) {
        return p.reachable() && p.serverVersion().map(target::reachedBy).orElse(false);
    }

    private static NodeAddress node(Step step) {
        return NodeAddress.parse(step.node());
    }

    /** Application statements running on {@code node} now (the cluster's data-plane user, not sleeping). */
    private int statementsInFlight(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()"
                     + " AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID') AND USER = '"
                     + config.credentials().user().replace("'", "''") + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ---- the actions ----

    /** Maintenance mark on, then reads in flight finish (bounded by {@code upgrade.drainTimeoutMs}). */
    final class Drain implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            return common(op, step, t).or(() -> notAReplica(step, t, node(step))).orElse(Check.ready());
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = node(step);
            store.drain(node, "upgrade " + op.id() + " to " + step.action().parameter("to"), by);
            long start = System.nanoTime();
            long deadline = start + settings.drainTimeoutMs() * 1_000_000L;
            int first = -1;
            int last = -1;
            int quiet = 0;
            try (NodeConnections nodes = new NodeConnections(config); Connection c = nodes.connect(node)) {
                // At least 500 ms: data planes see the mark within one ZooKeeper event, a statement routed just before
                // it starts a moment later.
                long settle = start + 500_000_000L;
                while (true) {
                    last = statementsInFlight(c);
                    first = first < 0 ? last : first;
                    quiet = last == 0 ? quiet + 1 : 0;
                    long now = System.nanoTime();
                    if (quiet >= 2 && now >= settle || now >= deadline) {
                        break;
                    }
                    Thread.sleep(100);
                }
            } catch (SQLException e) {
                return "drained; could not count statements in flight (" + e.getMessage() + ")" + epoch(topology(step));
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            return "drained; application statements in flight: " + first + " at the mark, " + last + " after " + ms + " ms"
                    + (last > 0 ? " (upgrade.drainTimeoutMs=" + settings.drainTimeoutMs() + " reached)" : "")
                    + epoch(topology(step));
        }
    }

    /** Replication stopped, then the operator's stop command; the server must stop answering. */
    final class Stop implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            NodeAddress node = node(step);
            Optional<Check> c = common(op, step, t).or(() -> notAReplica(step, t, node));
            if (c.isPresent()) {
                return c.get();
            }
            if (!store.drained().containsKey(node)) {
                return Check.notReady(node + " has no maintenance mark (someone undrained it?); drain it with 'ballast"
                        + " drain --node " + node + "' and resume");
            }
            NodeProbe p = probe(step, node);
            if (!p.reachable()) {
                return Check.alreadyDone(node + " does not answer: it is stopped" + epoch(t));
            }
            String from = step.action().parameter("from");
            if (!p.version().equals(from)) {
                Optional<ServerVersion> v = p.serverVersion();
                TargetVersion to = targetOf(op, step);
                if (v.isPresent() && to.reachedBy(v.get())) {
                    return Check.alreadyDone(node + " already runs " + p.version() + epoch(t));
                }
                return Check.notReady(node + " runs " + p.version() + ", but the plan was made for " + from + ": something"
                        + " else changed it; abort this operation and plan again");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = node(step);
            ServerDialect d = dialect(step);
            try (NodeConnections nodes = new NodeConnections(config); Connection c = nodes.connect(node);
                 Statement s = c.createStatement()) {
                s.execute(d.flavour() == Flavour.MARIADB ? "STOP ALL SLAVES" : "STOP REPLICA");
            } catch (SQLException e) {
                // not fatal: the stop command stops the server anyway; the replica resumes from its GTID position
            }
            String command = step.action().parameter("command");
            if (command.isEmpty()) {
                throw new IllegalStateException("upgrade.stopCommand is not set; set it in the config and resume");
            }
            Shell.Outcome o = Shell.run("upgrade.stopCommand", command, node, "", settings.commandTimeoutMs());
            long start = System.nanoTime();
            long deadline = start + settings.stopTimeoutMs() * 1_000_000L;
            while (probe(step, node).reachable()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(node + " still answers " + settings.stopTimeoutMs() + " ms after"
                            + " upgrade.stopCommand returned; check the command (it must stop this server) and resume");
                }
                Thread.sleep(200);
            }
            return "stopped (" + (System.nanoTime() - start) / 1_000_000 + " ms after the command)"
                    + (o.tail().isEmpty() ? "" : "; output: " + o.tail()) + epoch(topology(step));
        }
    }

    /** The operator's install command, on a stopped server. */
    final class Install implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            NodeAddress node = node(step);
            Optional<Check> c = common(op, step, t).or(() -> notAReplica(step, t, node));
            if (c.isPresent()) {
                return c.get();
            }
            TargetVersion to = targetOf(op, step);
            NodeProbe p = probe(step, node);
            if (runs(p, to)) {
                return Check.alreadyDone(node + " already runs " + p.version() + epoch(t));
            }
            if (p.reachable()) {
                return Check.notReady(node + " answers (runs " + p.version() + "): it must be stopped before the install;"
                        + " stop it (upgrade.stopCommand) and resume");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            String command = step.action().parameter("command");
            if (command.isEmpty()) {
                throw new IllegalStateException("upgrade.installCommand is not set; set it in the config and resume");
            }
            Shell.Outcome o = Shell.run("upgrade.installCommand", command, node(step), targetOf(op, step).text(),
                    settings.commandTimeoutMs());
            return "installed" + (o.tail().isEmpty() ? "" : "; output: " + o.tail()) + epoch(topology(step));
        }
    }

    /** The operator's start command; the server must answer, run the target and replicate again. */
    final class Start implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            NodeAddress node = node(step);
            Optional<Check> c = common(op, step, t).or(() -> notAReplica(step, t, node));
            if (c.isPresent()) {
                return c.get();
            }
            TargetVersion to = target(step);
            NodeProbe p = probe(step, node);
            if (runs(p, to)) {
                return Check.alreadyDone(node + " runs " + p.version() + epoch(t));
            }
            if (p.reachable()) {
                return Check.notReady(node + " runs " + p.version() + ", not " + to + ": upgrade.installCommand did not put "
                        + to + " in place; stop the server, install " + to + " by hand (or fix the command), and resume");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = node(step);
            TargetVersion to = target(step);
            String command = step.action().parameter("command");
            if (command.isEmpty()) {
                throw new IllegalStateException("upgrade.startCommand is not set; set it in the config and resume");
            }
            Shell.Outcome o = Shell.run("upgrade.startCommand", command, node, to.text(), settings.commandTimeoutMs());
            long start = System.nanoTime();
            long deadline = start + settings.startTimeoutMs() * 1_000_000L;
            NodeProbe p = probe(step, node);
            while (!p.reachable()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(node + " does not accept connections " + settings.startTimeoutMs()
                            + " ms after upgrade.startCommand (last error: " + p.error() + "); look at its error log, start"
                            + " it by hand and resume");
                }
                Thread.sleep(200);
                p = probe(step, node);
            }
            long upMs = (System.nanoTime() - start) / 1_000_000;
            if (!runs(p, to)) {
                throw new IllegalStateException(node + " started but runs " + p.version() + ", not " + to + "; check"
                        + " upgrade.installCommand, stop the server, install " + to + ", and resume");
            }
            return "started: answers after " + upMs + " ms, runs " + p.version() + (o.tail().isEmpty() ? ""
                    : "; output: " + o.tail()) + epoch(topology(step));
        }
    }

    /** {@code upgrade.postStartCommand}, then {@code upgrade.postStartSql} with {@code sql_log_bin=0}. */
    final class PostStart implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            NodeAddress node = node(step);
            Optional<Check> c = common(op, step, t).or(() -> notAReplica(step, t, node));
            if (c.isPresent()) {
                return c.get();
            }
            NodeProbe p = probe(step, node);
            if (!runs(p, target(step))) {
                return Check.notReady(node + (p.reachable() ? " runs " + p.version() : " does not answer (" + p.error() + ")")
                        + "; it must run " + target(step) + " (start it and resume)");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = node(step);
            StringBuilder out = new StringBuilder();
            String command = step.action().parameters().getOrDefault("command", "");
            if (!command.isEmpty()) {
                Shell.Outcome o = Shell.run("upgrade.postStartCommand", command, node, target(step).text(),
                        settings.commandTimeoutMs());
                out.append("ran upgrade.postStartCommand").append(o.tail().isEmpty() ? "" : " (" + o.tail() + ")");
            }
            if (!settings.postStartSql().isEmpty()) {
                try (NodeConnections nodes = new NodeConnections(config); Connection c = nodes.connect(node);
                     Statement s = c.createStatement()) {
                    c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, settings.commandTimeoutMs()));
                    s.execute("SET SESSION sql_log_bin = 0");
                    int i = 0;
                    for (String sql : settings.postStartSql()) {
                        try {
                            s.execute(sql);
                        } catch (SQLException e) {
                            throw new IllegalStateException("upgrade.postStartSql[" + i + "] failed on " + node + ": "
                                    + e.getMessage() + " (" + sql + ")", e);
                        }
                        i++;
                    }
                }
                out.append(out.length() == 0 ? "" : "; ").append("ran ").append(settings.postStartSql().size())
                        .append(" statement(s) of upgrade.postStartSql");
            }
            return out + epoch(topology(step));
        }
    }

    /** Runs the target, replicates from the group's master with both threads, within {@code maxReplicaLagMs}. */
    final class Gate implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            return common(op, step, t).or(() -> notAReplica(step, t, node(step))).orElse(Check.ready());
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            NodeAddress node = node(step);
            TargetVersion to = target(step);
            ServerDialect d = dialect(step);
            long maxLagMs = config.readPolicy().maxReplicaLagMs();
            long start = System.nanoTime();
            long deadline = start + settings.catchUpTimeoutMs() * 1_000_000L;
            long startEpoch = topology(step).epoch();
            boolean restarted = false;
            String last = "";
            try (NodeConnections nodes = new NodeConnections(config)) {
                while (System.nanoTime() < deadline) {
                    GroupTopology t = topology(step);
                    if (t.epoch() != startEpoch) {
                        Optional<String> f = failoverSince(op, step, t);
                        throw new IllegalStateException(f.orElse("the master of group " + step.group() + " changed during"
                                + " the gate (epoch " + startEpoch + " → " + t.epoch() + "); resume to check again"));
                    }
                    NodeProbe p = nodes.probeOnce(node, d);
                    if (!runs(p, to)) {
                        last = p.reachable() ? "runs " + p.version() + ", not " + to : "does not answer (" + p.error() + ")";
                    } else if (p.replication().isEmpty()) {
                        last = "is not configured as a replica";
                    } else {
                        ReplicaThreads r = p.replication().get();
                        if (!r.master().equals(t.master())) {
                            throw new IllegalStateException(node + " replicates from " + r.master() + " but the master of "
                                    + step.group() + " is " + t.master() + " (a failover while it was down?); point it at "
                                    + t.master() + " and resume");
                        }
                        if (r.io() != ReplicaThreads.IoState.YES || !r.sqlRunning()) {
                            String err = !r.lastSqlError().isEmpty() ? r.lastSqlError() : r.lastIoError();
                            if (!restarted && err.isEmpty() && r.io() == ReplicaThreads.IoState.NO && !r.sqlRunning()) {
                                try (Connection c = nodes.connect(node)) {
                                    d.startReplication(c); // a server started with skip-slave-start
                                }
                                restarted = true;
                            }
                            last = "replication io " + r.io() + ", sql " + (r.sqlRunning() ? "running" : "stopped")
                                    + (err.isEmpty() ? "" : " (" + err + ")");
                        } else if (caughtUp(nodes, d, t.master(), node, maxLagMs)) {
                            return "runs " + p.version() + ", replicates from " + t.master() + " within " + maxLagMs
                                    + " ms, after " + (System.nanoTime() - start) / 1_000_000 + " ms" + epoch(t);
                        } else {
                            last = "more than readPolicy.maxReplicaLagMs=" + maxLagMs + " ms behind " + t.master();
                        }
                    }
                    Thread.sleep(200);
                }
            }
            throw new IllegalStateException(node + " did not pass its gate within upgrade.catchUpTimeoutMs="
                    + settings.catchUpTimeoutMs() + " ms: it " + last + "; fix it (see its error log and 'ballast status')"
                    + " and resume");
        }

        /** True when the replica applies what the master has now within {@code maxLagMs}. */
        private boolean caughtUp(NodeConnections nodes, ServerDialect d, NodeAddress master, NodeAddress replica,
                                 long maxLagMs) throws SQLException {
            String position;
            try (Connection m = nodes.connect(master); Statement s = m.createStatement();
                 ResultSet rs = s.executeQuery(d.masterPositionQuery())) {
                rs.next();
                position = rs.getString(1);
            }
            try (Connection r = nodes.connect(replica)) {
                r.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, maxLagMs + 5_000));
                return d.awaitApplied(r, position == null ? "" : position, Math.max(1, maxLagMs));
            }
        }
    }

    /** Maintenance mark off: data planes send it reads again. */
    final class Undrain implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            if (!store.drained().containsKey(node(step))) {
                return Check.alreadyDone(step.node() + " has no maintenance mark" + epoch(topology(step)));
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) {
            store.undrain(node(step));
            return "undrained: data planes send it reads again" + epoch(topology(step));
        }
    }

    /** A planned switchover to an upgraded replica, once every replica runs the target. */
    final class SwitchoverStep implements StepAction {
        @Override
        public boolean underGroupLock() {
            return false; // Switchover takes the group's lock itself
        }

        @Override
        public Check check(Operation op, Step step) {
            GroupTopology t = topology(step);
            TargetVersion to = target(step);
            NodeProbe master = probe(step, t.master());
            if (runs(master, to)) {
                return Check.alreadyDone("the master " + t.master() + " runs " + master.version() + epoch(t));
            }
            Optional<Check> c = common(op, step, t);
            if (c.isPresent()) {
                return c.get();
            }
            StringBuilder behind = new StringBuilder();
            for (NodeAddress r : t.replicas()) {
                NodeProbe p = probe(step, r);
                if (!runs(p, to)) {
                    behind.append(behind.length() == 0 ? "" : ", ").append(r).append(p.reachable() ? " runs "
                            + p.version() : " does not answer");
                }
            }
            if (behind.length() > 0) {
                return Check.notReady("not every replica of " + step.group() + " runs " + to + " (" + behind + "); a"
                        + " newer master would replicate to an older replica, which is not supported");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            java.util.List<String> gaveWay = new java.util.ArrayList<>();
            Switchover.Result r = new Switchover(config, store, by).runGivingWay(step.group(), Optional.empty(),
                    Switchover.GIVE_WAY_ATTEMPTS, Switchover.GIVE_WAY_PAUSE_MS, gaveWay);
            return "switched over from " + r.before().master() + " to " + r.after().master() + ", writes held "
                    + r.writePauseMs() + " ms" + (gaveWay.isEmpty() ? "" : " (before: " + String.join("; ", gaveWay)
                    + ", to transactions open on the master)") + epoch(r.after());
        }
    }

    private static TargetVersion targetOf(Operation op, Step step) {
        for (Step s : op.steps()) {
            if (s.node().equals(step.node()) && s.group().equals(step.group()) && s.action().parameters().containsKey("to")) {
                return TargetVersion.parse(s.action().parameter("to"));
            }
        }
        throw new IllegalStateException("operation " + op.id() + " has no target version for " + step.node());
    }
}
