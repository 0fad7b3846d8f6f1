package dev.ballast.upgrade.server;

import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ServerVersion;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.UpgradeSettings;
import dev.ballast.topology.Maintenance;
import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Step;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rolling server-version upgrade of some groups, as a plan: a pure function of what each group looks like now
 * (topology, one fresh probe of every node, maintenance marks, the operation holding it) and the target version.
 *
 * <p>Per group, the replicas one at a time, then a planned switchover to an upgraded replica, then the old master the
 * same way. A node is: {@code drain} (maintenance mark: no new reads; reads in flight finish), {@code stop},
 * {@code install}, {@code start}, {@code post-start} (only when configured), {@code gate} (runs the target, replicates
 * from the group's master, within the lag limit), {@code undrain}. Groups one after another, in the order given. Nodes
 * already at the target get no steps; a group all at the target is listed as up to date.
 *
 * <p>Nothing is planned for a group that is not fit for it; each refusal names the node and the way out. Refused: an
 * operation already active on the group, a switchover in progress, no replica, a node that is unreachable, whose
 * version is unknown or newer than the target (a downgrade), a replica that does not replicate from the master or lags
 * beyond {@code maxReplicaLagMs}, a node under a maintenance mark someone else set.
 */
public record UpgradePlan(TargetVersion target, List<Step> steps, List<String> refusals, List<String> upToDate) {

    /** The action names of a server upgrade (the {@link dev.ballast.upgrade.StepAction}s of {@link ServerUpgradeActions}). */
    public static final String DRAIN = "drain";
    public static final String STOP = "stop";
    public static final String INSTALL = "install";
    public static final String START = "start";
    public static final String POST_START = "post-start";
    public static final String GATE = "gate";
    public static final String UNDRAIN = "undrain";
    public static final String SWITCHOVER = "switchover";

    /** The operation kind stored with an upgrade. */
    public static final String KIND = "server-upgrade";

    /** What one group looks like right now. {@code probes} holds a fresh probe of every node in {@code topology}. */
    public record GroupFacts(String group, GroupTopology topology, Map<NodeAddress, NodeProbe> probes,
                             Map<NodeAddress, Maintenance> drained, Optional<String> activeOperation) {
        public GroupFacts {
            probes = Map.copyOf(probes);
            drained = Map.copyOf(drained);
            activeOperation = activeOperation == null ? Optional.empty() : activeOperation;
        }
    }

    public UpgradePlan {
        steps = List.copyOf(steps);
        refusals = List.copyOf(refusals);
        upToDate = List.copyOf(upToDate);
    }

    public boolean refused() {
        return !refusals.isEmpty();
    }

    /**
     * Plans the upgrade of {@code groups} to {@code target}.
     *
     * @param maxLagMs a replica further behind than this (as its {@code Seconds_Behind_Master} says) refuses its group
     */
    public static UpgradePlan plan(TargetVersion target, List<GroupFacts> groups, UpgradeSettings settings, long maxLagMs) {
        List<Step> steps = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        List<String> upToDate = new ArrayList<>();
        for (GroupFacts g : groups) {
            List<String> groupRefusals = refusals(target, g, maxLagMs);
            if (!groupRefusals.isEmpty()) {
                refusals.addAll(groupRefusals);
                continue;
            }
            GroupTopology t = g.topology();
            List<NodeAddress> replicas = new ArrayList<>(t.replicas());
            replicas.sort(Comparator.comparing(NodeAddress::toString));
            List<Step> groupSteps = new ArrayList<>();
            for (NodeAddress r : replicas) {
                ServerVersion v = version(g, r);
                if (!target.reachedBy(v)) {
                    nodeSteps(groupSteps, g.group(), r, v, target, settings, "replica");
                }
            }
            ServerVersion masterVersion = version(g, t.master());
            if (!target.reachedBy(masterVersion)) {
                groupSteps.add(Step.pending(g.group(), "", new Action(SWITCHOVER, params("from", t.master().toString(),
                        "fromVersion", masterVersion.text(), "to", target.text())),
                        "every replica of " + g.group() + " runs " + target + " and replicates from the master; the master "
                                + t.master() + " runs " + masterVersion.text()));
                nodeSteps(groupSteps, g.group(), t.master(), masterVersion, target, settings, "old master");
            }
            if (groupSteps.isEmpty()) {
                upToDate.add(g.group());
            }
            for (Step s : groupSteps) { // the epoch the plan saw: a later one not caused by this operation is a failover
                Map<String, String> p = new LinkedHashMap<>(s.action().parameters());
                p.put("epoch", Long.toString(t.epoch()));
                if (!s.node().isEmpty()) { // drain … undrain of one node: an abort finishes it, so the node serves again
                    p.put(dev.ballast.upgrade.Runner.UNIT, s.group() + "/" + s.node());
                }
                steps.add(Step.pending(s.group(), s.node(), new Action(s.action().name(), p), s.precondition()));
            }
        }
        return new UpgradePlan(target, steps, refusals, upToDate);
    }

    private static void nodeSteps(List<Step> out, String group, NodeAddress node, ServerVersion from, TargetVersion to,
                                  UpgradeSettings settings, String role) {
        String n = node.toString();
        out.add(Step.pending(group, n, new Action(DRAIN, params("from", from.text(), "to", to.text())),
                n + " (" + role + ") is not the master, replicates from it, and runs " + from.text() + " or " + to));
        out.add(Step.pending(group, n, new Action(STOP, params("command", render(settings.stopCommand(), node, to),
                "from", from.text())), n + " is drained, not the master, and runs " + from.text() + " (or is stopped)"));
        out.add(Step.pending(group, n, new Action(INSTALL, params("command", render(settings.installCommand(), node, to))),
                n + " is stopped (or already runs " + to + ")"));
        out.add(Step.pending(group, n, new Action(START, params("command", render(settings.startCommand(), node, to),
                "to", to.text())), n + " is stopped (or already runs " + to + ")"));
        if (!settings.postStartCommand().isEmpty() || !settings.postStartSql().isEmpty()) {
            Map<String, String> p = new LinkedHashMap<>();
            if (!settings.postStartCommand().isEmpty()) {
                p.put("command", render(settings.postStartCommand(), node, to));
            }
            if (!settings.postStartSql().isEmpty()) {
                p.put("sql", settings.postStartSql().size() + " statement(s) from upgrade.postStartSql");
            }
            p.put("to", to.text());
            out.add(Step.pending(group, n, new Action(POST_START, p), n + " runs " + to));
        }
        out.add(Step.pending(group, n, new Action(GATE, params("to", to.text())), n + " runs " + to
                + ", replicates from the group's master with both threads running, within readPolicy.maxReplicaLagMs"));
        out.add(Step.pending(group, n, new Action(UNDRAIN, Map.of()), n + " passed its gate"));
    }

    private static String render(String template, NodeAddress node, TargetVersion to) {
        return template.isEmpty() ? "" : UpgradeSettings.render(template, node, to.text());
    }

    private static List<String> refusals(TargetVersion target, GroupFacts g, long maxLagMs) {
        List<String> out = new ArrayList<>();
        String ctx = "group " + g.group() + ": ";
        if (g.activeOperation().isPresent()) {
            String id = g.activeOperation().get();
            out.add(ctx + "operation " + id + " is already active on it; continue it with 'ballast upgrade resume " + id
                    + "' or stop it with 'ballast upgrade abort " + id + "'");
            return out;
        }
        GroupTopology t = g.topology();
        if (t.phase() == GroupTopology.Phase.SWITCHING) {
            out.add(ctx + "a switchover is in progress (phase SWITCHING at epoch " + t.epoch() + "); run 'ballast switchover"
                    + " --group " + g.group() + "' to finish or roll it back, then plan again");
            return out;
        }
        if (t.replicas().isEmpty()) {
            out.add(ctx + "has no replica, so no node can take the master's place while it is upgraded; add a replica"
                    + " (groups." + g.group() + ".replicas) or upgrade " + t.master() + " by hand with downtime");
            return out;
        }
        for (NodeAddress node : t.servers()) {
            boolean master = node.equals(t.master());
            String who = "node " + node + " (" + (master ? "master" : "replica") + " of " + g.group() + ")";
            NodeProbe p = g.probes().get(node);
            if (p == null || !p.reachable()) {
                out.add(ctx + who + " is not reachable" + (p == null ? "" : " (" + p.error() + ")") + "; start it, or"
                        + " remove it from the group, and plan again");
                continue;
            }
            Optional<ServerVersion> v = p.serverVersion();
            if (v.isEmpty()) {
                out.add(ctx + who + " did not report its version ('" + p.version() + "'); check that failover.admin may run"
                        + " SELECT VERSION() there");
                continue;
            }
            if (target.compare(v.get()) > 0) {
                out.add(ctx + who + " runs " + v.get().text() + ", newer than the target " + target + ": downgrades are"
                        + " not supported (replication from a newer master to an older replica is not); choose a target"
                        + " of at least " + v.get().number());
                continue;
            }
            Maintenance mark = g.drained().get(node);
            if (mark != null) {
                out.add(ctx + who + " is under maintenance (" + mark.reason() + (mark.by().isEmpty() ? "" : ", by "
                        + mark.by()) + "); finish that work and run 'ballast undrain --node " + node + "', then plan again");
                continue;
            }
            if (master) {
                if (p.readOnly()) {
                    out.add(ctx + who + " is read_only: it is fenced or not yet promoted; check 'ballast status' and"
                            + " plan again when the group has a writable master");
                }
                continue;
            }
            Optional<ReplicaThreads> r = p.replication();
            if (r.isEmpty()) {
                out.add(ctx + who + " is not configured as a replica; repoint it at " + t.master() + " ('ballast rejoin"
                        + " --node " + node + "') and plan again");
                continue;
            }
            ReplicaThreads th = r.get();
            if (!th.master().equals(t.master())) {
                out.add(ctx + who + " replicates from " + th.master() + ", not from the master " + t.master()
                        + "; repoint it ('ballast rejoin --node " + node + "') and plan again");
                continue;
            }
            if (th.io() != ReplicaThreads.IoState.YES || !th.sqlRunning()) {
                String err = !th.lastSqlError().isEmpty() ? th.lastSqlError() : th.lastIoError();
                out.add(ctx + who + " is not replicating (io " + th.io() + ", sql " + (th.sqlRunning() ? "running"
                        : "stopped") + (err.isEmpty() ? "" : ": " + err) + "); fix its replication and plan again");
                continue;
            }
            if (th.secondsBehind() > 0 && th.secondsBehind() * 1000 > maxLagMs) {
                out.add(ctx + who + " is " + th.secondsBehind() + " s behind its master, beyond readPolicy.maxReplicaLagMs="
                        + maxLagMs + "; wait until it catches up (or find why it lags) and plan again");
            }
        }
        return out;
    }

    private static ServerVersion version(GroupFacts g, NodeAddress node) {
        return g.probes().get(node).serverVersion().orElseThrow();
    }

    private static Map<String, String> params(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The plan as an operator reads it: one line per step with its command, then what is up to date. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        if (refused()) {
            b.append("refused: nothing was changed\n");
            refusals.forEach(r -> b.append("  ").append(r).append('\n'));
            return b.toString();
        }
        if (steps.isEmpty()) {
            b.append("nothing to upgrade: every node runs ").append(target).append('\n');
            return b.toString();
        }
        b.append("upgrade to ").append(target).append(": ").append(steps.size()).append(" steps\n");
        for (int i = 0; i < steps.size(); i++) {
            Step s = steps.get(i);
            b.append(String.format("  %2d. %s", i + 1, s.describe()));
            String command = s.action().parameters().get("command");
            if (command != null) {
                b.append(": ").append(command.isEmpty() ? "(not set: upgrade." + s.action().name() + "Command)" : command);
            } else if (s.action().name().equals(SWITCHOVER)) {
                b.append(": planned switchover from ").append(s.action().parameters().get("from"))
                        .append(" to an upgraded replica (writes held, not failed)");
            }
            b.append('\n');
        }
        upToDate.forEach(g -> b.append("  group ").append(g).append(" already runs ").append(target).append('\n'));
        return b.toString();
    }
}
