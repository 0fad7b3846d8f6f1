package dev.ballast.failover;

import dev.ballast.failover.analysis.Planner;
import dev.ballast.failover.model.Plan;
import dev.ballast.failover.model.Verdict;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A planned change of master (DESIGN.md "Failover", step 5). Under the group's lock: publish phase SWITCHING (clients hold
 * new writes), set the master read_only (this waits for transactions in flight), wait until the candidate has applied
 * everything the master wrote, promote it, make the old master and the other replicas its replicas, publish the next
 * epoch. If anything fails before the promotion, the old master is made writable again and the phase set back: nothing
 * moved. Runs in whatever process calls it (the {@code ballast} CLI), not only in the monitor.
 *
 * <p>The candidate is the {@link Planner}'s ({@link Planner#switchover}): the failover's rules ({@code failover.promotion},
 * no errant transactions, the most advanced), and a replica of the live master with both threads running. Before
 * anything changes it must also apply what the master has now within {@code failover.applyTimeoutMs}. A {@code --to}
 * node that fails any of this, or no usable replica at all, is refused with a {@link RefusedException} naming the
 * reason and the way out: no SWITCHING phase is published and the master is not touched.
 */
public final class Switchover {

    private static final Logger log = LoggerFactory.getLogger(Switchover.class);

    /** More than InnoDB's 100 ms during which reads of INNODB_TRX get the same cached snapshot. */
    static final long TRX_SNAPSHOT_IDLE_MS = 110;

    /** How often an operation's switchover step runs a switchover that gave way to open transactions, and the pause. */
    public static final int GIVE_WAY_ATTEMPTS = 5;
    public static final long GIVE_WAY_PAUSE_MS = 3_000;

    /** How a switchover ended, with the time clients' writes were held (from SWITCHING to the new epoch). */
    public record Result(GroupTopology before, GroupTopology after, long writePauseMs, String auditPath) {
    }

    private final ClusterConfig config;
    private final TopologyStore store;
    private final String by;

    public Switchover(ClusterConfig config, TopologyStore store, String by) {
        this(config, store, by, null);
    }

    /**
     * A switchover that records its outcome and duration in {@code metrics} (may be null). Monitors count switchovers
     * from the audit log: do not pass the metrics of a monitor running in the same process, or it counts twice.
     */
    public Switchover(ClusterConfig config, TopologyStore store, String by, MonitorMetrics metrics) {
        this.config = config;
        this.store = store;
        this.by = by;
        this.metrics = metrics;
    }

    private final MonitorMetrics metrics;

    /**
     * Moves the master of {@code group} to {@code to}, or to the most advanced replica that may be promoted.
     *
     * @throws SwitchoverException naming the step that failed and the server; the old master serves again in that case
     *                             unless the message says otherwise
     */
    public Result run(String group, Optional<NodeAddress> to) throws SwitchoverException {
        String ctx = "[cluster=" + config.name() + " group=" + group + "]";
        InterProcessMutex lock = new InterProcessMutex(store.client(), store.lockPath(group));
        try {
            if (!lock.acquire(10, TimeUnit.SECONDS)) {
                throw new SwitchoverException(ctx + " another change of this group (a failover or switchover) holds its lock");
            }
        } catch (SwitchoverException e) {
            throw e;
        } catch (Exception e) {
            throw new SwitchoverException(ctx + " taking the group's lock: " + e, e);
        }
        long started = System.nanoTime();
        boolean done = false;
        try (NodeConnections nodes = new NodeConnections(config)) {
            Result r = locked(group, to, nodes, ctx);
            done = true;
            if (metrics != null) {
                metrics.topology(r.after());
            }
            return r;
        } finally {
            if (metrics != null) {
                metrics.switchover(group, done, System.nanoTime() - started);
            }
            try {
                lock.release();
            } catch (Exception e) {
                log.debug("releasing the lock of {}: {}", group, e.toString());
            }
        }
    }

