package dev.ballast.upgrade.mongo;

import dev.ballast.mongo.MemberStatus;
import dev.ballast.mongo.MongoSwitchover;
import dev.ballast.mongo.MongoUpgradePlan;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.UpgradeSettings;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.Step;
import dev.ballast.upgrade.StepAction;
import dev.ballast.upgrade.StepAction.Check;
import dev.ballast.upgrade.server.Shell;
import org.bson.Document;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The {@link StepAction}s of a MongoDB rolling upgrade ({@link MongoUpgradePlan}'s action names), against the live
 * replica set: each check looks at the set again ({@link ReplicaSetProbe}) and each action can run twice. A member
 * that already runs the target version and is healthy is a no-op for every step of its own.
 *
 * <ul>
 *   <li>{@code mongo-stop}: the stop command; the member must stop answering within {@code upgrade.stopTimeoutMs}.
 *       Refused while it is the primary, while another member is down (two members down may cost the majority), or
 *       while the set has no primary.</li>
 *   <li>{@code mongo-install}: the install command, on a stopped member.</li>
 *   <li>{@code mongo-start}: the start command; the member must answer within {@code upgrade.startTimeoutMs} and run
 *       the target.</li>
 *   <li>{@code mongo-await-secondary}: waits (at most {@code upgrade.catchUpTimeoutMs}) until the member answers as
 *       SECONDARY (or ARBITER) on the target, with its last write within {@code readPolicy.maxReplicaLagMs} of the
 *       primary's. A member the set elected primary again (priority takeover) passes too.</li>
 *   <li>{@code mongo-step-down}: once the heir is an upgraded SECONDARY, a {@link MongoSwitchover} to it, recorded in
 *       the audit log ({@link MongoAudit#switchover}). The primary already on the target: done.</li>
 * </ul>
 *
 * <p>Not guaranteed: MongoDB elects by itself, so a primary that changed during the operation (a crash, a priority
 * takeover) is only seen by the next check; a step whose member became primary pauses the operation, naming it.
 */
public final class MongoUpgradeActions implements AutoCloseable {

    private final ClusterConfig config;
    private final MongoReplicaSetConfig rs;
    private final TopologyStore store;
    private final String by;
    private final UpgradeSettings settings;
    private final ReplicaSetProbe probe;

    /** Opens one connection per member (closed by {@link #close}); {@code store} receives the audit records. */
    public MongoUpgradeActions(ClusterConfig config, MongoReplicaSetConfig rs, TopologyStore store, String by) {
        this.config = config;
        this.rs = rs;
        this.store = store;
        this.by = by;
        this.settings = config.upgrade();
        this.probe = new ReplicaSetProbe(rs);
    }

    /** The actions by name, for a {@link dev.ballast.upgrade.Runner}. */
    public Map<String, StepAction> actions() {
        Map<String, StepAction> m = new LinkedHashMap<>();
        m.put(MongoUpgradePlan.STOP, new Stop());
        m.put(MongoUpgradePlan.INSTALL, new Install());
        m.put(MongoUpgradePlan.START, new Start());
        m.put(MongoUpgradePlan.AWAIT, new AwaitSecondary());
        m.put(MongoUpgradePlan.STEP_DOWN, new StepDown());
        return m;
    }

    /** One look at the set now (every member asked at once). */
    public ReplicaSetStatus status() {
        return probe.probe();
    }

    /**
     * The set's featureCompatibilityVersion as its primary reports it; empty without a primary or when it cannot be
     * read (then the plan does not check it).
     */
    public Optional<String> featureCompatibilityVersion(ReplicaSetStatus s) {
        try {
            return s.primary().map(p -> MongoFeatureCompatibility.read(probe, p.member()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        probe.close();
    }

    // ---- shared checks ----

    private String set() {
        return "replica set " + rs.name();
    }

    private static String target(Step step) {
        return step.action().parameter("version");
    }

    private MemberStatus member(ReplicaSetStatus s, Step step) {
        return s.member(step.node()).orElseThrow(() -> new IllegalStateException(step.node() + " is not a member of "
                + set() + " in the config any more (members: " + rs.members() + "); abort this operation and plan"
                + " again"));
    }

    /** Answers on the target version in a serving state (PRIMARY, SECONDARY or ARBITER). */
    private static boolean healthyOn(MemberStatus m, String target) {
        return m.reachable() && MongoUpgradePlan.reaches(m.version(), target)
                && (m.isPrimary() || m.isSecondary() || "ARBITER".equals(m.state()));
    }

    private static String looks(MemberStatus m) {
        return m.reachable() ? m.state() + " on " + (m.version().isEmpty() ? "an unknown version" : m.version())
                : "down (" + m.error() + ")";
    }

    /** The set with a primary: looks again for up to {@code serverSelectionTimeoutMs} while an election runs. */
    private ReplicaSetStatus withPrimary(ReplicaSetStatus s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(rs.serverSelectionTimeoutMs());
        while (s.primary().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(200);
            s = probe.probe();
        }
        return s;
    }

    private static String states(ReplicaSetStatus s) {
        return String.join(", ", s.members().stream().map(m -> m.member() + " " + looks(m)).toList());
    }

    /** True when the member answers a ping now (at most the probe's timeout when it does not). */
    private boolean answers(String member) {
        try {
            probe.command(member, new Document("ping", 1));
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private Shell.Outcome run(Step step) throws Exception {
        String command = step.action().parameter("command");
        String key = step.action().parameters().getOrDefault("commandKey", "the command");
        if (command.isEmpty()) {
            throw new IllegalStateException(key + " is not set; set it in the config and resume");
        }
        return Shell.run(key, command, NodeAddress.parse(step.node()), target(step), settings.commandTimeoutMs());
    }

    private static String tail(Shell.Outcome o) {
        return o.tail().isEmpty() ? "" : "; output: " + o.tail();
    }

    // ---- the actions ----

    /** The stop command, on a member that is not the primary while every other member is up. */
    final class Stop implements StepAction {
        @Override
        public Check check(Operation op, Step step) throws InterruptedException {
            ReplicaSetStatus s = status();
            MemberStatus m = member(s, step);
            if (healthyOn(m, target(step))) {
                return Check.alreadyDone(m.member() + " already runs " + m.version() + " (" + m.state() + ")");
            }
            if (!m.reachable()) {
                return Check.alreadyDone(m.member() + " does not answer: it is stopped (" + m.error() + ")");
            }
            if (m.isPrimary()) {
                return Check.notReady(m.member() + " is the primary of " + set() + " (term " + s.term() + "); it is"
                        + " stopped only after a step-down moved the primary away; step it down ('ballast switchover"
                        + " --group " + rs.name() + "') and resume");
            }
            for (MemberStatus other : s.members()) {
                if (!other.member().equals(m.member()) && !other.reachable()) {
                    return Check.notReady("member " + other.member() + " of " + set() + " is down (" + other.error()
                            + "); stopping " + m.member() + " as well could cost the set its majority; start "
                            + other.member() + " and resume");
                }
            }
            s = withPrimary(s);
            if (s.primary().isEmpty()) {
                return Check.notReady(set() + " has no primary (" + states(s) + "); wait for the election and resume");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            Shell.Outcome o = run(step);
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(settings.stopTimeoutMs());
            while (answers(step.node())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(step.node() + " still answers " + settings.stopTimeoutMs() + " ms after"
                            + " the stop command returned; check the command (it must stop this member) and resume");
                }
                Thread.sleep(200);
            }
            return "stopped: no answer " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)
                    + " ms after the command" + tail(o);
        }
    }

    /** The install command, on a stopped member. */
    final class Install implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            MemberStatus m = member(status(), step);
            if (healthyOn(m, target(step))) {
                return Check.alreadyDone(m.member() + " already runs " + m.version() + " (" + m.state() + ")");
            }
            if (m.reachable()) {
                return Check.notReady(m.member() + " answers (" + looks(m) + "): it must be stopped before the install;"
                        + " stop it (the stop command) and resume");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            return "installed" + tail(run(step));
        }
    }

    /** The start command; the member must answer and run the target. */
    final class Start implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            MemberStatus m = member(status(), step);
            String to = target(step);
            if (m.reachable() && MongoUpgradePlan.reaches(m.version(), to)) {
                return Check.alreadyDone(m.member() + " answers on " + m.version() + " (" + m.state() + ")");
            }
            if (m.reachable()) {
                return Check.notReady(m.member() + " answers and runs " + m.version() + ", not " + to + ": the install"
                        + " did not put " + to + " in place; stop it, install " + to + " by hand (or fix the install"
                        + " command), and resume");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            Shell.Outcome o = run(step);
            String to = target(step);
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(settings.startTimeoutMs());
            while (!answers(step.node())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(step.node() + " does not answer " + settings.startTimeoutMs() + " ms"
                            + " after the start command (upgrade.startTimeoutMs); look at its log, start it by hand and"
                            + " resume");
                }
                Thread.sleep(200);
            }
            long upMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            String version = String.valueOf(probe.command(step.node(), new Document("buildInfo", 1)).get("version"));
            if (!MongoUpgradePlan.reaches(version, to)) {
                throw new IllegalStateException(step.node() + " started but runs " + version + ", not " + to + "; check the"
                        + " install command, stop the member, install " + to + ", and resume");
            }
            return "started: answers after " + upMs + " ms, runs " + version + tail(o);
        }
    }

    /** Until the member serves again: SECONDARY (ARBITER) on the target, caught up with the primary. */
    final class AwaitSecondary implements StepAction {
        @Override
        public Check check(Operation op, Step step) {
            ReplicaSetStatus s = status();
            Optional<String> why = notYet(s, member(s, step), step);
            return why.isEmpty() ? Check.alreadyDone(served(s, member(s, step))) : Check.ready();
        }

        @Override
        public String act(Operation op, Step step) throws Exception {
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(settings.catchUpTimeoutMs());
            String last;
            while (true) {
                ReplicaSetStatus s = status();
                MemberStatus m = member(s, step);
                Optional<String> why = notYet(s, m, step);
                if (why.isEmpty()) {
                    return served(s, m) + ", after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms";
                }
                last = why.get();
                if (System.nanoTime() > deadline) {
                    break;
                }
                Thread.sleep(200);
            }
            throw new IllegalStateException(step.node() + " did not serve again within upgrade.catchUpTimeoutMs="
                    + settings.catchUpTimeoutMs() + " ms: it " + last + "; look at its log and rs.status(), fix it and"
                    + " resume");
        }

        private Optional<String> notYet(ReplicaSetStatus s, MemberStatus m, Step step) {
            String to = target(step);
            String state = step.action().parameters().getOrDefault("state", "SECONDARY");
            if (!m.reachable()) {
                return Optional.of("does not answer (" + m.error() + ")");
            }
            if (!MongoUpgradePlan.reaches(m.version(), to)) {
                return Optional.of("runs " + m.version() + ", not " + to);
            }
            if (state.equals("ARBITER")) {
                return "ARBITER".equals(m.state()) ? Optional.empty() : Optional.of("is " + m.state() + ", not ARBITER");
            }
            if (!m.isSecondary() && !m.isPrimary()) {
                return Optional.of("is " + m.state() + ", not SECONDARY");
            }
            if (s.primary().isEmpty()) {
                return Optional.of("has no primary to catch up with (" + states(s) + ")");
            }
            long maxLagMs = config.readPolicy().maxReplicaLagMs();
            if (m.lagMs() < 0 || m.lagMs() > maxLagMs) {
                return Optional.of(m.lagMs() < 0 ? "has no known lag behind the primary" : "is " + m.lagMs()
                        + " ms behind the primary, beyond readPolicy.maxReplicaLagMs=" + maxLagMs);
            }
            return Optional.empty();
        }

        private String served(ReplicaSetStatus s, MemberStatus m) {
            return m.member() + " is " + m.state() + " on " + m.version() + ("ARBITER".equals(m.state()) ? ""
                    : ", " + m.lagMs() + " ms behind the primary " + s.primary().map(MemberStatus::member).orElse("?"));
        }
    }

    /** The primary steps down to the planned heir, an upgraded SECONDARY; recorded in the audit log. */
    final class StepDown implements StepAction {
        @Override
        public Check check(Operation op, Step step) throws InterruptedException {
            String to = target(step);
            String from = step.action().parameter("from");
            String heir = step.action().parameter("to");
            ReplicaSetStatus s = withPrimary(status());
            Optional<MemberStatus> primary = s.primary();
            if (primary.isEmpty()) {
                return Check.notReady(set() + " has no primary (" + states(s) + "); wait for the election and resume");
            }
            MemberStatus p = primary.get();
            if (MongoUpgradePlan.reaches(p.version(), to)) {
                return Check.alreadyDone("the primary " + p.member() + " runs " + p.version() + " (term " + s.term() + ")");
            }
            if (!p.member().equals(from)) {
                return Check.notReady("the primary of " + set() + " is now " + p.member() + " (" + p.version()
                        + "), not " + from + " as planned: the set elected it by itself; abort this operation and plan"
                        + " again");
            }
            MemberStatus h = member(s, step);
            if (!h.isSecondary() || !MongoUpgradePlan.reaches(h.version(), to)) {
                return Check.notReady(heir + " is " + looks(h) + ", not an upgraded SECONDARY; it must be one to take"
                        + " over from " + from + "; resume when it is");
            }
            return Check.ready();
        }

        @Override
        public String act(Operation op, Step step) {
            MongoSwitchover.Result r = MongoAudit.switchover(store, rs, probe, by, Optional.of(step.action()
                    .parameter("to")), Optional.of(op.id()));
            return "the primary moved from " + r.from() + " to " + r.to() + " (term " + r.termBefore() + " -> "
                    + r.termAfter() + "), no primary for " + r.noPrimaryMs() + " ms";
        }
    }
}
