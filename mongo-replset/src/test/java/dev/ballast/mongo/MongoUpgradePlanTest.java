package dev.ballast.mongo;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rolling-upgrade plan, a pure function: table-tested on hand-made looks at a replica set. */
class MongoUpgradePlanTest {

    static MemberStatus m(String member, String state, String version) {
        return new MemberStatus(member, true, state, 100, 1, 0, 1, 1, state.equals("PRIMARY") ? "7fffffff0000000000000001" : "",
                1, false, false, version, "");
    }

    static MemberStatus with(MemberStatus m, double priority, boolean hidden, boolean arbiter) {
        return new MemberStatus(m.member(), m.reachable(), arbiter ? "ARBITER" : m.state(), m.optimeSeconds(), m.optimeInc(),
                m.lagMs(), m.pingMs(), m.configVersion(), m.electionId(), priority, hidden, arbiter, m.version(), m.error());
    }

    static ReplicaSetStatus rs(MemberStatus... members) {
        return new ReplicaSetStatus("rs0", List.of(members), 1, 0);
    }

    static List<String> describe(List<MongoUpgradePlan.PlannedStep> steps) {
        return steps.stream().map(s -> s.member() + " " + s.action() + (s.action().equals(MongoUpgradePlan.STEP_DOWN)
                ? " " + s.parameters().get("from") + "->" + s.parameters().get("to") : "")).toList();
    }

    @Test
    void secondariesOneByOneThenStepDownThenTheOldPrimary() {
        List<MongoUpgradePlan.PlannedStep> plan = MongoUpgradePlan.plan(rs(m("a:1", "PRIMARY", "6.0.19"),
                m("b:1", "SECONDARY", "6.0.19"), m("c:1", "SECONDARY", "6.0.19")), "7.0.14");
        assertEquals(List.of(
                "b:1 mongo-stop", "b:1 mongo-install", "b:1 mongo-start", "b:1 mongo-await-secondary",
                "c:1 mongo-stop", "c:1 mongo-install", "c:1 mongo-start", "c:1 mongo-await-secondary",
                "b:1 mongo-step-down a:1->b:1",
                "a:1 mongo-stop", "a:1 mongo-install", "a:1 mongo-start", "a:1 mongo-await-secondary"), describe(plan));
        assertTrue(plan.stream().filter(s -> !s.action().equals(MongoUpgradePlan.STEP_DOWN))
                .allMatch(s -> s.parameters().get("version").equals("7.0.14")));
    }

    @Test
    void upgradedMembersGetNoStepsSoAReplanAfterAnInterruptionDoesWhatIsLeft() {
        assertEquals(List.of("c:1 mongo-stop", "c:1 mongo-install", "c:1 mongo-start", "c:1 mongo-await-secondary",
                        "b:1 mongo-step-down a:1->b:1", "a:1 mongo-stop", "a:1 mongo-install", "a:1 mongo-start",
                        "a:1 mongo-await-secondary"),
                describe(MongoUpgradePlan.plan(rs(m("a:1", "PRIMARY", "6.0.19"), m("b:1", "SECONDARY", "7.0.14"),
                        m("c:1", "SECONDARY", "6.0.19")), "7.0.14")));
        // the old primary was upgraded last and another is primary: nothing left
        assertEquals(List.of(), MongoUpgradePlan.plan(rs(m("a:1", "SECONDARY", "7.0.14"), m("b:1", "PRIMARY", "7.0.14"),
                m("c:1", "SECONDARY", "7.0.14")), "7.0.14"));
        // only the primary is left
        assertEquals(List.of("c:1 mongo-step-down b:1->c:1", "b:1 mongo-stop", "b:1 mongo-install", "b:1 mongo-start",
                        "b:1 mongo-await-secondary"),
                describe(MongoUpgradePlan.plan(rs(with(m("a:1", "SECONDARY", "7.0.14"), 0, false, false),
                        m("b:1", "PRIMARY", "7.0.2"), m("c:1", "SECONDARY", "7.0.14")), "7.0.14")));
    }

    @Test
    void aTargetOfTwoNumbersIsReachedByEveryReleaseOfThatSeries() {
        ReplicaSetStatus mixed = rs(m("a:1", "PRIMARY", "6.0.19"), m("b:1", "SECONDARY", "7.0.14"),
                m("c:1", "SECONDARY", "6.0.19"));
        assertEquals(describe(MongoUpgradePlan.plan(mixed, "7.0.14")), describe(MongoUpgradePlan.plan(mixed, "7.0")),
                "b:1 on 7.0.14 is at 7.0: not a downgrade, no steps");
        assertEquals(List.of(), MongoUpgradePlan.plan(rs(m("a:1", "PRIMARY", "7.0.14"), m("b:1", "SECONDARY", "7.0.2")), "7"));
        assertTrue(MongoUpgradePlan.compareToTarget("7.0.14", "7.0.2") > 0);
        assertTrue(MongoUpgradePlan.compareToTarget("7.0.2", "7.0.14") < 0);
        assertTrue(MongoUpgradePlan.reaches("7.0.14-rc1", "7.0.14"));
        assertTrue(!MongoUpgradePlan.reaches("", "7.0"));
        assertTrue(MongoUpgradePlan.compareVersions("7.0.14-rc1", "7.0.20") < 0, "a suffix is not a digit");
    }

