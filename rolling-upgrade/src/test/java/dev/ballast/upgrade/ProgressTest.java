package dev.ballast.upgrade;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgressTest {

    final Step running = Step.pending("g0", "db2:3306", Action.of("drain"), "").running(1_000);
    final Step done = running.ended(Step.State.DONE, 1_000, 2_204, "drained\n2 reads waited", "");
    final Operation op = Operation.create("op-1", "upgrade", "shop", "t", 0,
            List.of(done, done, Step.pending("g1", "", Action.of("switchover"), "")));

    @Test
    void plainOutputIsOneLinePerFinishedStep() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = Progress.plain(new PrintStream(b, true, StandardCharsets.UTF_8));
        p.started(op, 1, running);
        p.ended(op, 1, done);
        assertEquals("op-1 2/3 g0 db2:3306 drain: DONE in 1.204 s (drained 2 reads waited)\n", b.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aTerminalGetsABarRedrawnInPlace() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        Progress p = Progress.terminal(new PrintStream(b, true, StandardCharsets.UTF_8));
        p.started(op, 1, running);
        p.ended(op, 1, done);
        assertEquals("\r[######--------------] 2/3 g0 db2:3306 drain ..."
                + "\r\033[K[#############-------] op-1 2/3 g0 db2:3306 drain: DONE in 1.204 s (drained 2 reads waited)\n",
                b.toString(StandardCharsets.UTF_8));
    }
}
