package dev.ballast.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ballast} CLI against a real replica group and ZooKeeper: switchover, status (tree and JSON), rejoin, strict
 * usage errors that move nothing.
 */
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
        assertEquals(0, run("status", "--config", config.toString()), err());
        assertTrue(out().contains("master  " + to), out());
        assertTrue(out().lines().anyMatch(l -> l.contains("switchover") && l.contains(before.master() + " → " + to)), out());
        assertEquals(0, run("status", "--config", config.toString(), "--json"), err());
        JsonNode json = new ObjectMapper().readTree(out());
        assertEquals(to, json.at("/groups/0/master").asText(), out());
        assertEquals(after.epoch(), json.at("/groups/0/epoch").asLong());
        JsonNode last = json.get("recoveries").get(json.get("recoveries").size() - 1);
        assertEquals("switchover", last.get("kind").asText());
        assertEquals(before.master().toString(), last.get("beforeMaster").asText());
        assertEquals(to, last.get("afterMaster").asText());
    }

    /**
     * The defect of issue 11: the old parser took any {@code --key value} and read only the keys it knew, so a misspelt
     * {@code --To} was ignored and a replica of the CLI's own choice was promoted.
     */
    @Test
    void aMisspeltToIsAUsageErrorAndNoMasterMoves() throws Exception {
        Monitor m = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m::acting);
        GroupTopology before = bed.topology();
        String to = before.replicas().get(1).toString();
        int code = run("switchover", "--config", config.toString(), "--group", "g0", "--To", to);
        assertEquals(2, code, "exit status; stdout: " + out() + " stderr: " + err());
        assertTrue(err().contains("'--To'"), err());
        assertTrue(err().contains("--to?"), "suggests the valid option: " + err());
        GroupTopology after = bed.topology();
        assertEquals(before.master(), after.master(), "the master did not move");
        assertEquals(before.epoch(), after.epoch(), "the epoch did not change");
        assertFalse(bed.node(before.master()).state().readOnly(), "the master is still writable");
    }

    @Test
    void statusDrawsTheMasterAndEachReplicaWithItsStateAndJsonHasTheSameFacts() throws Exception {
        Monitor m = bed.startMonitor("m1", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m::acting);
        GroupTopology t = bed.topology();
        MariaDbNode stopped = bed.node(t.replicas().get(1));
        stopped.execute("STOP SLAVE SQL_THREAD");
        FailoverBed.await("the monitor sees the stopped SQL thread", Duration.ofSeconds(15), () ->
                run("status", "--config", config.toString()) == 0 && out().lines().anyMatch(l -> l.contains(stopped.address())
                        && l.contains("stopped")));
        String tree = out();
        System.out.println("STATUS TREE\n" + tree);
        assertTrue(tree.lines().anyMatch(l -> l.contains("master") && l.contains(t.master().toString()) && l.contains("writable")
                && l.contains("gtid ")), tree);
        String running = t.replicas().get(0).toString();
        assertTrue(tree.lines().anyMatch(l -> l.contains("replica") && l.contains(running) && l.contains("replicating")
                && l.contains("lag ") && l.contains("gtid ")), tree);
        assertTrue(tree.lines().anyMatch(l -> l.contains("replica") && l.contains(stopped.address()) && l.contains("stopped")
                && l.contains("SQL thread stopped")), tree);
        assertTrue(tree.contains("monitors: m1"), tree);
        assertFalse(tree.contains("\u001b["), "no colour when stdout is not a terminal");

        assertEquals(0, run("status", "--config", config.toString(), "--json"), err());
        JsonNode json = new ObjectMapper().readTree(out());
        assertEquals(t.master().toString(), json.at("/groups/0/master").asText());
        JsonNode nodes = json.at("/groups/0/nodes");
        assertEquals(3, nodes.size(), out());
        for (JsonNode n : nodes) {
            String address = n.get("address").asText();
            String state = n.get("state").asText();
            assertTrue(tree.lines().anyMatch(l -> l.contains(n.get("role").asText()) && l.contains(address) && l.contains(state)),
                    "the tree shows " + address + " as " + state + ":\n" + tree);
            assertEquals("m1", n.get("monitors").fieldNames().next(), out());
        }
        assertEquals("stopped", nodes.get(2).get("state").asText(), out());
        stopped.execute("START SLAVE SQL_THREAD");

        // a running data source registers under planes/: status lists it with the schema version it has loaded
        try (dev.ballast.jdbc.BallastDataSource ds = new dev.ballast.jdbc.BallastDataSource(bed.config())) {
            assertEquals(0, run("status", "--config", config.toString()), err());
            String withPlane = out();
            System.out.println("STATUS TREE WITH A DATA PLANE\n" + withPlane);
            String process = java.lang.management.ManagementFactory.getRuntimeMXBean().getName();
            assertTrue(withPlane.contains("data planes (schema version 0)"), withPlane);
            assertTrue(withPlane.lines().anyMatch(l -> l.contains(process) && l.contains("schema version 0")), withPlane);
            assertEquals(0, run("status", "--config", config.toString(), "--json"), err());
            JsonNode planes = new ObjectMapper().readTree(out()).get("dataPlanes");
            assertEquals(1, planes.size(), out());
            assertEquals(process, planes.get(0).get("process").asText());
        }
        assertEquals(0, run("status", "--config", config.toString(), "--json"), err());
        assertEquals(0, new ObjectMapper().readTree(out()).get("dataPlanes").size(), "closed: its entry is gone " + out());
    }

    @Test
    void usageErrorsExitWith2AndSayWhy() {
        assertEquals(2, run());
        assertEquals(2, run("switchover", "--config", config.toString()));
        assertTrue(err().contains("Missing required option: '--group=GROUP'"), err());
        assertEquals(2, run("switchover", "--config", config.toString(), "--group"));
        assertTrue(err().contains("Missing required parameter for option '--group'"), err());
        assertEquals(2, run("frobnicate", "--config", config.toString()));
        assertTrue(err().contains("unknown command 'frobnicate'"), err());
        assertEquals(2, run("status", "--config", config.toString(), "g0"));
        assertTrue(err().contains("unexpected argument 'g0'"), err());
        assertEquals(2, run("switchover", "--config", config.toString(), "--group", "g9"));
        assertTrue(err().contains("no group 'g9'"), err());
        GroupTopology before = bed.topology();
        int notAReplica = run("switchover", "--config", config.toString(), "--group", "g0", "--to", "127.0.0.1:1");
        assertTrue(notAReplica == 1 || notAReplica == 3, "failed (1) or refused (3): " + notAReplica + " " + err());
        assertTrue(err().contains("no topology in ZooKeeper yet") || err().contains("not a replica"), err());
        assertEquals(before, bed.topology());
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
        int code = run("rejoin", "--config", config.toString(), "--group", "g0", "--node", old.address());
        assertEquals(3, code, "refused for safety (RefusedException): " + err());
        assertTrue(err().contains("errant transactions"), err());
        assertEquals(after, bed.topology(), "not rejoined");
    }
}
