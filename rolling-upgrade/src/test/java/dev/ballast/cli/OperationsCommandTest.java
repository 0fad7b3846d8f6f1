package dev.ballast.cli;

import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.Step;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OperationsCommandTest {

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        out.reset();
        err.reset();
        return BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void operationsParsesStrictly() {
        assertEquals(2, run("operations"));
        assertTrue(err().contains("Missing command: give list or show ID"), err());
        assertEquals(2, run("operations", "shwo", "op-1"));
        assertTrue(err().contains("unknown command 'shwo'") && err().contains("ballast operations show?"), err());
        assertEquals(2, run("operations", "show", "--config", "c.yaml"));
        assertTrue(err().contains("Missing required parameter: 'ID'"), err());
        assertEquals(2, run("operations", "list", "--config", "c.yaml", "extra"));
        assertTrue(err().contains("unexpected argument 'extra'"), err());
        for (String[] verb : new String[][]{{"operations"}, {"operations", "list"}, {"operations", "show"}}) {
            String[] args = java.util.Arrays.copyOf(verb, verb.length + 1);
            args[verb.length] = "--help";
            assertEquals(0, run(args), String.join(" ", verb));
            assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: ballast " + String.join(" ", verb)),
                    out.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void listAndShowPrintEveryStepOnItsOwnLinesEvenWithNewlinesInTheText() {
        Step done = Step.pending("g0", "db1:3306", new Action("drain", Map.of("timeoutMs", "5000")), "replica of g0")
                .ended(Step.State.DONE, 1_000, 2_500, "drained", "");
        Step failed = Step.pending("g0", "", Action.of("switchover"), "").ended(Step.State.FAILED, 3_000, 3_100, "",
                "no candidate\nsee status");
        Operation op = new Operation("op-1", "upgrade", "shop", "alice", 0, Operation.State.PAUSED, "step 2 failed\nfix",
                List.of(done, failed, Step.pending("g1", "db4:3306", Action.of("drain"), "")));
        assertEquals("op-1  upgrade  PAUSED  1/3 steps  1970-01-01T00:00:00Z by alice  step 2 failed\\nfix\n",
                OperationsCommand.list(List.of(op)));
        assertEquals("no operations\n", OperationsCommand.list(List.of()));
        String show = OperationsCommand.show(op);
        assertTrue(show.contains("  1/3 DONE     g0 db1:3306 drain {timeoutMs=5000}  started 1970-01-01T00:00:01Z took 1.500 s\n"
                + "      precondition: replica of g0\n      output: drained\n"), show);
        assertTrue(show.contains("  2/3 FAILED   g0 switchover  started 1970-01-01T00:00:03Z took 0.100 s\n"
                + "      error: no candidate\\nsee status\n"), show);
        assertTrue(show.endsWith("  3/3 PENDING  g1 db4:3306 drain\n"), show);
    }
}
