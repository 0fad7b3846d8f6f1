package dev.ballast.failover;

import dev.ballast.failover.analysis.Planner;
import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Plan;
import dev.ballast.failover.model.Problem;
import dev.ballast.failover.model.PromotionRule;
import dev.ballast.failover.model.Verdict;
import dev.ballast.replication.ServerDialect;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.Credentials;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * An automatic failover of one group (DESIGN.md "Failover", step 4), run by the leader after it re-checked the problem:
 * stop every replica's receiver, plan, let the candidate apply what it received, fence the old master if it answers,
 * promote, repoint the others, publish the next epoch by compare-and-set, and log it all. Every step can be repeated,
 * so a recovery cut short (the leader died) is finished by the next leader, which plans again and finds the candidate
 * already promoted.
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    /** How it ended. */
    record Outcome(boolean published, GroupTopology after, String reason, String auditPath) {
    }

    /** Socket timeout of one recovery step's statement (STOP SLAVE can wait for a receiver stuck on a hung master). */
    private static final int STEP_TIMEOUT_MS = 5_000;

    private final ClusterConfig config;
    private final NodeConnections nodes;
    private final TopologyStore store;
    private final String monitorId;
    private final BooleanSupplier stillLeader;

    Recovery(ClusterConfig config, NodeConnections nodes, TopologyStore store, String monitorId, BooleanSupplier stillLeader) {
        this.config = config;
        this.nodes = nodes;
        this.store = store;
        this.monitorId = monitorId;
        this.stillLeader = stillLeader;
    }

    static Map<NodeAddress, PromotionRule> rules(ClusterConfig config) {
        Map<NodeAddress, PromotionRule> rules = new HashMap<>();
        config.failover().promotion().forEach((node, rule) -> rules.put(node, PromotionRule.parse(rule)));
        return rules;
    }

    /**
     * The config's rules, with every drained node (maintenance mark) at least {@link PromotionRule#PREFER_NOT}: a drained
     * replica is promoted only when no other is as advanced (choosing a less advanced one would lose transactions), and
     * {@code must_not} stays {@code must_not}. When the marks cannot be read, the config's rules alone.
     */
    static Map<NodeAddress, PromotionRule> rules(ClusterConfig config, TopologyStore store) {
        Map<NodeAddress, PromotionRule> rules = rules(config);
        java.util.Set<NodeAddress> drained;
        try {
            drained = store.drained().keySet();
        } catch (TopologyStore.TopologyException e) {
            log.warn("[cluster={}] reading the maintenance marks for promotion: {}; using failover.promotion alone",
                    config.name(), e.getMessage());
            return rules;
        }
        return Planner.withDrained(rules, drained);
    }

    Outcome failover(TopologyStore.Versioned seen, Problem problem) {
        GroupTopology before = seen.topology();
        String group = before.group();
        String ctx = "[cluster=" + config.name() + " group=" + group + "]";
        ServerDialect dialect = ServerDialect.of(config.group(group).flavour());
        Credentials replication = config.failover().replication().orElseThrow(() -> new IllegalStateException(ctx
                + " failover.replication (user, password) is required: replicas are repointed with it"));
        AuditRecord audit = new AuditRecord("failover", group, monitorId).text("problem", problem.kind() + ": " + problem.detail())
                .topology("before", before);
        String path = store.appendRecovery(audit.toJson());
        log.warn("{} {}: failing over from {} (audit {})", ctx, problem.kind(), before.master(), path);

        // 0. try to fence the old master meanwhile (it was declared dead, but a partition may end any time); a hung one
        //    costs the connect and socket timeouts, so this runs beside the steps below and is joined before publishing
        ExecutorService steps = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ballast-recovery-" + group);
            t.setDaemon(true);
            return t;
        });
        try {
            return failover(seen, problem, before, group, ctx, dialect, replication, audit, path, steps);
        } finally {
            steps.shutdownNow();
        }
    }

    private Outcome failover(TopologyStore.Versioned seen, Problem problem, GroupTopology before, String group, String ctx,
                             ServerDialect dialect, Credentials replication, AuditRecord audit, String path,
                             ExecutorService steps) {
        Future<String> fencing = steps.submit(() -> {
            try (Connection old = nodes.connect(before.master())) {
                int killed = dialect.depose(old, STEP_TIMEOUT_MS);
                return "fenced (read_only, " + killed + " client connection(s) killed)";
            } catch (SQLException e) {
                return "unreachable: " + e.getMessage().lines().findFirst().orElse("");
            }
        });

        // 1. stop receiving everywhere (in parallel), so that the positions compared below cannot move
        List<Future<?>> stopping = new ArrayList<>();
        for (NodeAddress r : before.replicas()) {
            stopping.add(steps.submit(() -> {
                try (Connection c = nodes.connect(r)) {
                    c.setNetworkTimeout(Runnable::run, STEP_TIMEOUT_MS);
                    dialect.stopReceiving(c);
                } catch (SQLException e) {
                    log.warn("{} stopping the receiver of {}: {}", ctx, r, e.getMessage());
                }
                return null;
            }));
        }
        for (Future<?> f : stopping) {
            try {
                f.get(STEP_TIMEOUT_MS + 2_000L, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                f.cancel(true);
            }
        }
        audit.step("stopReceivers");

        // 2. plan from fresh probes
        Map<NodeAddress, NodeProbe> probes = new LinkedHashMap<>();
        for (NodeAddress r : before.replicas()) {
            NodeProbe p = nodes.probe(r, dialect);
            if (p.reachable()) {
                probes.put(r, p);
            }
        }
        Plan plan = Planner.plan(before, probes, rules(config, store));
        audit.step("plan").value("verdicts", verdicts(plan));
        if (plan.candidate().isEmpty()) {
            return end(audit, path, ctx, false, before, "no replica can be promoted: " + reasons(plan), dialect, before);
        }
        NodeAddress candidate = plan.candidate().get();
        audit.text("candidate", candidate.toString());
        store.updateRecovery(path, audit.toJson());
        if (!stillLeader.getAsBoolean()) {
            return end(audit, path, ctx, false, before, "lost leadership before promoting", dialect, null);
        }

        // 3. the candidate applies everything it received (RESET SLAVE ALL would delete an unapplied relay log)
        try {
            Connection c = nodes.of(candidate);
            boolean applied = dialect.awaitApplied(c, plan.mustApply().toString(), config.failover().applyTimeoutMs());
            if (!applied) {
                return end(audit, path, ctx, false, before, candidate + " did not apply " + plan.mustApply() + " within "
                        + "failover.applyTimeoutMs " + config.failover().applyTimeoutMs() + " ms", dialect, before);
            }
        } catch (SQLException e) {
            nodes.discard(candidate);
            return end(audit, path, ctx, false, before, "waiting for " + candidate + " to apply its relay log: "
                    + e.getMessage(), dialect, before);
        }
        audit.step("applyRelayLog");

        // 4. the old master's fencing, started at the beginning
        try {
            audit.text("oldMaster", fencing.get(STEP_TIMEOUT_MS, TimeUnit.MILLISECONDS));
        } catch (Exception e) {
            fencing.cancel(true);
            audit.text("oldMaster", "no answer within " + STEP_TIMEOUT_MS + " ms");
        }
        audit.step("fenceOldMaster");
        if (!stillLeader.getAsBoolean()) {
            return end(audit, path, ctx, false, before, "lost leadership before promoting", dialect, null);
        }

        // 5. promote (semi-sync master only when a replica is to follow: alone it would hold every commit for the timeout)
        boolean followed = plan.verdicts().stream()
                .anyMatch(v -> !v.node().equals(candidate) && v.standing() != Verdict.Standing.UNUSABLE);
        try {
            dialect.promote(nodes.of(candidate), followed);
        } catch (SQLException e) {
            nodes.discard(candidate);
            return end(audit, path, ctx, false, before, "promoting " + candidate + ": " + e.getMessage(), dialect, before);
        }
        audit.step("promote");

        GroupTopology after = before.promoted(candidate);
        List<NodeAddress> repointed = new ArrayList<>();
        List<NodeAddress> notRepointed = new ArrayList<>();
        // 6. repoint the other replicas (before publishing: the new master's semi-sync commits need one of them)
        for (Verdict v : plan.verdicts()) {
            if (v.node().equals(candidate)) {
                continue;
            }
            if (v.standing() == Verdict.Standing.UNUSABLE) {
                notRepointed.add(v.node());
                continue;
            }
            try {
                dialect.replicateFrom(nodes.of(v.node()), candidate, replication, false,
                        config.failover().heartbeatPeriodMs());
                repointed.add(v.node());
            } catch (SQLException e) {
                nodes.discard(v.node());
                log.warn("{} repointing {} to {}: {}", ctx, v.node(), candidate, e.getMessage());
                notRepointed.add(v.node());
            }
        }
        if (followed && repointed.isEmpty()) {
            try {
                dialect.semiSyncMaster(nodes.of(candidate), false);
                followed = false;
            } catch (SQLException e) {
                log.warn("{} no replica follows {}, and turning its semi-sync master side off failed (each commit waits "
                        + "rpl_semi_sync_master_timeout until the server gives up on semi-sync): {}", ctx, candidate, e.getMessage());
            }
        }
        audit.step("repoint").text("repointed", repointed.toString()).text("notRepointed", notRepointed.toString())
                .text("semiSync", followed ? "on" : "off: no replica follows the new master ('ballast rejoin' turns it on again)");
        // 7. publish the next epoch: from here on clients write to the candidate
        GroupTopology published = after;
        for (NodeAddress n : notRepointed) {
            published = without(published, n);
        }
        if (!store.compareAndSet(published, seen.version())) {
            return end(audit, path, ctx, false, before, "the topology changed while recovering (another monitor or an "
                    + "operator); not published", dialect, null);
        }
        audit.step("publish").topology("after", published);

        return end(audit, path, ctx, true, published, "promoted " + candidate, dialect, null);
    }

    private static GroupTopology without(GroupTopology t, NodeAddress n) {
        List<NodeAddress> rest = new ArrayList<>(t.replicas());
        rest.remove(n);
        return new GroupTopology(t.group(), t.master(), rest, t.epoch(), t.phase());
    }

    /** Ends the record; when it failed before promoting, restarts the receivers it stopped ({@code restart}). */
    private Outcome end(AuditRecord audit, String path, String ctx, boolean published, GroupTopology topology, String reason,
                        ServerDialect dialect, GroupTopology restart) {
        if (restart != null) {
            for (NodeAddress r : restart.replicas()) {
                try {
                    dialect.startReplication(nodes.of(r));
                } catch (SQLException e) {
                    nodes.discard(r);
                }
            }
        }
        audit.state(published ? "done" : "failed").text("reason", reason);
        try {
            store.updateRecovery(path, audit.toJson());
        } catch (RuntimeException e) {
            log.warn("{} writing the audit record {}: {}", ctx, path, e.getMessage());
        }
        if (published) {
            log.warn("{} {}; epoch {} published: {}", ctx, reason, topology.epoch(), audit.toJson());
        } else {
            log.error("{} failover did not complete: {} ({})", ctx, reason, audit.toJson());
        }
        return new Outcome(published, topology, reason, path);
    }

    /** Every replica's verdict, as the audit record lists them. */
    static List<Map<String, String>> verdicts(Plan plan) {
        List<Map<String, String>> out = new ArrayList<>();
        for (Verdict v : plan.verdicts()) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("node", v.node().toString());
            m.put("standing", v.standing().name());
            m.put("reason", v.reason());
            out.add(m);
        }
        return out;
    }

    private static String reasons(Plan plan) {
        StringBuilder b = new StringBuilder();
        for (Verdict v : plan.verdicts()) {
            b.append(b.length() == 0 ? "" : "; ").append(v.node()).append(' ').append(v.standing()).append(": ").append(v.reason());
        }
        return b.toString();
    }
}
