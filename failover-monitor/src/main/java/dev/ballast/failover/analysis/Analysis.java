package dev.ballast.failover.analysis;

import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Problem;
import dev.ballast.failover.model.Problem.Kind;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ReplicaThreads.IoState;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Names what is wrong with one replica group, from what every monitor last saw of each of its servers.
 *
 * <p>The master is judged by the monitors <em>and</em> by its replicas: it is dead only when every monitor with a
 * fresh probe of it failed to reach it and no reachable replica still hears from it, that is has its receiver connected
 * to it and has received something, heartbeats included, within {@code deadAfterHeartbeats} of its heartbeat periods
 * ({@link ReplicaThreads#hears}). A hung master sends no heartbeats, so its replicas fall silent within a few periods,
 * long before their receivers give up ({@code slave_net_timeout}); a master that only refuses the monitors (too many
 * connections, a firewall) keeps sending heartbeats and is {@link Kind#UNREACHABLE_MASTER}: promoting then would leave
 * two masters. A replica whose silence or heartbeat period is unknown hears its master while its receiver is
 * connected, as before heartbeats were used. Replicas are judged by their freshest reachable probe.
 *
 * <p>Problems come master first, then per replica in topology order; per replica in the order
 * {@link Kind#DEAD_REPLICA}, {@link Kind#REPLICATION_STOPPED}, {@link Kind#WRONG_MASTER},
 * {@link Kind#LAGGING_REPLICA}, {@link Kind#SLOW_HEARTBEAT}, {@link Kind#TWO_WRITABLE_NODES},
 * {@link Kind#ERRANT_TRANSACTIONS}. Probes of nodes outside the topology are ignored.
 */
public final class Analysis {

    private Analysis() {
    }

    /**
     * @param topology  who the group's master and replicas are
     * @param byMonitor monitor id to that monitor's latest probe of each node (a monitor may lack some nodes)
     * @param settings  limits and the time of the analysis
     * @return the problems, empty when the group is healthy
     */
    public static List<Problem> analyse(GroupTopology topology, Map<String, Map<NodeAddress, NodeProbe>> byMonitor,
                                        AnalysisSettings settings) {
        return analyse(topology, byMonitor, settings, Set.of());
    }

    /**
     * As {@link #analyse(GroupTopology, Map, AnalysisSettings)}, knowing the nodes with a maintenance mark. A drained
     * replica is expected to be down or not replicating (it is being stopped, upgraded, started): neither
     * {@link Kind#DEAD_REPLICA} nor {@link Kind#REPLICATION_STOPPED} is reported for it. What a drained replica does
     * wrong while up is still reported ({@link Kind#WRONG_MASTER}, {@link Kind#LAGGING_REPLICA},
     * {@link Kind#TWO_WRITABLE_NODES}, {@link Kind#ERRANT_TRANSACTIONS}), and fencing is unchanged. The mark does not
     * protect a master: a drained master that dies is {@link Kind#DEAD_MASTER} as any other, and is failed over (an
     * upgrade pauses then, it does not hold the group without a master).
     *
     * @param drained nodes with a maintenance mark (of any group; others are ignored)
     */
    public static List<Problem> analyse(GroupTopology topology, Map<String, Map<NodeAddress, NodeProbe>> byMonitor,
                                        AnalysisSettings settings, Set<NodeAddress> drained) {
        Objects.requireNonNull(drained, "drained");
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(byMonitor, "byMonitor");
        Objects.requireNonNull(settings, "settings");
        // Sorted by monitor id, so details read the same whatever map the caller passed.
        Map<String, Map<NodeAddress, NodeProbe>> monitors = new TreeMap<>(byMonitor);

        Sightings master = Sightings.of(topology.master(), monitors, settings);
        Map<NodeAddress, Sightings> replicas = new LinkedHashMap<>();   // topology order
        for (NodeAddress replica : topology.replicas()) {
            replicas.put(replica, Sightings.of(replica, monitors, settings));
        }

        List<Problem> problems = new ArrayList<>();
        Optional<Problem> masterProblem = masterProblem(topology, master, replicas, settings);
        masterProblem.ifPresent(problems::add);
        boolean masterDead = masterProblem.map(p -> p.kind() != Kind.UNREACHABLE_MASTER).orElse(false);
        Optional<NodeProbe> masterProbe = master.freshestReachable();

        for (Sightings replica : replicas.values()) {
            replicaProblems(topology, replica, masterDead, masterProbe, settings, problems, drained.contains(replica.node()));
        }
        return List.copyOf(problems);
    }

    private static Optional<Problem> masterProblem(GroupTopology topology, Sightings master,
                                                   Map<NodeAddress, Sightings> replicas, AnalysisSettings settings) {
        String group = topology.group();
        NodeAddress node = topology.master();
        List<Sighting> up = master.reachable();
        List<Sighting> down = master.unreachable();
        if (!up.isEmpty()) {
            if (down.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Problem(Kind.UNREACHABLE_MASTER, group, node,
                    "reachable from " + monitors(up) + " but not from " + failures(down)
                            + "; not dead while any monitor reaches it"));
        }
        if (down.isEmpty()) {
            return Optional.of(new Problem(Kind.UNREACHABLE_MASTER, group, node,
                    "no fresh probe from any monitor (" + master.staleCount() + " stale ignored): cannot tell whether it is alive"));
        }

        int periods = settings.deadAfterHeartbeats();
        List<String> stillHearing = new ArrayList<>();
        for (Sightings replica : replicas.values()) {
            replica.freshestReachable()
                    .flatMap(NodeProbe::replication)
                    .filter(r -> r.hears(node, periods))
                    .ifPresent(r -> stillHearing.add(replica.node() + " " + hearingText(r, periods)));
        }
        if (!stillHearing.isEmpty()) {
            return Optional.of(new Problem(Kind.UNREACHABLE_MASTER, group, node,
                    "unreachable from every monitor: " + failures(down) + "; but replicas still hear from it ("
                            + String.join(", ", stillHearing) + "): alive; a master is dead only when its replicas have "
                            + "received nothing, heartbeats included, for " + periods + " heartbeat periods or their "
                            + "receivers gave up"));
        }

        long reachableReplicas = replicas.values().stream().filter(s -> s.freshestReachable().isPresent()).count();
        Kind kind;
        if (reachableReplicas == 0) {
            kind = Kind.DEAD_MASTER_AND_REPLICAS;   // also a group without replicas: nothing to promote
        } else if (reachableReplicas == replicas.size()) {
            kind = Kind.DEAD_MASTER;
        } else {
            kind = Kind.DEAD_MASTER_AND_SOME_REPLICAS;
        }
        List<String> views = new ArrayList<>();
        for (Sightings replica : replicas.values()) {
            views.add(replicaView(replica, node));
        }
        String replicaText = views.isEmpty() ? "no replicas" : "replicas: " + String.join("; ", views);
        return Optional.of(new Problem(kind, group, node,
                "unreachable from every monitor: " + failures(down) + "; no replica hears from it; " + replicaText));
    }

    /** How one replica sees the dead master, for the master problem's detail. */
    private static String replicaView(Sightings replica, NodeAddress master) {
        Optional<NodeProbe> probe = replica.freshestReachable();
        if (probe.isEmpty()) {
            return replica.node() + " unreachable: " + replica.whyUnreachable();
        }
        return probe.get().replication()
                .map(r -> replica.node() + " " + ioText(r) + (master.equals(r.master()) ? silenceText(r) : " from " + r.master()))
                .orElse(replica.node() + " not replicating");
    }

    /** Why a replica counts as hearing its master. */
    private static String hearingText(ReplicaThreads r, int periods) {
        if (r.silentMs() < 0) {
            return "io YES, silence unknown";
        }
        if (r.heartbeatPeriodMs() <= 0) {
            return "io YES, received " + r.silentMs() + " ms ago, no heartbeat period to judge silence by";
        }
        return "io YES, received " + r.silentMs() + " ms ago (< " + periods + " x heartbeat " + r.heartbeatPeriodMs() + " ms)";
    }

    /** How long a replica connected to a dead master had heard nothing. */
    private static String silenceText(ReplicaThreads r) {
        if (r.io() != IoState.YES || r.silentMs() < 0) {
            return "";
        }
        return ", nothing received for " + r.silentMs() + " ms (heartbeat " + r.heartbeatPeriodMs() + " ms)";
    }

    private static void replicaProblems(GroupTopology topology, Sightings replica, boolean masterDead,
                                        Optional<NodeProbe> masterProbe, AnalysisSettings settings,
                                        List<Problem> problems, boolean drained) {
        String group = topology.group();
        NodeAddress node = replica.node();
        Optional<NodeProbe> seen = replica.freshestReachable();
        if (seen.isEmpty()) {
            if (!masterDead && !drained) {
                problems.add(new Problem(Kind.DEAD_REPLICA, group, node,
                        "unreachable by every monitor: " + replica.whyUnreachable()));
            }
            return;
        }
        NodeProbe probe = seen.get();
        Optional<ReplicaThreads> replication = probe.replication();

        if (!masterDead && !drained) {
            // With a dead master the IO threads are expected to be CONNECTING: not a problem of its own; a drained
            // replica's replication may be stopped on purpose.
            if (replication.isEmpty()) {
                problems.add(new Problem(Kind.REPLICATION_STOPPED, group, node,
                        "not configured as a replica (no replica status)"));
            } else if (!replication.get().healthy()) {
                problems.add(new Problem(Kind.REPLICATION_STOPPED, group, node, threadsText(replication.get())));
            }
        }
        if (replication.isPresent()) {
            ReplicaThreads r = replication.get();
            if (!topology.master().equals(r.master())) {
                problems.add(new Problem(Kind.WRONG_MASTER, group, node,
                        "replicates from " + r.master() + ", the topology's master is " + topology.master()));
            }
            if (r.secondsBehind() > settings.maxLagSeconds()) {
                problems.add(new Problem(Kind.LAGGING_REPLICA, group, node,
                        r.secondsBehind() + " s behind its master, limit " + settings.maxLagSeconds() + " s"));
            }
            if (!masterDead && topology.master().equals(r.master()) && r.io() == IoState.YES && r.heartbeatPeriodMs() >= 0
                    && (r.heartbeatPeriodMs() == 0 || r.heartbeatPeriodMs() > settings.heartbeatPeriodMs())) {
                String seconds = String.valueOf(settings.heartbeatPeriodMs() / 1000.0);
                problems.add(new Problem(Kind.SLOW_HEARTBEAT, group, node, (r.heartbeatPeriodMs() == 0 ? "heartbeats are off"
                        : "heartbeat period " + r.heartbeatPeriodMs() + " ms") + ", failover.heartbeatPeriodMs is "
                        + settings.heartbeatPeriodMs() + " ms: if the master hangs, this replica notices only after "
                        + "slave_net_timeout; set it (STOP SLAVE; CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=" + seconds
                        + "; START SLAVE; on MySQL SOURCE_HEARTBEAT_PERIOD)"));
            }
        }
        if (probe.writable()) {
            problems.add(new Problem(Kind.TWO_WRITABLE_NODES, group, node,
                    "read_only is off on a node that is not the master " + topology.master()));
        }
        if (!masterDead) {
            masterProbe.filter(m -> m.executed() != null)
                    .flatMap(m -> errant(replica, m))
                    .ifPresent(detail -> problems.add(new Problem(Kind.ERRANT_TRANSACTIONS, group, node, detail)));
        }
    }

    /**
     * Whether the replica has transactions the master does not, and why we think so. A replica probed after the
     * master may hold transactions the master wrote between the two probes, so the replica probe compared is the
     * freshest one not newer than the master's. When every probe of the replica is newer, its extra transactions
     * count as errant only if they did not arrive through replication (its {@code executed} is not covered by its
     * {@code received}: MariaDB local writes). With MySQL, whose {@code received} includes {@code executed}, that
     * second test never fires: errant transactions show once a monitor probes the master after the replica.
     */
    private static Optional<String> errant(Sightings replica, NodeProbe master) {
        List<NodeProbe> probes = replica.reachable().stream().map(Sighting::probe).filter(p -> p.executed() != null)
                .sorted(Comparator.comparingLong(NodeProbe::probedAtMillis).reversed()).toList();
        Optional<NodeProbe> older = probes.stream().filter(p -> p.probedAtMillis() <= master.probedAtMillis()).findFirst();
        if (older.isPresent()) {
            NodeProbe p = older.get();
            if (master.executed().covers(p.executed())) {
                return Optional.empty();
            }
            return Optional.of("executed " + p.executed() + " is not covered by the master's executed "
                    + master.executed() + " (master probed at " + master.probedAtMillis() + ", replica at "
                    + p.probedAtMillis() + ")");
        }
        if (probes.isEmpty()) {
            return Optional.empty();
        }
        NodeProbe p = probes.get(0);
        if (master.executed().covers(p.executed())) {
            return Optional.empty();
        }
        Optional<ReplicaThreads> r = p.replication().filter(t -> t.received() != null);
        if (r.isPresent() && r.get().received().covers(p.executed())) {
            return Optional.empty();   // probably what the master wrote after its probe
        }
        return Optional.of("executed " + p.executed() + " is covered neither by the master's executed "
                + master.executed() + " nor by what it received from replication "
                + r.map(t -> t.received().toString()).orElse("(none)") + ": written locally");
    }

    private static String threadsText(ReplicaThreads r) {
        StringBuilder s = new StringBuilder(ioText(r));
        s.append(", sql ").append(r.sqlRunning() ? "running" : "stopped");
        if (r.lastSqlErrno() != 0) {
            s.append(" errno ").append(r.lastSqlErrno()).append(" (").append(r.lastSqlError()).append(')');
        }
        return s.toString();
    }

    private static String ioText(ReplicaThreads r) {
        String s = "io " + r.io();
        if (r.lastIoErrno() != 0) {
            s += " errno " + r.lastIoErrno() + " (" + r.lastIoError() + ")";
        }
        return s;
    }

    private static String monitors(List<Sighting> sightings) {
        return String.join(", ", sightings.stream().map(Sighting::monitor).toList());
    }

    private static String failures(List<Sighting> sightings) {
        return String.join(", ", sightings.stream().map(s -> s.monitor() + " (" + s.probe().error() + ")").toList());
    }

    /** One monitor's fresh probe of one node. */
    private record Sighting(String monitor, NodeProbe probe) {
    }

    /** What the monitors saw of one node: fresh probes in monitor order, and how many were ignored as stale. */
    private record Sightings(NodeAddress node, List<Sighting> fresh, int staleCount) {

        static Sightings of(NodeAddress node, Map<String, Map<NodeAddress, NodeProbe>> monitors,
                            AnalysisSettings settings) {
            List<Sighting> fresh = new ArrayList<>();
            int stale = 0;
            for (Map.Entry<String, Map<NodeAddress, NodeProbe>> monitor : monitors.entrySet()) {
                NodeProbe probe = monitor.getValue() == null ? null : monitor.getValue().get(node);
                if (probe == null) {
                    continue;
                }
                if (settings.fresh(probe.probedAtMillis())) {
                    fresh.add(new Sighting(monitor.getKey(), probe));
                } else {
                    stale++;
                }
            }
            return new Sightings(node, List.copyOf(fresh), stale);
        }

        List<Sighting> reachable() {
            return fresh.stream().filter(s -> s.probe().reachable()).toList();
        }

        List<Sighting> unreachable() {
            return fresh.stream().filter(s -> !s.probe().reachable()).toList();
        }

        /** The newest reachable probe; on equal times the first monitor's. */
        Optional<NodeProbe> freshestReachable() {
            NodeProbe best = null;
            for (Sighting s : reachable()) {
                if (best == null || s.probe().probedAtMillis() > best.probedAtMillis()) {
                    best = s.probe();
                }
            }
            return Optional.ofNullable(best);
        }

        /** Why no monitor reached it: each monitor's error, or that no fresh probe exists. */
        String whyUnreachable() {
            List<Sighting> down = unreachable();
            if (down.isEmpty()) {
                return "no fresh probe" + (staleCount == 0 ? "" : ", " + staleCount + " stale ignored");
            }
            return failures(down);
        }
    }
}