    /**
     * {@link #run}, and again each time it gave way to transactions still open on the master, at most {@code attempts}
     * times with {@code pauseMs} between: what an operation's switchover step does. Each attempt that gave way is added
     * to {@code gaveWay} (writes held, why).
     *
     * @throws SwitchoverException the last attempt's, when every attempt gave way or one failed otherwise
     */
    public Result runGivingWay(String group, Optional<NodeAddress> to, int attempts, long pauseMs, List<String> gaveWay)
            throws SwitchoverException {
        for (int attempt = 1; ; attempt++) {
            try {
                return run(group, to);
            } catch (TransactionsOpenException e) {
                gaveWay.add("attempt " + attempt + " gave way after holding writes " + e.heldMs() + " ms");
                if (attempt >= attempts) {
                    throw e;
                }
                log.info("{}; trying again in {} ms ({} of {})", e.getMessage(), pauseMs, attempt + 1, attempts);
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * New writes are held (phase SWITCHING); transactions the application opened on the master before that may still
     * write. Waits up to {@code failover.switchoverDrainMs} until none of the application user's is open, so that
     * read_only does not fail them (error 1290 at their next write). Returns how many were still open (0 when all
     * ended; -1 when they cannot be seen: the admin user lacks PROCESS).
     */
    private int awaitTransactionsEnd(Connection master, String ctx) {
        long deadline = System.nanoTime() + config.failover().switchoverDrainMs() * 1_000_000L;
        String sql = "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p"
                + " ON p.ID = t.trx_mysql_thread_id WHERE p.USER = ?";
        try (java.sql.PreparedStatement ps = master.prepareStatement(sql)) {
            ps.setString(1, config.credentials().user());
            while (true) {
                int open;
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    open = rs.getInt(1);
                }
                if (open == 0 || System.nanoTime() >= deadline) {
                    return open;
                }
                // InnoDB refreshes its INNODB_TRX snapshot only when nobody read it for 100 ms
                // (CACHE_MIN_IDLE_TIME_US): polling faster would read the same stale snapshot until the deadline.
                Thread.sleep(TRX_SNAPSHOT_IDLE_MS);
            }
        } catch (SQLException e) {
            log.warn("{} cannot see the transactions open on the master ({}); grant PROCESS to failover.admin so that a"
                    + " switchover waits for them", ctx, e.getMessage());
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The application's open transactions on {@code master}, one line each, for the log. */
    private String openTransactions(Connection master) {
        String sql = "SELECT p.ID, t.trx_state, t.trx_started, t.trx_rows_modified, p.COMMAND, p.STATE, p.INFO"
                + " FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id"
                + " WHERE p.USER = ?";
        StringBuilder b = new StringBuilder();
        try (java.sql.PreparedStatement ps = master.prepareStatement(sql)) {
            ps.setString(1, config.credentials().user());
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    b.append(String.format("[thread %d %s since %s, %d rows, %s %s: %s]", rs.getLong(1), rs.getString(2),
                            rs.getString(3), rs.getLong(4), rs.getString(5), rs.getString(6), rs.getString(7)));
                }
            }
        } catch (SQLException e) {
            b.append("(cannot list them: ").append(e.getMessage()).append(')');
        }
        return b.toString();
    }

    private Result locked(String group, Optional<NodeAddress> to, NodeConnections nodes, String ctx) throws SwitchoverException {
        TopologyStore.Versioned seen = store.read(group).orElseThrow(() -> new SwitchoverException(ctx
                + " no topology in ZooKeeper yet; start a monitor (it writes the config's topology) first"));
        ServerDialect dialect = ServerDialect.of(config.group(group).flavour());
        refuseIfNotAReplica(seen.topology(), to, ctx);
        if (seen.topology().phase() == GroupTopology.Phase.SWITCHING) {
            seen = rollBackInterrupted(group, seen, nodes, dialect, ctx);
        }
        GroupTopology before = seen.topology();
        Credentials replication = config.failover().replication().orElseThrow(() -> new SwitchoverException(ctx
                + " failover.replication (user, password) is required to repoint replicas"));
        NodeAddress candidate = choose(before, to, nodes, dialect, ctx);
        refuseIfLagging(before, candidate, nodes, dialect, ctx);
        AuditRecord audit = new AuditRecord("switchover", group, by).topology("before", before)
                .text("candidate", candidate.toString());
        String path = store.appendRecovery(audit.toJson());
        Connection master;
        Connection target;
        try {
            master = nodes.connect(before.master());
            target = nodes.connect(candidate);
        } catch (SQLException e) {
            fail(audit, path, "connecting: " + e.getMessage());
            throw new SwitchoverException(ctx + " cannot connect to " + before.master() + " or " + candidate + ": " + e.getMessage(), e);
        }
        try (master; target) {
            // Generous timeouts for the waits below (the probe timeout is for probes).
            master.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, config.failover().applyTimeoutMs() + 5_000));
            target.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, config.failover().applyTimeoutMs() + 5_000));
            GroupTopology switching = before.withPhase(GroupTopology.Phase.SWITCHING);
            if (!store.compareAndSet(switching, seen.version())) {
                fail(audit, path, "topology changed");
                throw new SwitchoverException(ctx + " the topology changed meanwhile; run the switchover again");
            }
            long pauseStart = System.nanoTime();
            int version = seen.version() + 1;
            audit.step("publishSwitching");
            int stillOpen = awaitTransactionsEnd(master, ctx);
            audit.step("openTransactionsEnded").text("transactionsStillOpen", Integer.toString(stillOpen));
            if (stillOpen > 0 && config.failover().switchoverDrainMs() == 0) {
                log.warn("{} {} transaction(s) of {} open on {}: with failover.switchoverDrainMs=0 they fail at their next"
                        + " write {}", ctx, stillOpen, config.credentials().user(), before.master(), openTransactions(master));
            } else if (stillOpen > 0) {
                // Fencing now would fail those transactions (1290 at their next write), and SET GLOBAL read_only would
                // wait for them to end, holding every write meanwhile. A planned switchover gives way instead: nothing
                // changed, writes go on, and it can be run again (a transaction stuck in a lock wait across two groups
                // ends by innodb_lock_wait_timeout).
                String open = openTransactions(master);
                if (!store.compareAndSet(before.withPhase(GroupTopology.Phase.SERVING), version)) {
                    log.error("{} could not set the phase back to SERVING (topology changed meanwhile)", ctx);
                }
                long held = (System.nanoTime() - pauseStart) / 1_000_000L;
                String why = stillOpen + " transaction(s) of " + config.credentials().user() + " still open on "
                        + before.master() + " after failover.switchoverDrainMs=" + config.failover().switchoverDrainMs()
                        + " ms " + open;
                fail(audit, path, why + "; gave way (writes held " + held + " ms)");
                log.warn("{} {}; the switchover gave way (writes held {} ms)", ctx, why, held);
                throw new TransactionsOpenException(ctx + " switchover to " + candidate + " gave way: " + why + "; nothing "
                        + "changed (" + before.master() + " is still master, writes were held " + held + " ms and go on);"
                        + " run it again, or end those transactions first", held);
            }
            String masterPosition;
            try {
                dialect.fence(master);
                audit.step("readOnly");
                masterPosition = dialect.probe(master, before.master()).executed().toString();
                if (!dialect.awaitApplied(target, masterPosition, config.failover().applyTimeoutMs())) {
                    throw new SQLException(candidate + " did not apply " + masterPosition + " within failover.applyTimeoutMs "
                            + config.failover().applyTimeoutMs() + " ms");
                }
                audit.step("candidateCaughtUp");
                dialect.promote(target, true); // the old master follows it
                audit.step("promote");
            } catch (SQLException e) {
                rollBack(dialect, master, before, version, ctx);
                fail(audit, path, e.getMessage());
                throw new SwitchoverException(ctx + " switchover to " + candidate + " failed before the promotion, "
                        + before.master() + " is master again: " + e.getMessage(), e);
            }
            List<NodeAddress> replicas = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            for (NodeAddress r : before.replicas()) {
                if (r.equals(candidate)) {
                    continue;
                }
                try (Connection c = nodes.connect(r)) {
                    dialect.replicateFrom(c, candidate, replication, false, config.failover().heartbeatPeriodMs());
                    replicas.add(r);
                } catch (SQLException e) {
                    problems.add(r + ": " + e.getMessage());
                }
            }
            try {
                dialect.replicateFrom(master, candidate, replication, true, config.failover().heartbeatPeriodMs());
                replicas.add(before.master());
            } catch (SQLException e) {
                problems.add(before.master() + " (old master, left read-only): " + e.getMessage());
            }
            audit.step("repoint");
            GroupTopology after = new GroupTopology(group, candidate, replicas, before.epoch() + 1, GroupTopology.Phase.SERVING);
            if (!store.compareAndSet(after, version)) {
                fail(audit, path, "topology changed after the promotion");
                throw new SwitchoverException(ctx + " " + candidate + " was promoted but the topology changed meanwhile and "
                        + "was not published: check 'ballast status' and publish by hand");
            }
            long pauseMs = (System.nanoTime() - pauseStart) / 1_000_000L;
            audit.step("publish").topology("after", after).text("problems", String.join("; ", problems))
                    .value("writePauseMs", pauseMs).state("done");
            store.updateRecovery(path, audit.toJson());
            log.info("{} switched over from {} to {} in epoch {} (writes held {} ms){}", ctx, before.master(), candidate,
                    after.epoch(), pauseMs, problems.isEmpty() ? "" : "; not repointed: " + problems);
            return new Result(before, after, pauseMs, path);
        } catch (SQLException e) {
            fail(audit, path, e.getMessage());
            throw new SwitchoverException(ctx + " " + e.getMessage(), e);
        }
    }

    /**
     * A topology left in phase SWITCHING by a switchover that did not finish (its process was killed, or lost ZooKeeper).
     * This process holds the group's lock, so that switchover no longer runs. When no replica was promoted (each is
     * still a read-only replica), nothing moved: the master is made writable again, the phase set back to SERVING in the
     * same epoch and the interrupted audit record marked {@code interrupted}. When a replica was promoted (writable, or
     * its replication reset) the rollback is refused: which server is master must then be decided by hand.
     */
    private TopologyStore.Versioned rollBackInterrupted(String group, TopologyStore.Versioned seen, NodeConnections nodes,
                                                        ServerDialect dialect, String ctx) throws SwitchoverException {
        GroupTopology t = seen.topology();
        List<String> promoted = new ArrayList<>();
        List<String> unknown = new ArrayList<>();
        for (NodeAddress r : t.replicas()) {
            NodeProbe p = nodes.probe(r, dialect);
            if (!p.reachable()) {
                unknown.add(r + " (unreachable: " + p.error() + ")");
            } else if (p.writable() || p.replication().isEmpty()) {
                promoted.add(r + (p.writable() ? " is writable" : " is read-only") + (p.replication().isEmpty()
                        ? " and no longer a replica" : "") + ", gtid " + p.executed());
            }
        }
        if (!promoted.isEmpty()) {
            throw new RefusedException(ctx + " is in phase SWITCHING: an interrupted switchover got as far as promoting a replica: "
                    + String.join("; ", promoted) + ", while the topology still names " + t.master() + " as master "
                    + "(epoch " + t.epoch() + "); not rolled back, nothing was changed. Decide by hand which server is "
                    + "master: see docs/cli.md \"Interrupted switchover\"");
        }
        try (Connection master = nodes.connect(t.master())) {
            dialect.unfence(master);
        } catch (SQLException e) {
            throw new SwitchoverException(ctx + " is in phase SWITCHING (an interrupted switchover, no replica promoted) "
                    + "and its master " + t.master() + " cannot be made writable again: " + e.getMessage()
                    + "; nothing was changed. Check that it runs, then run the switchover again", e);
        }
        GroupTopology serving = t.withPhase(GroupTopology.Phase.SERVING);
        if (!store.compareAndSet(serving, seen.version())) {
            throw new SwitchoverException(ctx + " the topology changed while rolling back an interrupted switchover; run "
                    + "the switchover again");
        }
        markInterrupted(group, t.master());
        log.warn("{} rolled back an interrupted switchover: no replica had been promoted; {} is writable again and the "
                + "phase SERVING (epoch {}){}", ctx, t.master(), t.epoch(),
                unknown.isEmpty() ? "" : "; not checked: " + String.join(", ", unknown));
        return store.read(group).orElseThrow(() -> new SwitchoverException(ctx + " the topology vanished"));
    }

    /** Marks the group's last switchover record that is still {@code started} as {@code interrupted}. */
    private void markInterrupted(String group, NodeAddress master) {
        try {
            List<String[]> records = store.recoveries();
            for (int i = records.size() - 1; i >= 0; i--) {
                AuditRecord.Summary s = AuditRecord.summary(records.get(i)[1]);
                if (s.group().equals(group) && s.kind().equals("switchover")) {
                    if (s.state().equals("started")) {
                        store.updateRecovery(records.get(i)[0], AuditRecord.interrupted(records.get(i)[1],
                                "rolled back by " + by + ": no replica had been promoted, " + master
                                        + " writable again"));
                    }
                    return;
                }
            }
        } catch (RuntimeException e) {
            log.warn("audit: marking the interrupted switchover of {}: {}", group, e.toString());
        }
    }

    /**
     * The candidate, chosen by the {@link Planner} as a failover would (rules, errant transactions, most advanced), with a
     * live master's demands. A {@code --to} node it will not promote, or no usable replica at all, is a refusal.
     */
    private NodeAddress choose(GroupTopology t, Optional<NodeAddress> to, NodeConnections nodes, ServerDialect dialect,
                               String ctx) throws SwitchoverException {
        refuseIfNotAReplica(t, to, ctx);
        Map<NodeAddress, NodeProbe> probes = new LinkedHashMap<>();
        for (NodeAddress r : t.replicas()) {
            probes.put(r, nodes.probe(r, dialect));
        }
        Plan plan = Planner.switchover(t, probes, Recovery.rules(config, store), to);
        if (plan.candidate().isPresent()) {
            return plan.candidate().get();
        }
        List<NodeAddress> usable = plan.verdicts().stream().filter(v -> v.standing() != Verdict.Standing.UNUSABLE)
                .map(Verdict::node).toList();
        if (to.isPresent()) {
            Verdict v = plan.verdicts().stream().filter(x -> x.node().equals(to.get())).findFirst().orElseThrow();
            throw new RefusedException(withNode(ctx, to.get()) + " refusing switchover to "
                    + to.get() + ": " + v.reason() + "; nothing was changed, " + t.master() + " is still master. "
                    + wayOut(v, t) + (usable.isEmpty() ? "; no other replica may be promoted now"
                    : ", or switch over to " + String.join(" or ", usable.stream().map(Object::toString).toList())
                    + " (--to), or leave --to out to let Ballast choose"));
        }
        throw new RefusedException(ctx + " refusing switchover: no replica may be promoted ("
                + String.join("; ", plan.verdicts().stream().map(v -> v.node() + ": " + v.reason()).toList())
                + "); nothing was changed, " + t.master() + " is still master. Make a replica healthy, or change "
                + "failover.promotion");
    }

    private void refuseIfNotAReplica(GroupTopology t, Optional<NodeAddress> to, String ctx) throws RefusedException {
        if (to.isPresent() && !t.replicas().contains(to.get())) {
            throw new RefusedException(ctx + " refusing switchover to " + to.get() + ": " + whatItIs(to.get(), t)
                    + "; nothing was changed. Name one of the group's replicas with --to: " + t.replicas());
        }
    }

    /** Why {@code node} cannot be a switchover's target in {@code t}, and what would make it one. */
    private String whatItIs(NodeAddress node, GroupTopology t) {
        if (node.equals(t.master())) {
            return "it is already the master of group " + t.group() + " (epoch " + t.epoch() + ")";
        }
        for (var g : config.groups().values()) {
            if (!g.name().equals(t.group()) && (g.master().equals(node) || g.replicas().contains(node))) {
                return "it belongs to group " + g.name() + " in the config, not to group " + t.group()
                        + " (a switchover moves a master within its group)";
            }
        }
        if (config.group(t.group()).master().equals(node) || config.group(t.group()).replicas().contains(node)) {
            return "it is a server of group " + t.group() + " in the config but not in its topology (master " + t.master()
                    + ", replicas " + t.replicas() + "): an old master the monitor fenced? Bring it back with "
                    + "'ballast rejoin --group " + t.group() + " --node " + node + "' first";
        }
        return "it is not a server of cluster " + config.name() + " (not in the config)";
    }

    /** {@code [cluster=c group=g]} becomes {@code [cluster=c group=g node=n]}. */
    private static String withNode(String ctx, NodeAddress node) {
        return ctx.substring(0, ctx.length() - 1) + " node=" + node + "]";
    }

    private static String wayOut(Verdict v, GroupTopology t) {
        if (v.reason().startsWith("rule must_not")) {
            return "It is must_not in failover.promotion: change that first if it may become master";
        }
        if (v.reason().startsWith("errant transactions")) {
            return "Inspect its errant transactions (mariadb-binlog or mysqlbinlog on its binlog), then rebuild it from a "
                    + "backup of the master or remove them by hand";
        }
        return "Make it a healthy replica of " + t.master() + " first (SHOW SLAVE STATUS on it)";
    }

    /**
     * Refuses a candidate that lags: before anything changes, it must apply what the master has now within
     * {@code failover.applyTimeoutMs}. Otherwise writes would be held (and then given back) for that long.
     */
    private void refuseIfLagging(GroupTopology t, NodeAddress candidate, NodeConnections nodes, ServerDialect dialect,
                                 String ctx) throws SwitchoverException {
        long timeoutMs = config.failover().applyTimeoutMs();
        String masterPosition;
        boolean applied;
        try (Connection master = nodes.connect(t.master()); Connection target = nodes.connect(candidate)) {
            target.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeoutMs + 5_000));
            masterPosition = dialect.probe(master, t.master()).executed().toString();
            applied = dialect.awaitApplied(target, masterPosition, timeoutMs);
        } catch (SQLException e) {
            throw new SwitchoverException(ctx + " cannot check that " + candidate + " keeps up with " + t.master() + ": "
                    + e.getMessage() + "; nothing was changed", e);
        }
        if (!applied) {
            NodeProbe p = nodes.probe(candidate, dialect);
            String has = p.replication().map(r -> "it has applied " + r.applied() + (r.secondsBehind() >= 0
                    ? ", " + r.secondsBehind() + " s behind" : "")).orElse("");
            throw new RefusedException(withNode(ctx, candidate) + " refusing switchover to "
                    + candidate + ": it lags: it did not apply the master's " + masterPosition + " within failover.applyTimeoutMs "
                    + timeoutMs + " ms" + (has.isEmpty() ? "" : " (" + has + ")") + "; nothing was changed, " + t.master()
                    + " is still master. Wait until it catches up (SHOW SLAVE STATUS on it), or switch over to another "
                    + "replica with --to");
        }
    }

    private void rollBack(ServerDialect dialect, Connection master, GroupTopology before, int version, String ctx) {
        try {
            dialect.unfence(master);
        } catch (SQLException e) {
            log.error("{} making {} writable again failed: {}", ctx, before.master(), e.getMessage());
        }
        if (!store.compareAndSet(before.withPhase(GroupTopology.Phase.SERVING), version)) {
            log.error("{} could not set the phase back to SERVING (topology changed meanwhile)", ctx);
        }
    }

    private void fail(AuditRecord audit, String path, String reason) {
        audit.state("failed").text("reason", reason);
        try {
            store.updateRecovery(path, audit.toJson());
        } catch (RuntimeException e) {
            log.debug("audit: {}", e.toString());
        }
    }

    /**
     * The switchover gave way to transactions still open on the master after {@code failover.switchoverDrainMs}: nothing
     * changed and it may be run again.
     */
    public static final class TransactionsOpenException extends SwitchoverException {
        private final long heldMs;

        public TransactionsOpenException(String message, long heldMs) {
            super(message);
            this.heldMs = heldMs;
        }

        /** How long writes were held before the switchover gave way. */
        public long heldMs() {
            return heldMs;
        }
    }

    public static class SwitchoverException extends Exception {
        public SwitchoverException(String message) {
            super(message);
        }

        public SwitchoverException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
