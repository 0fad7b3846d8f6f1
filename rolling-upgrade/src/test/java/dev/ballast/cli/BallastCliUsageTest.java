package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing only: every case here fails before any config is read or any connection is made. */
class BallastCliUsageTest {

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        out.reset();
        err.reset();
        return BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMisspeltOptionIsNamedAndTheRightOneSuggested() {
        assertEquals(2, run("switchover", "--config", "c.yaml", "--group", "g0", "--To", "127.0.0.1:3313"));
        assertTrue(err().contains("unknown option '--To'"), err());
        assertTrue(err().contains("Did you mean: --to?"), err());
        assertEquals(2, run("ack", "--config", "c.yaml", "--grup", "g0"));
        assertTrue(err().contains("unknown option '--grup'") && err().contains("Did you mean: --group?"), "a misspelt required "
                + "option is named, not only the missing one: " + err());
        assertEquals(2, run("status", "--config", "c.yaml", "--jsno"));
        assertTrue(err().contains("Did you mean: --json?"), err());
    }

    @Test
    void aMissingValueAMissingRequiredOptionAStrayArgumentAndAnUnknownCommandAreUsageErrors() {
        assertEquals(2, run("switchover", "--config", "c.yaml", "--group"));
        assertTrue(err().contains("Missing required parameter for option '--group'"), err());
        assertEquals(2, run("switchover", "--config", "c.yaml"));
        assertTrue(err().contains("Missing required option: '--group=GROUP'"), err());
        assertEquals(2, run("rejoin", "--config", "c.yaml", "--group", "g0"));
        assertTrue(err().contains("'--node=HOST:PORT'"), err());
        assertEquals(2, run("status", "--config", "c.yaml", "g0"));
        assertTrue(err().contains("unexpected argument 'g0'"), err());
        assertEquals(2, run("stauts"));
        assertTrue(err().contains("unknown command 'stauts'") && err().contains("ballast status?"), err());
        assertEquals(2, run("switchover", "--config", "c.yaml", "--group", "g0", "--to", "nohost"));
        assertTrue(err().contains("Invalid value for option '--to': 'nohost' is not host:port (a server is named HOST:PORT"), err());
        assertTrue(!err().contains("java.lang."), "no Java class names in a usage error: " + err());
        assertEquals(2, run("frobnicate", "--config", "c.yaml"));
        assertTrue(err().contains("unknown command 'frobnicate'") && err().contains("Commands: monitor, status"), err());
        assertEquals(2, run());
    }

    @Test
    void aConfigThatCannotBeReadIsAUsageErrorNamingTheFile(@TempDir Path dir) throws Exception {
        assertEquals(2, run("status", "--config", dir.resolve("missing.yaml").toString()));
        assertTrue(err().contains("missing.yaml"), err());
        Path fixed = Files.writeString(dir.resolve("static.yaml"), "name: shop\ndatabase: shop\ncredentials:\n  user: a\n"
                + "  password: b\ngroups:\n  g0:\n    master: 127.0.0.1:3311\n    replicas: []\n");
        assertEquals(2, run("status", "--config", fixed.toString()));
        assertTrue(err().contains("has no failover.zookeeper"), err());
    }

    @Test
    void everyVerbHasHelpAndTheVersionComesFromThePom() {
        for (String verb : new String[]{"monitor", "status", "switchover", "rejoin", "ack", "operations", "proxy", "hash-password", "version"}) {
            assertEquals(0, run(verb, "--help"), verb);
            assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: ballast " + verb), verb);
        }
        assertEquals(0, run("upgrade", "fcv", "--help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: ballast upgrade fcv"), out.toString());
        assertEquals(2, run("upgrade", "fcv", "--config", "c.yaml", "--group", "rs0"));
        assertTrue(err().contains("Missing required option: '--version=VERSION'"), err());
        assertEquals(0, run("version"));
        String v = out.toString(StandardCharsets.UTF_8);
        assertTrue(v.startsWith("ballast ") && !v.contains("${") && v.lines().findFirst().orElseThrow().matches("ballast \\d+\\.\\d+.*"), v);
    }

    @Test
    void aRefusalExitsWith3AndOtherFailuresWith1() {
        var cmd = BallastCli.commandLine(false);
        StringWriter text = new StringWriter();
        cmd.setErr(new java.io.PrintWriter(text, true));
        assertEquals(3, BallastCli.failure(new RefusedException("[cluster=shop group=g0] 127.0.0.1:3313 is must_not"), cmd));
        assertTrue(text.toString().contains("refused: [cluster=shop group=g0] 127.0.0.1:3313 is must_not"), text.toString());
        assertEquals(1, BallastCli.failure(new IllegalStateException("boom"), cmd));
    }

    @Test
    void suggestionsIgnoreCaseAndRejectWhatIsFarOff() {
        var names = java.util.List.of("--to", "--group", "--config", "--help");
        assertEquals("--to", Suggestions.closest("--To", names).orElseThrow());
        assertEquals("--group", Suggestions.closest("--gruop", names).orElseThrow());
        assertEquals("--config", Suggestions.closest("--conifg=x.yaml", names).orElseThrow());
        assertFalse(Suggestions.closest("--frobnicate", names).isPresent());
    }
}
