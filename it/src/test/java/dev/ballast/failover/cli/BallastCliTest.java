package dev.ballast.failover.cli;

import dev.ballast.failover.Monitor;
import dev.ballast.it.failover.FailoverBed;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.replication.GroupTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code ballast} CLI against a real replica group and ZooKeeper: switchover, status, rejoin, usage errors. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BallastCliTest {

    FailoverBed bed;
    Path config;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void start() {
        bed = FailoverBed.start("cli", 2, "");
        config = bed.yaml("  antiFlapWindowMs: 0").writeTo(bed.bed().directory().resolve("cli.yaml"));
    }

    @AfterEach
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    int run(String... args) {
        out.reset();
        err.reset();
        return BallastCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void switchoverToANamedReplicaThenStatusShowsIt() throws Exception {
        Monitor m = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m::acting);
        GroupTopology before = bed.topology();
        String to = before.replicas().get(1).toString();
        assertEquals(0, run("switchover", "--config", config.toString(), "--group", "g0", "--to", to), err());
        assertTrue(out().contains("to " + to), out());
        GroupTopology after = bed.topology();
        assertEquals(to, after.master().toString());
        assertEquals(before.epoch() + 1, after.epoch());
        assertTrue(after.replicas().contains(before.master()), "the old master became a replica: " + after);
        assertTrue(bed.node(before.master()).state().readOnly());
        assertEquals(0, run("status", "--config", config.toString()));
        assertTrue(out().contains("\"master\":\"" + to + "\""), out());
        assertTrue(out().contains("\"kind\":\"switchover\""), out());
    }

    @Test
    void usageErrorsExitWith2AndSayWhy() {
        assertEquals(2, run());
        assertEquals(2, run("switchover", "--config", config.toString()));
        assertTrue(err().contains("--group is required"), err());
        assertEquals(2, run("frobnicate", "--config", config.toString()));
        assertTrue(err().contains("unknown command 'frobnicate'"), err());
        assertEquals(1, run("switchover", "--config", config.toString(), "--group", "g0", "--to", "127.0.0.1:1"));
        assertTrue(err().contains("no topology in ZooKeeper yet") || err().contains("not a replica"), err());
    }

    @Test
    void rejoinIsRefusedForAnOldMasterWithErrantTransactions() throws Exception {
        Monitor m = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        GroupTopology before = bed.topology();
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m::acting);
        MariaDbNode old = bed.node(before.master());
        old.crash();
        FailoverBed.await("a failover", Duration.ofSeconds(15), () -> bed.topology().epoch() == before.epoch() + 1);
        m.close();
        old.restart(); // writable, as its config says
        old.execute("CREATE DATABASE errant_only_here");
        GroupTopology after = bed.topology();
        assertEquals(1, run("rejoin", "--config", config.toString(), "--group", "g0", "--node", old.address()));
        assertTrue(err().contains("errant transactions"), err());
        assertEquals(after, bed.topology(), "not rejoined");
    }
}
