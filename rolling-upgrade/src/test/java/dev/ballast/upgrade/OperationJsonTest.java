package dev.ballast.upgrade;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OperationJsonTest {

    static final String NASTY = "quote \" backslash \\ newline\n tab\t nul\u0000 é 日本 😀 </script> ${x} {host}";

    static Operation sample() {
        Step a = Step.pending("g0", "db1:3306", new Action("drain", Map.of("timeoutMs", "5000", "z", NASTY)),
                "replica of g0, threads running");
        Step b = new Step("g0", "", Action.of("switchover"), "", Step.State.FAILED, 1_000, 2_500, "out " + NASTY,
                "error " + NASTY);
        return new Operation("upgrade-1", "upgrade", "shop", "alice@host " + NASTY, 1_733_000_000_000L,
                Operation.State.PAUSED, "why " + NASTY, List.of(a, b));
    }

    @Test
    void anOperationWithNastyTextSurvivesTheRoundTrip() {
        Operation op = sample();
        String json = op.toJson();
        Operation back = Operation.fromJson(json, "test");
        assertEquals(op, back);
        assertEquals(json, back.toJson());
    }

    @Test
    void missingOptionalFieldsReadAsEmptyNotNull() {
        String json = "{\"id\":\"op-1\",\"kind\":\"upgrade\",\"cluster\":\"c\",\"createdAtMs\":5,"
                + "\"steps\":[{\"group\":\"g1\",\"action\":{\"name\":\"noop\"},\"startedAtMs\":0,\"endedAtMs\":0}]}";
        Operation op = Operation.fromJson(json, "test");
        assertEquals(Operation.State.PENDING, op.state());
        Step s = op.steps().get(0);
        assertEquals("", s.node());
        assertEquals("", s.output());
        assertEquals(Step.State.PENDING, s.state());
        assertEquals(Map.of(), s.action().parameters());
    }

    @Test
    void parametersAreStoredSortedSoTheSamePlanPrintsTheSame() {
        Action a = new Action("x", Map.of("b", "2", "a", "1", "c", "3"));
        assertEquals(List.of("a", "b", "c"), List.copyOf(a.parameters().keySet()));
        assertTrue(new Operation("o", "k", "c", "", 0, null, null, List.of(Step.pending("g", "", a, ""))).toJson()
                .contains("{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}"));
    }

    @Test
    void badIdsAndEmptyPlansAreRefused() {
        Step s = Step.pending("g", "", Action.of("x"), "");
        assertThrows(IllegalArgumentException.class, () -> Operation.create("../x", "k", "c", "", 0, List.of(s)));
        assertThrows(IllegalArgumentException.class, () -> Operation.create("ok", "k", "c", "", 0, List.of()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Operation.fromJson("{\"id\":\"x\",\"steps\":[{\"group\":\"g\"}]}", "operation at /p"));
        assertTrue(e.getMessage().contains("operation at /p"), e.getMessage());
    }

    @Test
    void nextIsTheFirstStepNeitherDoneNorSkipped() {
        Step done = Step.pending("g", "", Action.of("x"), "").ended(Step.State.DONE, 1, 2, "", "");
        Step skipped = done.ended(Step.State.SKIPPED, 1, 2, "", "");
        Step running = done.running(3);
        Operation op = Operation.create("o", "k", "c", "", 0, List.of(done, skipped, running, done));
        assertEquals(2, op.next());
        assertEquals(-1, Operation.create("o", "k", "c", "", 0, List.of(done, skipped)).next());
    }
}