    @Test
    void arbitersHiddenAndPriorityZeroMembersAreUpgradedButNeverTakeOver() {
        List<MongoUpgradePlan.PlannedStep> plan = MongoUpgradePlan.plan(rs(m("a:1", "PRIMARY", "6.0.19"),
                with(m("b:1", "SECONDARY", "6.0.19"), 0, true, false), with(m("c:1", "SECONDARY", "6.0.19"), 1, false, true),
                m("d:1", "SECONDARY", "6.0.19")), "7.0.14");
        assertTrue(describe(plan).contains("d:1 mongo-step-down a:1->d:1"), describe(plan).toString());
        assertEquals("ARBITER", plan.stream().filter(s -> s.member().equals("c:1") && s.action().equals(MongoUpgradePlan.AWAIT))
                .findFirst().orElseThrow().parameters().get("state"));
        assertEquals(17, plan.size());
    }

    @Test
    void refusals() {
        assertTrue(refusal(rs(m("a:1", "SECONDARY", "6.0.1"), m("b:1", "SECONDARY", "6.0.1")), "7.0.14")
                .contains("no primary now"));
        MemberStatus down = new MemberStatus("b:1", false, "DOWN", -1, 0, -1, -1, -1, "", 1, false, false, "", "refused");
        assertTrue(refusal(rs(m("a:1", "PRIMARY", "6.0.1"), down), "7.0.14").contains("member b:1 is down (refused)"));
        assertEquals("[replicaSet=rs0] refusing upgrade to 7.0.14: member b:1 runs 8.0.1, newer than the target: "
                + "downgrades are not planned; choose a target of at least 8.0.1",
                refusal(rs(m("a:1", "PRIMARY", "7.0.14"), m("b:1", "SECONDARY", "8.0.1")), "7.0.14"));
        assertTrue(refusal(rs(m("a:1", "PRIMARY", "7.0.14"), m("b:1", "SECONDARY", "")), "7.0.14")
                .contains("member b:1 did not report its version (buildInfo); check that the configured user may run"));
        assertEquals("[replicaSet=rs0] refusing upgrade to 7.0.14: member a:1 runs 5.0.30; MongoDB upgrades one release "
                + "series at a time: upgrade to 6.0 first", refusal(rs(m("a:1", "PRIMARY", "5.0.30"),
                m("b:1", "SECONDARY", "6.0.1")), "7.0.14"));
        assertTrue(refusal(rs(m("a:1", "PRIMARY", "4.2.1"), m("b:1", "SECONDARY", "4.2.1")), "5.0.1")
                .contains("upgrade to 4.4 first"));
        assertTrue(refusal(rs(m("a:1", "PRIMARY", "6.0.1"), with(m("b:1", "SECONDARY", "6.0.1"), 0, false, false),
                with(m("c:1", "SECONDARY", "6.0.1"), 1, false, true)), "7.0.14").contains("no secondary can take over"));
    }

    @Test
    void anUpgradeIntoTheNextSeriesNeedsTheFeatureCompatibilityVersionOfTheSeriesItLeaves() {
        ReplicaSetStatus s = rs(m("a:1", "PRIMARY", "6.0.19"), m("b:1", "SECONDARY", "6.0.19"), m("c:1", "SECONDARY", "6.0.19"));
        assertEquals(13, MongoUpgradePlan.plan(s, "7.0.14", Optional.of("6.0")).size());
        assertEquals(13, MongoUpgradePlan.plan(s, "7.0.14", Optional.empty()).size(), "unknown: not checked");
        assertEquals("[replicaSet=rs0] refusing upgrade to 7.0.14: its featureCompatibilityVersion is 5.0, and member a:1 "
                + "leaves 6.0.19: MongoDB starts a binary of the next release series only on data of FCV 6.0; set it first "
                + "('ballast upgrade fcv --group rs0 --version 6.0') and plan again",
                assertThrows(MongoRefusedException.class, () -> MongoUpgradePlan.plan(s, "7.0.14", Optional.of("5.0")))
                        .getMessage());
        assertEquals(13, MongoUpgradePlan.plan(s, "6.0.20", Optional.of("5.0")).size(), "within a series the FCV does not"
                + " matter");
        assertEquals(List.of(), MongoUpgradePlan.plan(rs(m("a:1", "PRIMARY", "7.0.14")), "7.0", Optional.of("6.0")),
                "nothing to do: nothing to check");
    }

    @Test
    void featureCompatibilityIsRefusedWhileAnyMemberRunsOlderBinaries() {
        MongoUpgradePlan.checkFeatureCompatibility(rs(m("a:1", "PRIMARY", "7.0.14"), m("b:1", "SECONDARY", "7.0.2")), "7.0");
        String e = assertThrows(MongoRefusedException.class, () -> MongoUpgradePlan.checkFeatureCompatibility(
                rs(m("a:1", "PRIMARY", "7.0.14"), m("b:1", "SECONDARY", "6.0.19")), "7.0")).getMessage();
        assertEquals("[replicaSet=rs0 member=b:1] refusing featureCompatibilityVersion 7.0: it runs 6.0.19; finish the "
                + "rolling upgrade of every member first", e);
    }

    static String refusal(ReplicaSetStatus s, String version) {
        return assertThrows(MongoRefusedException.class, () -> MongoUpgradePlan.plan(s, version)).getMessage();
    }
}
