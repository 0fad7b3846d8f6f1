package dev.ballast.failover.analysis;

import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Plan;
import dev.ballast.failover.model.PromotionRule;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.failover.model.Verdict;
import dev.ballast.failover.model.Verdict.Standing;
import dev.ballast.replication.Position;
import dev.ballast.replication.ServerVersion;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Chooses the replica to promote when a group's master is dead ({@link #plan}) or is moved by a planned switchover
 * ({@link #switchover}): the one that has received the most from it (by GTID), honouring the promotion rules among
 * equally advanced replicas.
 *
 * <p>A replica is unusable when it is unreachable, has no replica status or no received position, is
 * {@link PromotionRule#MUST_NOT}, or has errant transactions (its {@code executed} is not covered by its own
 * {@code received}: it wrote locally). The candidate's {@code received} must cover every other usable replica's
 * {@code received}; when no replica's does (MySQL sets can be incomparable), nobody is promoted. An excluded replica
 * that received more than the candidate is said to be ahead: repointing it would lose its extra transactions.
 *
 * <p>A replica that an interrupted recovery already promoted (writable, not replicating, its {@code executed} covering
 * every usable replica's {@code received}) is the candidate again, so a rerun finishes the same promotion.
 *
 * <p>Version-aware: a replica older than any other replica of the group is never promoted (see {@link #refuseOlder});
 * its verdict says so.
 *
 * <p>Positions are all of the group's flavour (the probes parse them so); mixing flavours throws.
 */
public final class Planner {

    private Planner() {
    }

    /**
     * @param topology the group as it was when its master died
     * @param replicas the latest probe of each replica, taken after the recovery stopped their IO threads; a missing
     *                 entry means unreachable; entries for nodes outside the topology are ignored
     * @param rules    promotion rule per node; missing means {@link PromotionRule#NEUTRAL}
     * @return the candidate (if any), what it must apply before promotion, and one verdict per replica in topology
     *         order
     */
    public static Plan plan(GroupTopology topology, Map<NodeAddress, NodeProbe> replicas,
                            Map<NodeAddress, PromotionRule> rules) {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(replicas, "replicas");
        Objects.requireNonNull(rules, "rules");

        Map<NodeAddress, Entry> entries = new LinkedHashMap<>();
        for (NodeAddress node : topology.replicas()) {
            entries.put(node, classify(node, replicas.get(node), rules.getOrDefault(node, PromotionRule.NEUTRAL)));
        }
        refuseOlder(entries, replicas);
        List<Entry> usable = entries.values().stream().filter(e -> e.kind == Kind.USABLE).toList();
        List<Entry> promoted = entries.values().stream().filter(e -> e.kind == Kind.PROMOTED).toList();

        Entry resumed = resumePromotion(promoted, usable);
        for (Entry p : promoted) {
            if (p == resumed) {
                p.verdict(Standing.CANDIDATE, "already promoted by an interrupted recovery: writable, not "
                        + "replicating, executed " + p.position + " covers every usable replica's received; rule "
                        + ruleText(p.rule));
            } else {
                p.kind = Kind.EXCLUDED;
                p.reason = "writable and not replicating, as if promoted, "
                        + (resumed != null ? "but so is the candidate " + resumed.node
                                : "but its executed " + p.position + " does not cover what every other replica has");
            }
        }
        Entry candidate = resumed != null ? resumed : mostAdvanced(usable);

        for (Entry e : entries.values()) {
            if (e.standing != null) {
                continue;
            }
            if (e.kind == Kind.USABLE && candidate != null) {
                rank(e, candidate, resumed != null);
            } else if (e.kind == Kind.USABLE) {
                e.verdict(Standing.UNUSABLE, "positions diverge: received " + e.position
                        + "; no usable replica's received covers all the others' (" + positions(usable) + ")");
            } else {
                String reason = e.reason;
                if (candidate != null && e.position != null && !candidate.position.covers(e.position)) {
                    reason += "; ahead of the candidate " + candidate.node + ": " + e.position
                            + " is not covered by the candidate's " + candidate.position
                            + ", so it cannot be repointed without losing its extra transactions";
                }
                e.verdict(Standing.UNUSABLE, reason);
            }
        }

        List<Verdict> verdicts = entries.values().stream().map(e -> new Verdict(e.node, e.standing, e.verdictReason)).toList();
        Position mustApply = candidate != null ? candidate.position : Position.empty(flavour(replicas, topology));
        return new Plan(topology.group(), Optional.ofNullable(candidate).map(e -> e.node), mustApply, verdicts);
    }

    /**
     * Chooses the replica a planned switchover promotes while the master still serves. The verdicts are the failover's
     * (unreachable, {@code must_not}, errant transactions, the most advanced by received GTIDs, the rules among equals),
     * plus what a live master requires: a replica must replicate from {@code topology.master()} now, both threads
     * running, for it to catch up once the master is read-only; and no replica counts as "already promoted".
     *
     * <p>With {@code to}, that replica is the candidate when it is usable. When it is not, the plan has no candidate,
     * {@code to}'s verdict says why, and every other usable replica is {@link Standing#EQUAL} or {@link Standing#BEHIND}
     * the one that would be chosen without {@code to} (the ways out).
     *
     * @param to a replica named by the operator; it must be one of {@code topology.replicas()}
     * @throws IllegalArgumentException when {@code to} is not a replica of the topology
     */
    public static Plan switchover(GroupTopology topology, Map<NodeAddress, NodeProbe> replicas,
                                  Map<NodeAddress, PromotionRule> rules, Optional<NodeAddress> to) {
        Objects.requireNonNull(topology, "topology");
        Objects.requireNonNull(replicas, "replicas");
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(to, "to");
        if (to.isPresent() && !topology.replicas().contains(to.get())) {
            throw new IllegalArgumentException(to.get() + " is not a replica of group " + topology.group() + " "
                    + topology.replicas());
        }
        Map<NodeAddress, Entry> entries = new LinkedHashMap<>();
        for (NodeAddress node : topology.replicas()) {
            PromotionRule rule = rules.getOrDefault(node, PromotionRule.NEUTRAL);
            Entry e = classify(node, replicas.get(node), rule);
            if (e.kind == Kind.PROMOTED) {
                e = Entry.excluded(node, rule, null, "writable and not replicating: it is not a replica of the master "
                        + topology.master());
            } else if (e.kind == Kind.USABLE) {
                e = liveMasterCheck(e, replicas.get(node), topology.master());
            }
            entries.put(node, e);
        }
        refuseOlder(entries, replicas);
        List<Entry> usable = entries.values().stream().filter(e -> e.kind == Kind.USABLE).toList();
        Entry named = to.map(entries::get).orElse(null);
        Entry candidate;
        if (named == null) {
            candidate = mostAdvanced(usable);
        } else if (named.kind == Kind.USABLE) {
            candidate = named;
            named.verdict(Standing.CANDIDATE, "named by the operator (--to): received " + named.position + "; rule "
                    + ruleText(named.rule));
        } else {
            candidate = null;
        }
        Entry reference = candidate;
        if (named != null && candidate == null) {
            // refused: judge the others against the automatic choice, so the refusal can name the ways out
            reference = mostAdvanced(usable);
            if (reference != null) {
                reference.verdict(Standing.EQUAL, "usable: received " + reference.position + ", the most advanced; "
                        + "the choice without --to; rule " + ruleText(reference.rule));
            }
        }
        for (Entry e : entries.values()) {
            if (e.standing != null) {
                continue;
            }
            if (e.kind == Kind.USABLE && reference != null) {
                if (e.position.covers(reference.position)) {
                    e.verdict(Standing.EQUAL, "received " + e.position + ", as advanced as " + reference.node
                            + "; rule " + ruleText(e.rule));
                } else {
                    e.verdict(Standing.BEHIND, "behind: received " + e.position + " < " + reference.position + " of "
                            + reference.node);
                }
            } else if (e.kind == Kind.USABLE) {
                e.verdict(Standing.UNUSABLE, "positions diverge: received " + e.position
                        + "; no usable replica's received covers all the others' (" + positions(usable) + ")");
            } else {
                e.verdict(Standing.UNUSABLE, e.reason);
            }
        }
        List<Verdict> verdicts = entries.values().stream().map(e -> new Verdict(e.node, e.standing, e.verdictReason)).toList();
        Position mustApply = candidate != null ? candidate.position : Position.empty(flavour(replicas, topology));
        return new Plan(topology.group(), Optional.ofNullable(candidate).map(e -> e.node), mustApply, verdicts);
    }

    /**
     * Version-aware promotion: a usable replica older than any replica of the group (by {@code SELECT VERSION()},
     * compared numerically, {@link ServerVersion}) is excluded, because the newer replica would then replicate from an
     * older master, which MariaDB does not support. A replica whose version is unknown (no probe, unreachable, a probe
     * from a monitor before issue 12) neither is excluded nor excludes others: no constraint. The old master is not
     * counted: in a rolling upgrade it is the node still to be upgraded. A replica that an interrupted recovery already
     * promoted is not judged again.
     */
    private static void refuseOlder(Map<NodeAddress, Entry> entries, Map<NodeAddress, NodeProbe> replicas) {
        NodeAddress newestNode = null;
        ServerVersion newest = null;
        for (NodeAddress node : entries.keySet()) {
            NodeProbe p = replicas.get(node);
            Optional<ServerVersion> v = p == null || !p.reachable() ? Optional.empty() : p.serverVersion();
            if (v.isPresent() && (newest == null || newest.olderThan(v.get()))) {
                newest = v.get();
                newestNode = node;
            }
        }
        if (newest == null) {
            return;
        }
        for (Entry e : entries.values()) {
            if (e.kind != Kind.USABLE) {
                continue;
            }
            Optional<ServerVersion> v = replicas.get(e.node).serverVersion();
            if (v.isPresent() && v.get().olderThan(newest)) {
                e.kind = Kind.EXCLUDED;
                e.reason = "version " + v.get().number() + " is older than " + newest.number() + " of replica " + newestNode
                        + ": promoting it would leave a newer replica replicating from an older master, which is not "
                        + "supported; upgrade " + e.node + " first, or promote a replica on " + newest.number()
                        + "; received " + e.position;
            }
        }
    }

    /**
     * The promotion rules with every drained node (maintenance mark) at least {@link PromotionRule#PREFER_NOT}: a drained
     * replica is promoted only when no other usable replica is as advanced (a less advanced one would lose transactions);
     * {@code must_not} stays {@code must_not}.
     */
    public static Map<NodeAddress, PromotionRule> withDrained(Map<NodeAddress, PromotionRule> rules,
                                                              java.util.Set<NodeAddress> drained) {
        Map<NodeAddress, PromotionRule> out = new java.util.HashMap<>(rules);
        for (NodeAddress node : drained) {
            PromotionRule rule = out.getOrDefault(node, PromotionRule.NEUTRAL);
            if (rule.ordinal() < PromotionRule.PREFER_NOT.ordinal()) {
                out.put(node, PromotionRule.PREFER_NOT);
            }
        }
        return out;
    }

    /** A usable replica of a live master must replicate from it now, both threads running, to catch up before promotion. */
    private static Entry liveMasterCheck(Entry e, NodeProbe probe, NodeAddress master) {
        ReplicaThreads r = probe.replication().orElseThrow();
        if (!master.equals(r.master())) {
            return Entry.excluded(e.node, e.rule, e.position, "replicates from " + r.master() + ", not from the master "
                    + master);
        }
        if (!r.healthy()) {
            StringBuilder why = new StringBuilder("replication is not running (io ").append(r.io().name().toLowerCase(Locale.ROOT))
                    .append(", sql ").append(r.sqlRunning() ? "running" : "stopped").append(')');
            if (r.lastSqlErrno() != 0) {
                why.append("; last SQL error ").append(r.lastSqlErrno()).append(": ").append(r.lastSqlError());
            }
            if (r.lastIoErrno() != 0) {
                why.append("; last IO error ").append(r.lastIoErrno()).append(": ").append(r.lastIoError());
            }
            return Entry.excluded(e.node, e.rule, e.position, why + "; it cannot catch up with the master");
        }
        return e;
    }

    private static Entry classify(NodeAddress node, NodeProbe probe, PromotionRule rule) {
        if (probe == null || !probe.reachable()) {
            String why = probe == null ? "no probe" : probe.error();
            return Entry.excluded(node, rule, null, "unreachable (" + why + ")");
        }
        Optional<ReplicaThreads> replication = probe.replication();
        if (replication.isEmpty()) {
            if (probe.writable() && probe.executed() != null) {
                if (rule == PromotionRule.MUST_NOT) {
                    return Entry.excluded(node, rule, probe.executed(), "rule must_not (yet writable and not replicating)");
                }
                return new Entry(node, rule, probe.executed(), Kind.PROMOTED, null);
            }
            return Entry.excluded(node, rule, null, "no replication info (not configured as a replica)");
        }
        Position received = replication.get().received();
        if (received == null) {
            return Entry.excluded(node, rule, null, "received position unknown");
        }
        if (rule == PromotionRule.MUST_NOT) {
            return Entry.excluded(node, rule, received, "rule must_not; received " + received);
        }
        if (probe.executed() != null && !received.covers(probe.executed())) {
            return Entry.excluded(node, rule, received, "errant transactions: executed " + probe.executed()
                    + " is not covered by received " + received + " (written locally)");
        }
        return new Entry(node, rule, received, Kind.USABLE, null);
    }

    /** The replica an interrupted recovery promoted, if one qualifies; the rules then topology order pick among equals. */
    private static Entry resumePromotion(List<Entry> promoted, List<Entry> usable) {
        Entry best = null;
        for (Entry p : promoted) {
            boolean coversAll = usable.stream().allMatch(u -> p.position.covers(u.position))
                    && promoted.stream().allMatch(q -> p.position.covers(q.position));
            if (coversAll && (best == null || p.rule.ordinal() < best.rule.ordinal())) {
                best = p;
            }
        }
        return best;
    }

    /** The usable replica whose received covers every other's, best rule first, then topology order; null if none. */
    private static Entry mostAdvanced(List<Entry> usable) {
        Entry best = null;
        for (Entry e : usable) {
            boolean coversAll = usable.stream().allMatch(o -> e.position.covers(o.position));
            if (coversAll && (best == null || e.rule.ordinal() < best.rule.ordinal())) {
                best = e;
            }
        }
        if (best != null) {
            Entry chosen = best;
            List<String> equals = usable.stream().filter(o -> o != chosen && o.position.covers(chosen.position))
                    .map(o -> o.node.toString()).toList();
            best.verdict(Standing.CANDIDATE, "received " + best.position + ", most advanced"
                    + (equals.isEmpty() ? "" : " (as are " + String.join(", ", equals) + ")")
                    + "; rule " + ruleText(best.rule));
        }
        return best;
    }

    /** A usable replica that is not the candidate: as advanced (received covers the candidate's) or behind. */
    private static void rank(Entry e, Entry candidate, boolean resumed) {
        if (e.position.covers(candidate.position)) {
            String why = resumed ? "rule " + ruleText(e.rule) + ", but the candidate is already promoted"
                    : e.rule == candidate.rule
                    ? "rule " + ruleText(e.rule) + " like the candidate's, which comes first in topology order"
                    : "rule " + ruleText(e.rule) + ", the candidate's " + ruleText(candidate.rule) + " wins";
            e.verdict(Standing.EQUAL, "received " + e.position + ", as advanced as the candidate " + candidate.node
                    + "; " + why);
        } else {
            e.verdict(Standing.BEHIND, "behind: received " + e.position + " < " + candidate.position
                    + " of the candidate " + candidate.node);
        }
    }

    private static String positions(List<Entry> entries) {
        return String.join("; ", entries.stream().map(e -> e.node + ": " + e.position).toList());
    }

    private static String ruleText(PromotionRule rule) {
        return rule.name().toLowerCase(Locale.ROOT);
    }

    /** The flavour of any position among the probes, MariaDB when there is none. */
    private static Flavour flavour(Map<NodeAddress, NodeProbe> replicas, GroupTopology topology) {
        for (NodeAddress node : topology.replicas()) {
            NodeProbe p = replicas.get(node);
            if (p == null) {
                continue;
            }
            if (p.executed() != null) {
                return p.executed().flavour();
            }
            Optional<Position> received = p.replication().map(ReplicaThreads::received);
            if (received.isPresent()) {
                return received.get().flavour();
            }
        }
        return Flavour.MARIADB;
    }

    private enum Kind {
        /** May be promoted; position = received. */
        USABLE,
        /** Looks promoted by an earlier recovery; position = executed. */
        PROMOTED,
        /** Unusable; position = what it received (for the "ahead" warning), null when unknown. */
        EXCLUDED
    }

    /** One replica while the plan is made. */
    private static final class Entry {
        final NodeAddress node;
        final PromotionRule rule;
        final Position position;
        Kind kind;
        String reason;
        Standing standing;
        String verdictReason;

        Entry(NodeAddress node, PromotionRule rule, Position position, Kind kind, String reason) {
            this.node = node;
            this.rule = rule;
            this.position = position;
            this.kind = kind;
            this.reason = reason;
        }

        static Entry excluded(NodeAddress node, PromotionRule rule, Position position, String reason) {
            return new Entry(node, rule, position, Kind.EXCLUDED, reason);
        }

        void verdict(Standing s, String why) {
            standing = s;
            verdictReason = why;
        }
    }
}
