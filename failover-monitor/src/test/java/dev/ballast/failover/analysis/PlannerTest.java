package dev.ballast.failover.analysis;

import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Plan;
import dev.ballast.failover.model.PromotionRule;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ReplicaThreads.IoState;
import dev.ballast.failover.model.Verdict;
import dev.ballast.failover.model.Verdict.Standing;
import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.GroupTopology.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static dev.ballast.failover.model.PromotionRule.MUST_NOT;
import static dev.ballast.failover.model.PromotionRule.PREFER;
import static dev.ballast.failover.model.PromotionRule.PREFER_NOT;
import static dev.ballast.failover.model.Verdict.Standing.BEHIND;
import static dev.ballast.failover.model.Verdict.Standing.CANDIDATE;
import static dev.ballast.failover.model.Verdict.Standing.EQUAL;
import static dev.ballast.failover.model.Verdict.Standing.UNUSABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlannerTest {

    static final NodeAddress M = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress R1 = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress R2 = NodeAddress.parse("127.0.0.1:3313");
    static final NodeAddress R3 = NodeAddress.parse("127.0.0.1:3314");
    static final GroupTopology GROUP = new GroupTopology("g1", M, List.of(R1, R2, R3), 3, Phase.SERVING);

    static final String U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    static final String U2 = "4a22fb58-82db-22f2-af44-d91bb0530673";
    static final long AT = 1_000_000;
    static final String OLD = "10.11.6-MariaDB-0+deb12u1-log";
    static final String NEW = "11.4.5-MariaDB";

    /** One scenario: the replicas' probes and rules, the candidate and position expected, and every verdict. */
    record Case(String name, Map<NodeAddress, NodeProbe> probes, Map<NodeAddress, PromotionRule> rules,
                NodeAddress candidate, Position mustApply, List<Expect> verdicts) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** An expected verdict; {@code why} must appear in its reason, a leading '!' means must not. */
    record Expect(NodeAddress node, Standing standing, String... why) {
    }

    static Stream<Case> scenarios() {
        return Stream.of(
                scenario("most advanced chosen",
                        probes(replica(R1, "0-1-40"), replica(R2, "0-1-42"), replica(R3, "0-1-41")), Map.of(),
                        R2, mariadb("0-1-42"),
                        expect(R1, BEHIND, "received 0-1-40 < 0-1-42"),
                        expect(R2, CANDIDATE, "received 0-1-42, most advanced", "rule neutral"),
                        expect(R3, BEHIND, "received 0-1-41 < 0-1-42")),
                scenario("most advanced over several domains",
                        probes(replica(R1, "0-1-40,1-2-9"), replica(R2, "0-1-42,1-2-9"), replica(R3, "0-1-42,1-2-8")),
                        Map.of(),
                        R2, mariadb("0-1-42,1-2-9"),
                        expect(R1, BEHIND), expect(R2, CANDIDATE), expect(R3, BEHIND)),
                scenario("prefer beats neutral when equally advanced",
                        probes(replica(R1, "0-1-42"), replica(R2, "0-1-42"), replica(R3, "0-1-40")), Map.of(R2, PREFER),
                        R2, mariadb("0-1-42"),
                        expect(R1, EQUAL, "as advanced as the candidate 127.0.0.1:3313", "candidate's prefer wins"),
                        expect(R2, CANDIDATE, "most advanced (as are 127.0.0.1:3312)", "rule prefer"),
                        expect(R3, BEHIND)),
                scenario("equally advanced neutral replicas: the first in topology order",
                        probes(replica(R1, "0-1-42"), replica(R2, "0-1-42"), replica(R3, "0-1-42")), Map.of(),
                        R1, mariadb("0-1-42"),
                        expect(R1, CANDIDATE, "as are 127.0.0.1:3313, 127.0.0.1:3314"),
                        expect(R2, EQUAL, "topology order"),
                        expect(R3, EQUAL, "topology order")),
                scenario("prefer_not loses when equally advanced",
                        probes(replica(R1, "0-1-42"), replica(R2, "0-1-42"), replica(R3, "0-1-41")),
                        Map.of(R1, PREFER_NOT),
                        R2, mariadb("0-1-42"),
                        expect(R1, EQUAL, "rule prefer_not, the candidate's neutral wins"),
                        expect(R2, CANDIDATE),
                        expect(R3, BEHIND)),
                scenario("prefer_not wins when ahead",
                        probes(replica(R1, "0-1-43"), replica(R2, "0-1-42"), replica(R3, "0-1-41")),
                        Map.of(R1, PREFER_NOT, R2, PREFER),
                        R1, mariadb("0-1-43"),
                        expect(R1, CANDIDATE, "rule prefer_not"),
                        expect(R2, BEHIND, "0-1-42 < 0-1-43"),
                        expect(R3, BEHIND)),
                scenario("must_not ahead of the best promotable replica: still excluded, reason says ahead",
                        probes(replica(R1, "0-1-45"), replica(R2, "0-1-42"), replica(R3, "0-1-40")),
                        Map.of(R1, MUST_NOT),
                        R2, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "rule must_not", "ahead of the candidate 127.0.0.1:3313",
                                "0-1-45 is not covered by the candidate's 0-1-42", "losing its extra transactions"),
                        expect(R2, CANDIDATE),
                        expect(R3, BEHIND)),
                scenario("must_not behind the candidate: excluded, nothing to lose",
                        probes(replica(R1, "0-1-40"), replica(R2, "0-1-42"), replica(R3, "0-1-42")),
                        Map.of(R1, MUST_NOT, R3, PREFER),
                        R3, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "rule must_not", "!ahead"),
                        expect(R2, EQUAL, "prefer wins"),
                        expect(R3, CANDIDATE)),
                scenario("errant replica excluded, and said to be ahead",
                        probes(replica(R1, "0-1-42").executed("0-1-42,1-3312-1"), replica(R2, "0-1-41"), replica(R3, "0-1-40")),
                        Map.of(R1, PREFER),
                        R2, mariadb("0-1-41"),
                        expect(R1, UNUSABLE, "errant transactions", "executed 0-1-42,1-3312-1", "received 0-1-42",
                                "ahead of the candidate"),
                        expect(R2, CANDIDATE),
                        expect(R3, BEHIND)),
                scenario("errant replica behind: excluded for its local write",
                        probes(replica(R1, "0-1-40").executed("0-3312-41"), replica(R2, "0-1-42"), replica(R3, "0-1-42")),
                        Map.of(),
                        R2, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "errant transactions", "0-3312-41", "!ahead"),
                        expect(R2, CANDIDATE),
                        expect(R3, EQUAL)),
                scenario("unreachable replicas excluded",
                        probes(down(R2), replica(R3, "0-1-40")), Map.of(R1, PREFER, R2, PREFER),
                        R3, mariadb("0-1-40"),
                        expect(R1, UNUSABLE, "unreachable (no probe)"),
                        expect(R2, UNUSABLE, "unreachable (Connection refused)"),
                        expect(R3, CANDIDATE)),
                scenario("replicas without replication info or received position excluded",
                        probes(replica(R1, "0-1-45").notReplicating(), replica(R2, (String) null), replica(R3, "0-1-40")), Map.of(),
                        R3, mariadb("0-1-40"),
                        expect(R1, UNUSABLE, "no replication info"),
                        expect(R2, UNUSABLE, "received position unknown"),
                        expect(R3, CANDIDATE)),
                scenario("nobody reachable: no candidate",
                        probes(down(R1), down(R2)), Map.of(),
                        null, Position.empty(Flavour.MARIADB),
                        expect(R1, UNUSABLE, "unreachable"),
                        expect(R2, UNUSABLE, "unreachable"),
                        expect(R3, UNUSABLE, "unreachable")),
                scenario("interrupted recovery resumes with the same candidate",
                        probes(replica(R1, "0-1-42"), promoted(R2, "0-1-42"), replica(R3, "0-1-40")), Map.of(R2, PREFER),
                        R2, mariadb("0-1-42"),
                        expect(R1, EQUAL, "already promoted"),
                        expect(R2, CANDIDATE, "already promoted by an interrupted recovery", "executed 0-1-42"),
                        expect(R3, BEHIND, "0-1-40 < 0-1-42")),
                scenario("interrupted recovery: the promoted replica has taken new writes since",
                        probes(replica(R1, "0-1-42"), promoted(R2, "0-3313-45"), replica(R3, "0-1-42")), Map.of(R1, PREFER),
                        R2, mariadb("0-3313-45"),
                        expect(R1, BEHIND, "0-1-42 < 0-3313-45"),
                        expect(R2, CANDIDATE, "already promoted"),
                        expect(R3, BEHIND)),
                scenario("a writable, non-replicating replica that is behind is not resumed",
                        probes(promoted(R1, "0-1-40"), replica(R2, "0-1-42"), replica(R3, "0-1-41")), Map.of(),
                        R2, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "writable and not replicating", "!ahead"),
                        expect(R2, CANDIDATE),
                        expect(R3, BEHIND)),
                scenario("MySQL: the most advanced GTID set chosen",
                        probes(replica(R1, mysql(U1 + ":1-10")), replica(R2, mysql(U1 + ":1-12")), replica(R3, mysql(U1 + ":1-11"))),
                        Map.of(),
                        R2, mysql(U1 + ":1-12"),
                        expect(R1, BEHIND, U1 + ":1-10 < " + U1 + ":1-12"),
                        expect(R2, CANDIDATE),
                        expect(R3, BEHIND)),
                scenario("MySQL: a set covering two incomparable sets is chosen",
                        probes(replica(R1, mysql(U1 + ":1-10," + U2 + ":1-3")), replica(R2, mysql(U1 + ":1-12")),
                                replica(R3, mysql(U1 + ":1-12," + U2 + ":1-3"))),
                        Map.of(),
                        R3, mysql(U1 + ":1-12," + U2 + ":1-3"),
                        expect(R1, BEHIND), expect(R2, BEHIND), expect(R3, CANDIDATE)),
                scenario("MySQL: diverging sets, no candidate",
                        probes(replica(R1, mysql(U1 + ":1-10," + U2 + ":1-3")), replica(R2, mysql(U1 + ":1-12")),
                                replica(R3, mysql(U1 + ":1-8"))),
                        Map.of(R2, PREFER),
                        null, Position.empty(Flavour.MYSQL),
                        expect(R1, UNUSABLE, "positions diverge"),
                        expect(R2, UNUSABLE, "positions diverge"),
                        expect(R3, UNUSABLE, "positions diverge")),
                // ---- version-aware promotion (issue 12)
                scenario("an older replica is never promoted, even the most advanced",
                        probes(replica(R1, "0-1-43").version(OLD), replica(R2, "0-1-42").version(NEW),
                                replica(R3, "0-1-41").version(NEW)), Map.of(R1, PREFER),
                        R2, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "version 10.11.6 is older than 11.4.5 of replica 127.0.0.1:3313",
                                "not supported", "upgrade 127.0.0.1:3312 first", "ahead of the candidate"),
                        expect(R2, CANDIDATE, "most advanced"),
                        expect(R3, BEHIND)),
                scenario("versions compare numerically: 10.9 is older than 10.11",
                        probes(replica(R1, "0-1-42").version("10.9.8-MariaDB"), replica(R2, "0-1-42").version("10.11.2-MariaDB"),
                                down(R3)), Map.of(),
                        R2, mariadb("0-1-42"),
                        expect(R1, UNUSABLE, "version 10.9.8 is older than 10.11.2"),
                        expect(R2, CANDIDATE),
                        expect(R3, UNUSABLE, "unreachable")),
                scenario("every replica on the same version: no constraint",
                        probes(replica(R1, "0-1-42").version(NEW), replica(R2, "0-1-42").version(NEW + "-log"),
                                replica(R3, "0-1-40").version(NEW)), Map.of(),
                        R1, mariadb("0-1-42"),
                        expect(R1, CANDIDATE), expect(R2, EQUAL), expect(R3, BEHIND)),
                scenario("an unknown version neither excludes nor is excluded (a record of an older monitor)",
                        probes(replica(R1, "0-1-42"), replica(R2, "0-1-41").version(OLD), replica(R3, "0-1-40").version(NEW)),
                        Map.of(),
                        R1, mariadb("0-1-42"),
                        expect(R1, CANDIDATE, "most advanced"),
                        expect(R2, UNUSABLE, "version 10.11.6 is older than 11.4.5 of replica 127.0.0.1:3314"),
                        expect(R3, BEHIND)),
                scenario("the only newer replica unusable: the older ones are still not promoted",
                        probes(replica(R1, "0-1-42").version(OLD), replica(R2, "0-1-42").version(OLD),
                                replica(R3, "0-1-42").version(NEW)), Map.of(R3, MUST_NOT),
                        null, Position.empty(Flavour.MARIADB),
                        expect(R1, UNUSABLE, "older than 11.4.5 of replica 127.0.0.1:3314"),
                        expect(R2, UNUSABLE, "older than 11.4.5"),
                        expect(R3, UNUSABLE, "rule must_not")),
                scenario("MariaDB: domains diverge, no candidate",
                        probes(replica(R1, "0-1-42,1-2-5"), replica(R2, "0-1-43,1-2-4"), down(R3)), Map.of(),
                        null, Position.empty(Flavour.MARIADB),
                        expect(R1, UNUSABLE, "positions diverge", "127.0.0.1:3313: 0-1-43,1-2-4"),
                        expect(R2, UNUSABLE, "positions diverge"),
                        expect(R3, UNUSABLE, "unreachable"))
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void choosesTheCandidateAndJudgesEveryReplica(Case c) {
        Plan plan = Planner.plan(GROUP, c.probes(), c.rules());

        assertEquals("g1", plan.group());
        assertEquals(Optional.ofNullable(c.candidate()), plan.candidate(), () -> describe(plan));
        assertEquals(c.mustApply(), plan.mustApply());
        assertEquals(c.mustApply().flavour(), plan.mustApply().flavour());
        List<String> expected = c.verdicts().stream().map(e -> e.node() + " " + e.standing()).toList();
        assertEquals(expected, plan.verdicts().stream().map(v -> v.node() + " " + v.standing()).toList(),
                () -> describe(plan));
        for (int i = 0; i < expected.size(); i++) {
            Verdict v = plan.verdicts().get(i);
            for (String why : c.verdicts().get(i).why()) {
                if (why.startsWith("!")) {
                    assertFalse(v.reason().contains(why.substring(1)), () -> "'" + why + "' in " + v);
                } else {
                    assertTrue(v.reason().contains(why), () -> "'" + why + "' not in " + v);
                }
            }
        }
    }

    @Test
    void aRerunAfterAnInterruptedPromotionPicksTheSameReplica() {
        Map<NodeAddress, PromotionRule> rules = Map.of(R3, PREFER);
        Plan first = Planner.plan(GROUP,
                probes(replica(R1, "0-1-42"), replica(R2, "0-1-41"), replica(R3, "0-1-42")), rules);
        assertEquals(Optional.of(R3), first.candidate());

        // the recovery made R3 writable and reset its replication, then died; the others still point at the old master
        Plan rerun = Planner.plan(GROUP,
                probes(replica(R1, "0-1-42"), replica(R2, "0-1-41"), promoted(R3, "0-1-42")), rules);
        assertEquals(first.candidate(), rerun.candidate());
        assertEquals(first.mustApply(), rerun.mustApply());
        assertEquals(List.of(R1), rerun.withStanding(EQUAL));
        assertEquals(List.of(R2), rerun.withStanding(BEHIND));
    }

    @Test
    void aDrainedReplicaIsPromotedOnlyWhenNoOtherIsAsAdvanced() {
        Map<NodeAddress, PromotionRule> rules = Planner.withDrained(Map.of(R2, PREFER, R3, MUST_NOT), java.util.Set.of(R1, R2, R3));
        assertEquals(Map.of(R1, PREFER_NOT, R2, PREFER_NOT, R3, MUST_NOT), rules, "drained: at least prefer_not; must_not stays");

        // R1 drained and as advanced as R2: R2 is promoted
        Plan equal = Planner.plan(GROUP, probes(replica(R1, "0-1-42"), replica(R2, "0-1-42"), replica(R3, "0-1-40")),
                Planner.withDrained(Map.of(), java.util.Set.of(R1)));
        assertEquals(Optional.of(R2), equal.candidate(), () -> describe(equal));
        // R1 drained but the only one with everything: promoted rather than losing transactions
        Plan ahead = Planner.plan(GROUP, probes(replica(R1, "0-1-43"), replica(R2, "0-1-42"), replica(R3, "0-1-40")),
                Planner.withDrained(Map.of(), java.util.Set.of(R1)));
        assertEquals(Optional.of(R1), ahead.candidate(), () -> describe(ahead));
    }

    @Test
    void probesOfNodesOutsideTheTopologyAreIgnored() {
        NodeAddress stranger = NodeAddress.parse("127.0.0.1:3399");
        Map<NodeAddress, NodeProbe> probes = probes(replica(R1, "0-1-40"), replica(stranger, "0-1-99"));
        Plan plan = Planner.plan(GROUP, probes, Map.of());
        assertEquals(Optional.of(R1), plan.candidate());
        assertEquals(List.of(R1, R2, R3), plan.verdicts().stream().map(Verdict::node).toList());
    }

    // ---- planned switchover: the master still serves

    /** One switchover scenario: probes, rules, the node named by --to (or null), the candidate expected and every verdict. */
    record SwitchoverCase(String name, Map<NodeAddress, NodeProbe> probes, Map<NodeAddress, PromotionRule> rules,
                          NodeAddress to, NodeAddress candidate, List<Expect> verdicts) {
        @Override
        public String toString() {
            return name;
        }
    }

    static SwitchoverCase switchover(String name, Map<NodeAddress, NodeProbe> probes, Map<NodeAddress, PromotionRule> rules,
                                     NodeAddress to, NodeAddress candidate, Expect... verdicts) {
        return new SwitchoverCase(name, probes, rules, to, candidate, List.of(verdicts));
    }

    static Stream<SwitchoverCase> switchovers() {
        return Stream.of(
                switchover("automatic: the most advanced replica of the live master",
                        probes(live(R1, "0-1-40"), live(R2, "0-1-42"), live(R3, "0-1-41")), Map.of(), null,
                        R2,
                        expect(R1, BEHIND, "0-1-40 < 0-1-42"), expect(R2, CANDIDATE, "most advanced"), expect(R3, BEHIND)),
                switchover("automatic: prefer wins among equals",
                        probes(live(R1, "0-1-42"), live(R2, "0-1-42"), live(R3, "0-1-42")), Map.of(R3, PREFER), null,
                        R3,
                        expect(R1, EQUAL), expect(R2, EQUAL), expect(R3, CANDIDATE, "rule prefer")),
                switchover("automatic: an errant replica is never chosen, even the most advanced",
                        probes(live(R1, "0-1-42").executed("0-1-42,1-3312-1"), live(R2, "0-1-41"), live(R3, "0-1-40")),
                        Map.of(R1, PREFER), null,
                        R2,
                        expect(R1, UNUSABLE, "errant transactions", "1-3312-1"), expect(R2, CANDIDATE), expect(R3, BEHIND)),
                switchover("automatic: must_not is never chosen",
                        probes(live(R1, "0-1-40"), live(R2, "0-1-42"), live(R3, "0-1-41")), Map.of(R2, MUST_NOT), null,
                        R3,
                        expect(R1, BEHIND), expect(R2, UNUSABLE, "rule must_not"), expect(R3, CANDIDATE)),
                switchover("automatic: stopped replication or another master excludes a replica",
                        probes(live(R1, "0-1-42").from(R3), live(R2, "0-1-42").sqlError(1950, "out-of-order sequence number"),
                                live(R3, "0-1-40")), Map.of(), null,
                        R3,
                        expect(R1, UNUSABLE, "replicates from 127.0.0.1:3314, not from the master 127.0.0.1:3311"),
                        expect(R2, UNUSABLE, "replication is not running (io yes, sql stopped)", "last SQL error 1950",
                                "out-of-order"),
                        expect(R3, CANDIDATE)),
                switchover("automatic: a writable replica that is not replicating is not 'already promoted' here",
                        probes(promoted(R1, "0-1-45"), live(R2, "0-1-42"), live(R3, "0-1-41")), Map.of(), null,
                        R2,
                        expect(R1, UNUSABLE, "writable and not replicating", "not a replica of the master 127.0.0.1:3311"),
                        expect(R2, CANDIDATE), expect(R3, BEHIND)),
                switchover("automatic: nobody usable, no candidate",
                        probes(down(R1), live(R2, "0-1-42").ioState(IoState.CONNECTING)), Map.of(R3, MUST_NOT), null,
                        null,
                        expect(R1, UNUSABLE, "unreachable"), expect(R2, UNUSABLE, "io connecting"),
                        expect(R3, UNUSABLE, "unreachable")),
                switchover("--to a usable replica behind the others is the candidate (it catches up with the master)",
                        probes(live(R1, "0-1-40"), live(R2, "0-1-42"), live(R3, "0-1-41")), Map.of(R1, PREFER_NOT), R1,
                        R1,
                        expect(R1, CANDIDATE, "named by the operator (--to)", "rule prefer_not"),
                        expect(R2, EQUAL, "as advanced as 127.0.0.1:3312"), expect(R3, EQUAL)),
                switchover("--to a must_not replica is refused; the others are the ways out",
                        probes(live(R1, "0-1-40"), live(R2, "0-1-42"), live(R3, "0-1-41")), Map.of(R2, MUST_NOT), R2,
                        null,
                        expect(R1, BEHIND, "0-1-40 < 0-1-41 of 127.0.0.1:3314"),
                        expect(R2, UNUSABLE, "rule must_not"),
                        expect(R3, EQUAL, "usable", "the choice without --to")),
                switchover("--to a replica with errant transactions is refused, naming them",
                        probes(live(R1, "0-1-41"), live(R2, "0-1-41"), live(R3, "0-1-41").executed("0-3314-42")), Map.of(), R3,
                        null,
                        expect(R1, EQUAL, "the choice without --to"), expect(R2, EQUAL),
                        expect(R3, UNUSABLE, "errant transactions", "executed 0-3314-42", "received 0-1-41")),
                switchover("--to a replica whose replication stopped is refused",
                        probes(live(R1, "0-1-41"), live(R2, "0-1-41").ioState(IoState.NO), live(R3, "0-1-41")), Map.of(), R2,
                        null,
                        expect(R1, EQUAL), expect(R2, UNUSABLE, "replication is not running (io no"), expect(R3, EQUAL)),
                switchover("--to an unreachable replica is refused",
                        probes(live(R1, "0-1-41"), down(R2), live(R3, "0-1-41")), Map.of(), R2,
                        null,
                        expect(R1, EQUAL), expect(R2, UNUSABLE, "unreachable (Connection refused)"), expect(R3, EQUAL)),
                switchover("automatic: the upgraded replica is chosen over an older one as advanced",
                        probes(live(R1, "0-1-42").version(OLD), live(R2, "0-1-42").version(NEW), live(R3, "0-1-42").version(OLD)),
                        Map.of(R1, PREFER), null,
                        R2,
                        expect(R1, UNUSABLE, "version 10.11.6 is older than 11.4.5 of replica 127.0.0.1:3313"),
                        expect(R2, CANDIDATE), expect(R3, UNUSABLE, "older")),
                switchover("--to an older replica is refused, naming the version and the newer replica",
                        probes(live(R1, "0-1-42").version(OLD), live(R2, "0-1-42").version(NEW), live(R3, "0-1-42").version(NEW)),
                        Map.of(), R1,
                        null,
                        expect(R1, UNUSABLE, "version 10.11.6 is older than 11.4.5", "upgrade 127.0.0.1:3312 first"),
                        expect(R2, EQUAL, "the choice without --to"), expect(R3, EQUAL)),
                switchover("--to refused and nobody else usable: no way out but fixing it",
                        probes(live(R1, "0-1-41"), down(R2), down(R3)), Map.of(R1, MUST_NOT), R1,
                        null,
                        expect(R1, UNUSABLE, "rule must_not"), expect(R2, UNUSABLE), expect(R3, UNUSABLE))
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("switchovers")
    void switchoverChoosesWithTheFailoversVerdictsAndALiveMaster(SwitchoverCase c) {
        Plan plan = Planner.switchover(GROUP, c.probes(), c.rules(), Optional.ofNullable(c.to()));

        assertEquals(Optional.ofNullable(c.candidate()), plan.candidate(), () -> describe(plan));
        List<String> expected = c.verdicts().stream().map(e -> e.node() + " " + e.standing()).toList();
        assertEquals(expected, plan.verdicts().stream().map(v -> v.node() + " " + v.standing()).toList(), () -> describe(plan));
        for (int i = 0; i < expected.size(); i++) {
            Verdict v = plan.verdicts().get(i);
            for (String why : c.verdicts().get(i).why()) {
                assertTrue(v.reason().contains(why), () -> "'" + why + "' not in " + v);
            }
        }
        assertEquals(plan.candidate(), plan.verdicts().stream().filter(v -> v.standing() == CANDIDATE).map(Verdict::node)
                .findFirst(), "the candidate, and only it, stands as candidate");
    }

    @Test
    void switchoverToANodeOutsideTheReplicasIsAnError() {
        NodeAddress stranger = NodeAddress.parse("127.0.0.1:3399");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Planner.switchover(GROUP, probes(live(R1, "0-1-1")), Map.of(), Optional.of(stranger)));
        assertTrue(e.getMessage().contains("127.0.0.1:3399 is not a replica of group g1"), e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Planner.switchover(GROUP, Map.of(), Map.of(), Optional.of(M)), "the master itself");
    }

    // ---- building probes

    static Case scenario(String name, Map<NodeAddress, NodeProbe> probes, Map<NodeAddress, PromotionRule> rules,
                         NodeAddress candidate, Position mustApply, Expect... verdicts) {
        return new Case(name, probes, rules, candidate, mustApply, List.of(verdicts));
    }

    static Expect expect(NodeAddress node, Standing standing, String... why) {
        return new Expect(node, standing, why);
    }

    static Map<NodeAddress, NodeProbe> probes(ProbeBuilder... builders) {
        Map<NodeAddress, NodeProbe> probes = new HashMap<>();
        for (ProbeBuilder b : builders) {
            probes.put(b.node, b.build());
        }
        return probes;
    }

    static Position mariadb(String text) {
        return Position.parse(Flavour.MARIADB, text);
    }

    static Position mysql(String text) {
        return Position.parse(Flavour.MYSQL, text);
    }

    /** A read-only replica whose IO thread the recovery stopped, having received (and applied) {@code received}. */
    static ProbeBuilder replica(NodeAddress node, String received) {
        return replica(node, received == null ? null : mariadb(received));
    }

    static ProbeBuilder replica(NodeAddress node, Position received) {
        ProbeBuilder b = new ProbeBuilder(node);
        b.received = received;
        b.executed = received;
        return b;
    }

    /** A replica an earlier recovery promoted: writable, replication reset. */
    static ProbeBuilder promoted(NodeAddress node, String executed) {
        ProbeBuilder b = new ProbeBuilder(node).notReplicating();
        b.readOnly = false;
        b.executed = mariadb(executed);
        return b;
    }

    /** A replica of the live master M, both threads running, having received (and applied) {@code received}. */
    static ProbeBuilder live(NodeAddress node, String received) {
        ProbeBuilder b = replica(node, received);
        b.io = IoState.YES;
        return b;
    }

    static ProbeBuilder down(NodeAddress node) {
        ProbeBuilder b = new ProbeBuilder(node);
        b.error = "Connection refused";
        return b;
    }

    static final class ProbeBuilder {
        final NodeAddress node;
        String error;
        boolean readOnly = true;
        boolean replicating = true;
        Position received;
        Position executed;
        IoState io = IoState.NO;
        boolean sqlRunning = true;
        NodeAddress master = M;
        int sqlErrno;
        String sqlError = "";
        String version = "";

        ProbeBuilder(NodeAddress node) {
            this.node = node;
        }

        ProbeBuilder ioState(IoState state) {
            io = state;
            return this;
        }

        ProbeBuilder from(NodeAddress source) {
            master = source;
            return this;
        }

        ProbeBuilder sqlError(int errno, String error) {
            sqlRunning = false;
            sqlErrno = errno;
            sqlError = error;
            return this;
        }

        ProbeBuilder notReplicating() {
            replicating = false;
            return this;
        }

        ProbeBuilder version(String text) {
            version = text;
            return this;
        }

        ProbeBuilder executed(String text) {
            executed = mariadb(text);
            return this;
        }

        NodeProbe build() {
            if (error != null) {
                return NodeProbe.unreachable(node, error, AT);
            }
            Optional<ReplicaThreads> threads = replicating
                    ? Optional.of(new ReplicaThreads(master, io, sqlRunning, received, executed, 0, "", sqlErrno, sqlError, -1))
                    : Optional.empty();
            return new NodeProbe(node, true, "", node.port(), readOnly, executed, threads, false, AT, version);
        }
    }

    static String describe(Plan plan) {
        List<String> lines = new ArrayList<>();
        lines.add("candidate " + plan.candidate().map(Object::toString).orElse("none") + ", must apply '" + plan.mustApply() + "'");
        for (Verdict v : plan.verdicts()) {
            lines.add(v.node() + " " + v.standing() + ": " + v.reason());
        }
        return String.join("\n", lines);
    }
}
