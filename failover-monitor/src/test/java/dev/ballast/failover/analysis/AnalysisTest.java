package dev.ballast.failover.analysis;

import dev.ballast.replication.NodeProbe;
import dev.ballast.failover.model.Problem;
import dev.ballast.failover.model.Problem.Kind;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.replication.ReplicaThreads.IoState;
import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.GroupTopology.Phase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnalysisTest {

    static final NodeAddress M = NodeAddress.parse("127.0.0.1:3311");
    static final NodeAddress R1 = NodeAddress.parse("127.0.0.1:3312");
    static final NodeAddress R2 = NodeAddress.parse("127.0.0.1:3313");
    static final GroupTopology GROUP = new GroupTopology("g1", M, List.of(R1, R2), 3, Phase.SERVING);
    static final GroupTopology LONE_MASTER = new GroupTopology("g1", M, List.of(), 3, Phase.SERVING);

    static final long NOW = 1_000_000;
    static final AnalysisSettings SETTINGS = new AnalysisSettings(10, 5_000, NOW);
    static final long FRESH = NOW - 1_000;
    static final long STALE = NOW - 10_000;

    static final String U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    static final String U2 = "4a22fb58-82db-22f2-af44-d91bb0530673";
    static final String REFUSED = "Connection refused";
    static final String CANT_CONNECT = "error connecting to master 'repl@127.0.0.1:3311' - retry-time: 1";

    /** One scenario: what the monitors saw, and the problems expected, in order. */
    record Case(String name, GroupTopology topology, Map<String, Map<NodeAddress, NodeProbe>> byMonitor,
                List<Expect> expected, Set<NodeAddress> drained) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** An expected problem; {@code evidence} must appear in its detail, a leading '!' means must not. */
    record Expect(Kind kind, NodeAddress node, String... evidence) {
        String key() {
            return kind + " " + node;
        }
    }

    static Stream<Case> scenarios() {
        return Stream.of(
                scenario("healthy group",
                        Map.of("m1", probes(master(), replica(R1), replica(R2)),
                                "m2", probes(master(), replica(R1), replica(R2)))),
                scenario("crashed master: replicas CONNECTING with errno 2003",
                        Map.of("m1", probes(down(M), crashed(R1), crashed(R2)),
                                "m2", probes(down(M), crashed(R1), crashed(R2))),
                        expect(Kind.DEAD_MASTER, M, "m1 (" + REFUSED + ")", "m2 (" + REFUSED + ")",
                                "127.0.0.1:3312 io CONNECTING errno 2003", "127.0.0.1:3313 io CONNECTING errno 2003")),
                scenario("hung master: monitors time out, the replicas' IO threads are still YES and their silence is unknown",
                        Map.of("m1", probes(down(M, "Read timed out"), replica(R1), replica(R2)),
                                "m2", probes(down(M, "Read timed out"), replica(R1), replica(R2))),
                        expect(Kind.UNREACHABLE_MASTER, M, "still hear from it", "127.0.0.1:3312 io YES, silence unknown",
                                "m1 (Read timed out)")),
                scenario("hung master: one replica gave up, the other is still YES",
                        Map.of("m1", probes(down(M, "Read timed out"), replica(R1), crashed(R2))),
                        expect(Kind.UNREACHABLE_MASTER, M, "127.0.0.1:3312 io YES", "!3313"),
                        expect(Kind.REPLICATION_STOPPED, R2, "io CONNECTING errno 2003")),
                scenario("hung master: replicas still connected but silent for 3 heartbeat periods",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 1_600), silent(R2, 1_700)),
                                "m2", probes(down(M, "Read timed out"), silent(R1, 1_600), silent(R2, 1_700))),
                        expect(Kind.DEAD_MASTER, M, "no replica hears from it", "m1 (Read timed out)",
                                "127.0.0.1:3312 io YES, nothing received for 1600 ms (heartbeat 500 ms)",
                                "127.0.0.1:3313 io YES, nothing received for 1700 ms")),
                scenario("master refuses the monitors (too many connections) while its replicas receive heartbeats",
                        Map.of("m1", probes(down(M, "Too many connections"), hearing(R1, 200), hearing(R2, 450)),
                                "m2", probes(down(M, "Too many connections"), hearing(R1, 200), hearing(R2, 450))),
                        expect(Kind.UNREACHABLE_MASTER, M, "still hear from it",
                                "127.0.0.1:3312 io YES, received 200 ms ago (< 3 x heartbeat 500 ms)", "127.0.0.1:3313")),
                scenario("hung master: one replica silent, the other still hears it",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 2_000), hearing(R2, 100))),
                        expect(Kind.UNREACHABLE_MASTER, M, "127.0.0.1:3313 io YES, received 100 ms ago", "!3312")),
                scenario("silence just under 3 periods keeps the master alive",
                        Map.of("m1", probes(down(M, "Read timed out"), hearing(R1, 1_499), hearing(R2, 1_499))),
                        expect(Kind.UNREACHABLE_MASTER, M, "received 1499 ms ago")),
                scenario("silence of exactly 3 periods cuts a replica off",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 1_500), silent(R2, 1_500))),
                        expect(Kind.DEAD_MASTER, M, "nothing received for 1500 ms")),
                scenario("each replica is judged by its own heartbeat period",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 1_600).heartbeat(1_000, 1_600),
                                silent(R2, 1_600))),
                        expect(Kind.UNREACHABLE_MASTER, M, "127.0.0.1:3312 io YES, received 1600 ms ago (< 3 x heartbeat 1000 ms)"),
                        expect(Kind.SLOW_HEARTBEAT, R1, "heartbeat period 1000 ms", "failover.heartbeatPeriodMs is 500 ms")),
                scenario("silence unknown (the monitor has probed the replica once): a connected receiver still hears",
                        Map.of("m1", probes(down(M, "Read timed out"), replica(R1).heartbeat(500, -1), silent(R2, 2_000))),
                        expect(Kind.UNREACHABLE_MASTER, M, "127.0.0.1:3312 io YES, silence unknown")),
                scenario("heartbeats off: silence proves nothing, the receiver decides",
                        Map.of("m1", probes(down(M, "Read timed out"), replica(R1).heartbeat(0, 9_000), replica(R2).heartbeat(0, 9_000))),
                        expect(Kind.UNREACHABLE_MASTER, M, "no heartbeat period to judge silence by"),
                        expect(Kind.SLOW_HEARTBEAT, R1, "heartbeats are off"),
                        expect(Kind.SLOW_HEARTBEAT, R2, "MASTER_HEARTBEAT_PERIOD=0.5")),
                scenario("hung master: one replica silent, the other's receiver gave up",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 1_800), crashed(R2))),
                        expect(Kind.DEAD_MASTER, M, "nothing received for 1800 ms", "127.0.0.1:3313 io CONNECTING")),
                scenario("hung master: the only reachable replica is silent",
                        Map.of("m1", probes(down(M, "Read timed out"), silent(R1, 1_800), down(R2))),
                        expect(Kind.DEAD_MASTER_AND_SOME_REPLICAS, M, "127.0.0.1:3313 unreachable")),
                scenario("silent replicas never kill a master a monitor reaches",
                        Map.of("m1", probes(master(), silent(R1, 5_000), silent(R2, 5_000)))),
                scenario("a replica silent towards another master does not hear the topology's master",
                        Map.of("m1", probes(down(M, "Read timed out"), hearing(R1, 100).from(R2), silent(R2, 2_000))),
                        expect(Kind.DEAD_MASTER, M, "127.0.0.1:3312 io YES from 127.0.0.1:3313"),
                        expect(Kind.WRONG_MASTER, R1, "replicates from 127.0.0.1:3313")),
                scenario("slow heartbeat under a live master",
                        Map.of("m1", probes(master(), hearing(R1, 100), replica(R2).heartbeat(30_000, 100))),
                        expect(Kind.SLOW_HEARTBEAT, R2, "heartbeat period 30000 ms", "slave_net_timeout")),
                scenario("one of three monitors cannot reach the master",
                        Map.of("m1", probes(master(), replica(R1), replica(R2)),
                                "m2", probes(master(), replica(R1), replica(R2)),
                                "m3", probes(down(M, "connect timed out"), replica(R1), replica(R2))),
                        expect(Kind.UNREACHABLE_MASTER, M, "reachable from m1, m2 but not", "m3 (connect timed out)")),
                scenario("master and one replica dead",
                        Map.of("m1", probes(down(M), down(R1), crashed(R2)),
                                "m2", probes(down(M), down(R1), crashed(R2))),
                        expect(Kind.DEAD_MASTER_AND_SOME_REPLICAS, M, "127.0.0.1:3312 unreachable",
                                "127.0.0.1:3313 io CONNECTING")),
                scenario("everything dead",
                        Map.of("m1", probes(down(M), down(R1), down(R2)),
                                "m2", probes(down(M), down(R1), down(R2))),
                        expect(Kind.DEAD_MASTER_AND_REPLICAS, M, "127.0.0.1:3312 unreachable: m1 (" + REFUSED)),
                scenario("dead master of a group without replicas: nothing to promote", LONE_MASTER,
                        Map.of("m1", probes(down(M))),
                        expect(Kind.DEAD_MASTER_AND_REPLICAS, M, "no replicas")),
                scenario("dead replica under a live master",
                        Map.of("m1", probes(master(), replica(R1), down(R2)),
                                "m2", probes(master(), replica(R1), down(R2, "No route to host"))),
                        expect(Kind.DEAD_REPLICA, R2, "m1 (" + REFUSED + ")", "m2 (No route to host)")),
                scenario("a replica one monitor reaches is not dead",
                        Map.of("m1", probes(master(), replica(R1), down(R2)),
                                "m2", probes(master(), replica(R1), replica(R2)))),
                scenario("a monitor lacking some nodes",
                        Map.of("m1", probes(master()),
                                "m2", probes(master(), replica(R1), replica(R2)))),
                scenario("stopped SQL thread",
                        Map.of("m1", probes(master(), replica(R1).sqlStopped(1062, "Duplicate entry '7' for key 'PRIMARY'"), replica(R2))),
                        expect(Kind.REPLICATION_STOPPED, R1, "io YES", "sql stopped errno 1062", "Duplicate entry")),
                scenario("IO thread stopped by hand",
                        Map.of("m1", probes(master(), replica(R1), replica(R2).io(IoState.NO, 0, ""))),
                        expect(Kind.REPLICATION_STOPPED, R2, "io NO, sql running")),
                scenario("replica not configured as a replica",
                        Map.of("m1", probes(master(), replica(R1).notReplicating(), replica(R2))),
                        expect(Kind.REPLICATION_STOPPED, R1, "not configured")),
                scenario("lagging replica",
                        Map.of("m1", probes(master(), replica(R1).lag(3), replica(R2).lag(30))),
                        expect(Kind.LAGGING_REPLICA, R2, "30 s behind", "limit 10 s")),
                scenario("lag at the limit is not lagging",
                        Map.of("m1", probes(master(), replica(R1).lag(10), replica(R2).lag(10)))),
                scenario("two writable nodes",
                        Map.of("m1", probes(master(), replica(R1).writable(), replica(R2))),
                        expect(Kind.TWO_WRITABLE_NODES, R1, "read_only is off", "127.0.0.1:3311")),
                scenario("replica pointed at another replica",
                        Map.of("m1", probes(master(), replica(R1), replica(R2).from(R1))),
                        expect(Kind.WRONG_MASTER, R2, "replicates from 127.0.0.1:3312", "master is 127.0.0.1:3311")),
                scenario("errant replica: its binlog has a domain the master never wrote",
                        Map.of("m1", probes(master().at(NOW - 500), replica(R1).executed("0-1-42,1-3312-3"), replica(R2))),
                        expect(Kind.ERRANT_TRANSACTIONS, R1, "executed 0-1-42,1-3312-3", "master's executed 0-1-42")),
                scenario("errant replica: a local write probed after the master",
                        Map.of("m1", probes(master(), replica(R1).at(NOW - 500).executed("0-3312-43"), replica(R2))),
                        expect(Kind.ERRANT_TRANSACTIONS, R1, "0-3312-43", "written locally")),
                scenario("busy master: a replica probed after the master holds newer transactions, not errant",
                        Map.of("m1", probes(master(), replica(R1).at(NOW - 500).received("0-1-45").executed("0-1-45"),
                                replica(R2)))),
                scenario("MySQL errant replica probed before the master",
                        Map.of("m1", probes(master().at(NOW - 500).executed(mysql(U1 + ":1-100")),
                                replica(R1).received(mysql(U1 + ":1-100,"+ U2 + ":1")).executed(mysql(U1 + ":1-100," + U2 + ":1")),
                                replica(R2).received(mysql(U1 + ":1-99")).executed(mysql(U1 + ":1-99")))),
                        expect(Kind.ERRANT_TRANSACTIONS, R1, U2 + ":1")),
                scenario("stale probes ignored: an old failure does not make the master unreachable",
                        Map.of("m1", probes(down(M).at(STALE), replica(R1), replica(R2)),
                                "m2", probes(master(), replica(R1), replica(R2)))),
                scenario("stale probes ignored: an old success does not keep a crashed master alive",
                        Map.of("m1", probes(master().at(STALE), crashed(R1), crashed(R2)),
                                "m2", probes(down(M), crashed(R1), crashed(R2))),
                        expect(Kind.DEAD_MASTER, M, "m2 (" + REFUSED + ")", "!m1")),
                scenario("stale probes ignored: an old stopped SQL thread",
                        Map.of("m1", probes(master(), replica(R1).at(STALE).sqlStopped(1062, "Duplicate entry"), replica(R2)),
                                "m2", probes(master(), replica(R1), replica(R2)))),
                scenario("stale probes ignored: a replica seen only long ago is dead",
                        Map.of("m1", probes(master(), replica(R1), replica(R2).at(STALE))),
                        expect(Kind.DEAD_REPLICA, R2, "no fresh probe, 1 stale ignored")),
                scenario("stale probes ignored: no fresh probe of the master at all",
                        Map.of("m1", probes(master().at(STALE), replica(R1), replica(R2))),
                        expect(Kind.UNREACHABLE_MASTER, M, "no fresh probe")),
                scenario("the freshest probe of a replica wins: it has recovered",
                        Map.of("m1", probes(master(), replica(R1).at(NOW - 3_000).sqlStopped(1062, "Duplicate entry"), replica(R2)),
                                "m2", probes(master(), replica(R1).at(NOW - 1_000), replica(R2)))),
                scenario("the freshest probe of a replica wins: it has just stopped",
                        Map.of("m1", probes(master(), replica(R1).at(NOW - 3_000), replica(R2)),
                                "m2", probes(master(), replica(R1).at(NOW - 1_000).sqlStopped(1062, "Duplicate entry"), replica(R2))),
                        expect(Kind.REPLICATION_STOPPED, R1, "errno 1062")),
                scenario("interrupted recovery: master dead and a replica already writable",
                        Map.of("m1", probes(down(M), replica(R1).writable().notReplicating(), crashed(R2))),
                        expect(Kind.DEAD_MASTER, M, "127.0.0.1:3312 not replicating"),
                        expect(Kind.TWO_WRITABLE_NODES, R1)),
                scenario("problems come master first, then each replica in topology order",
                        Map.of("m1", probes(master(), replica(R1).lag(20).writable(), replica(R2).sqlStopped(1146, "Table doesn't exist")),
                                "m2", probes(down(M), replica(R1).lag(20).writable(), replica(R2).sqlStopped(1146, "Table doesn't exist"))),
                        expect(Kind.UNREACHABLE_MASTER, M, "reachable from m1", "m2 (" + REFUSED + ")"),
                        expect(Kind.LAGGING_REPLICA, R1, "20 s"),
                        expect(Kind.TWO_WRITABLE_NODES, R1),
                        expect(Kind.REPLICATION_STOPPED, R2, "errno 1146")),
                // ---- maintenance marks (issue 12)
                drained("a drained replica that is down is not a problem",
                        Set.of(R1), Map.of("m1", probes(master(), down(R1), replica(R2)),
                                "m2", probes(master(), down(R1), replica(R2)))),
                drained("a drained replica with replication stopped (being upgraded) is not a problem",
                        Set.of(R1), Map.of("m1", probes(master(), replica(R1).sqlStopped(0, ""), replica(R2)))),
                drained("the mark of one replica does not hide another's death",
                        Set.of(R1), Map.of("m1", probes(master(), down(R1), down(R2))),
                        expect(Kind.DEAD_REPLICA, R2, REFUSED)),
                drained("a drained replica that lags is still reported (the upgrade's gate waits on it)",
                        Set.of(R1), Map.of("m1", probes(master(), replica(R1).lag(60), replica(R2))),
                        expect(Kind.LAGGING_REPLICA, R1, "60 s behind")),
                drained("a drained replica that is writable is still reported (fencing is unchanged)",
                        Set.of(R1), Map.of("m1", probes(master(), replica(R1).writable(), replica(R2))),
                        expect(Kind.TWO_WRITABLE_NODES, R1, "read_only is off")),
                drained("a drained master that dies is still a dead master: the mark does not block failover",
                        Set.of(M), Map.of("m1", probes(down(M), crashed(R1), crashed(R2)),
                                "m2", probes(down(M), crashed(R1), crashed(R2))),
                        expect(Kind.DEAD_MASTER, M, "no replica hears from it")),
                drained("a dead master with a drained replica down: a failover with what is left",
                        Set.of(R1), Map.of("m1", probes(down(M), down(R1), crashed(R2))),
                        expect(Kind.DEAD_MASTER_AND_SOME_REPLICAS, M, "127.0.0.1:3312 unreachable"))
        );
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scenarios")
    void findsTheScenariosProblemsInOrderWithTheirEvidence(Case c) {
        List<Problem> problems = Analysis.analyse(c.topology(), c.byMonitor(), SETTINGS, c.drained());

        assertEquals(c.expected().stream().map(Expect::key).toList(),
                problems.stream().map(p -> p.kind() + " " + p.node()).toList(), () -> describe(problems));
        for (int i = 0; i < problems.size(); i++) {
            Problem p = problems.get(i);
            assertEquals("g1", p.group());
            for (String evidence : c.expected().get(i).evidence()) {
                if (evidence.startsWith("!")) {
                    assertFalse(p.detail().contains(evidence.substring(1)), () -> "'" + evidence + "' in " + p);
                } else {
                    assertTrue(p.detail().contains(evidence), () -> "'" + evidence + "' not in " + p);
                }
            }
        }
    }

    @Test
    void onlyDeadMastersWithSomethingLeftNeedAFailover() {
        // what the recovery keys on: a hung master seen by its replicas must not trigger one
        List<Problem> hung = Analysis.analyse(GROUP,
                Map.of("m1", probes(down(M, "Read timed out"), replica(R1), replica(R2))), SETTINGS);
        List<Problem> crashed = Analysis.analyse(GROUP,
                Map.of("m1", probes(down(M), crashed(R1), crashed(R2))), SETTINGS);
        assertFalse(hung.get(0).kind().needsFailover());
        assertTrue(crashed.get(0).kind().needsFailover());
    }

    @Test
    void theNumberOfSilentPeriodsComesFromTheSettings() {
        Map<String, Map<NodeAddress, NodeProbe>> seen = Map.of("m1",
                probes(down(M, "Read timed out"), silent(R1, 1_600), silent(R2, 1_600)));
        assertEquals(Kind.DEAD_MASTER, Analysis.analyse(GROUP, seen, SETTINGS).get(0).kind());
        List<Problem> patient = Analysis.analyse(GROUP, seen, new AnalysisSettings(10, 5_000, NOW, 500, 4));
        assertEquals(Kind.UNREACHABLE_MASTER, patient.get(0).kind());
        assertTrue(patient.get(0).detail().contains("for 4 heartbeat periods"), patient.get(0).detail());
        assertFalse(patient.get(0).kind().needsFailover());
        assertThrows(IllegalArgumentException.class, () -> new AnalysisSettings(10, 5_000, NOW, 500, 1));
        assertThrows(IllegalArgumentException.class, () -> new AnalysisSettings(10, 5_000, NOW, 0, 3));
    }

    @Test
    void theLagLimitComesFromTheSettings() {
        Map<String, Map<NodeAddress, NodeProbe>> seen = Map.of("m1", probes(master(), replica(R1).lag(5), replica(R2)));
        assertEquals(List.of(), Analysis.analyse(GROUP, seen, SETTINGS));
        List<Problem> strict = Analysis.analyse(GROUP, seen, new AnalysisSettings(4, 5_000, NOW));
        assertEquals(List.of(Kind.LAGGING_REPLICA), strict.stream().map(Problem::kind).toList());
        assertEquals(AnalysisSettings.DEFAULT_MAX_LAG_SECONDS, AnalysisSettings.of(5_000, NOW).maxLagSeconds());
    }

    @Test
    void freshnessIsJudgedAtTheSettingsTime() {
        Map<String, Map<NodeAddress, NodeProbe>> seen = Map.of("m1", probes(master(), replica(R1), replica(R2)));
        assertEquals(List.of(), Analysis.analyse(GROUP, seen, SETTINGS));
        // ten seconds later the same probes are stale: nobody has seen anything
        List<Problem> later = Analysis.analyse(GROUP, seen, SETTINGS.at(NOW + 10_000));
        assertEquals(List.of(Kind.UNREACHABLE_MASTER, Kind.DEAD_REPLICA, Kind.DEAD_REPLICA),
                later.stream().map(Problem::kind).toList());
    }

    @Test
    void settingsRejectNegativeLimits() {
        assertThrows(IllegalArgumentException.class, () -> new AnalysisSettings(-1, 5_000, NOW));
        assertThrows(IllegalArgumentException.class, () -> new AnalysisSettings(10, -1, NOW));
    }

    // ---- building probes

    static Case scenario(String name, Map<String, Map<NodeAddress, NodeProbe>> byMonitor, Expect... expected) {
        return scenario(name, GROUP, byMonitor, expected);
    }

    static Case scenario(String name, GroupTopology topology, Map<String, Map<NodeAddress, NodeProbe>> byMonitor,
                         Expect... expected) {
        return new Case(name, topology, byMonitor, List.of(expected), Set.of());
    }

    /** A scenario where {@code drained} carry a maintenance mark. */
    static Case drained(String name, Set<NodeAddress> drained, Map<String, Map<NodeAddress, NodeProbe>> byMonitor,
                        Expect... expected) {
        return new Case(name, GROUP, byMonitor, List.of(expected), drained);
    }

    static Expect expect(Kind kind, NodeAddress node, String... evidence) {
        return new Expect(kind, node, evidence);
    }

    static Map<NodeAddress, NodeProbe> probes(ProbeBuilder... builders) {
        Map<NodeAddress, NodeProbe> probes = new LinkedHashMap<>();
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

    /** The master as a monitor sees it alive: writable, not a replica, at 0-1-42. */
    static ProbeBuilder master() {
        return new ProbeBuilder(M).writable().notReplicating();
    }

    /** A healthy read-only replica of M at 0-1-42. */
    static ProbeBuilder replica(NodeAddress node) {
        return new ProbeBuilder(node);
    }

    /** A replica whose master went away: its IO thread keeps reconnecting. */
    static ProbeBuilder crashed(NodeAddress node) {
        return replica(node).io(IoState.CONNECTING, 2003, CANT_CONNECT).lag(-1);
    }

    /** A replica of M with a 500 ms heartbeat that received something {@code ms} ago. */
    static ProbeBuilder hearing(NodeAddress node, long ms) {
        return replica(node).heartbeat(500, ms);
    }

    /** A replica still connected to M (io YES) that has received nothing, heartbeats included, for {@code ms}. */
    static ProbeBuilder silent(NodeAddress node, long ms) {
        return replica(node).heartbeat(500, ms);
    }

    static ProbeBuilder down(NodeAddress node) {
        return down(node, REFUSED);
    }

    static ProbeBuilder down(NodeAddress node, String error) {
        ProbeBuilder b = new ProbeBuilder(node);
        b.error = error;
        return b;
    }

    static final class ProbeBuilder {
        final NodeAddress node;
        String error;               // non-null: unreachable
        boolean readOnly = true;
        Position executed = mariadb("0-1-42");
        boolean replicating = true;
        NodeAddress master = M;
        IoState io = IoState.YES;
        boolean sqlRunning = true;
        Position received = mariadb("0-1-42");
        int ioErrno;
        String ioError = "";
        int sqlErrno;
        String sqlError = "";
        long lag;
        long at = FRESH;
        long heartbeatMs = -1;
        long silentMs = -1;

        ProbeBuilder(NodeAddress node) {
            this.node = node;
        }

        ProbeBuilder writable() {
            readOnly = false;
            return this;
        }

        ProbeBuilder notReplicating() {
            replicating = false;
            return this;
        }

        ProbeBuilder from(NodeAddress newMaster) {
            master = newMaster;
            return this;
        }

        ProbeBuilder io(IoState state, int errno, String text) {
            io = state;
            ioErrno = errno;
            ioError = text;
            return this;
        }

        ProbeBuilder sqlStopped(int errno, String text) {
            sqlRunning = false;
            sqlErrno = errno;
            sqlError = text;
            return this;
        }

        ProbeBuilder lag(long seconds) {
            lag = seconds;
            return this;
        }

        ProbeBuilder executed(String text) {
            return executed(mariadb(text));
        }

        ProbeBuilder executed(Position position) {
            executed = position;
            return this;
        }

        ProbeBuilder received(String text) {
            return received(mariadb(text));
        }

        ProbeBuilder received(Position position) {
            received = position;
            return this;
        }

        ProbeBuilder heartbeat(long periodMs, long silent) {
            heartbeatMs = periodMs;
            silentMs = silent;
            return this;
        }

        ProbeBuilder at(long millis) {
            at = millis;
            return this;
        }

        NodeProbe build() {
            if (error != null) {
                return NodeProbe.unreachable(node, error, at);
            }
            Optional<ReplicaThreads> threads = replicating
                    ? Optional.of(new ReplicaThreads(master, io, sqlRunning, received, received, ioErrno, ioError,
                    sqlErrno, sqlError, lag, heartbeatMs, "", silentMs))
                    : Optional.empty();
            return new NodeProbe(node, true, "", node.port(), readOnly, executed, threads, false, at);
        }
    }

    static String describe(List<Problem> problems) {
        List<String> lines = new ArrayList<>();
        for (Problem p : problems) {
            lines.add(p.kind() + " " + p.node() + ": " + p.detail());
        }
        return lines.stream().collect(Collectors.joining("\n", "got:\n", ""));
    }
}
