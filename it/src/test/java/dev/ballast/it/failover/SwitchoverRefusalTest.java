package dev.ballast.it.failover;

import dev.ballast.failover.RefusedException;
import dev.ballast.failover.Switchover;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: a switchover chooses through the Planner, and a {@code --to} node that is {@code must_not}, has errant
 * transactions or lags is refused ({@link RefusedException}) before anything changes: no SWITCHING phase, no fencing, no
 * audit record. Real MariaDB servers in GTID replication and a real ZooKeeper; no monitor runs (the test writes the
 * config's topology to ZooKeeper itself), so nothing else moves the master.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SwitchoverRefusalTest {

    FailoverBed bed;
    GroupTopology before;
    TopologyStore.Versioned seen;

    @BeforeEach
    void start() {
        bed = FailoverBed.start("refusals", 2, "");
        bed.store().bootstrap(bed.config());
        seen = bed.store().read("g0").orElseThrow();
        before = seen.topology();
    }

    @AfterEach
    void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    /** Nothing changed: the same znode version (no SWITCHING published), the master writable, no audit record. */
    void assertNothingChanged() {
        TopologyStore.Versioned now = bed.store().read("g0").orElseThrow();
        assertEquals(seen, now, "the topology was not written (no SWITCHING phase)");
        assertFalse(bed.node(before.master()).state().readOnly(), "the master was not fenced");
        assertEquals(0, bed.store().recoveries().size(), "no audit record");
    }

    static void assertNames(String message, String... parts) {
        System.out.println("REFUSED: " + message);
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' not in: " + message);
        }
    }

    @Test
    void switchoverToAMustNotReplicaIsRefusedAndTheMasterStays() throws Exception {
        NodeAddress mustNot = before.replicas().get(1);
        ClusterConfig config = bed.config("  promotion:", "    \"" + mustNot + "\": must_not");
        RefusedException e = assertThrows(RefusedException.class,
                () -> new Switchover(config, bed.store(), "test").run("g0", Optional.of(mustNot)));
        assertNames(e.getMessage(), "cluster=refusals", "group=g0", "node=" + mustNot, "rule must_not",
                "nothing was changed", before.master() + " is still master", "failover.promotion",
                "switch over to " + before.replicas().get(0));
        assertNothingChanged();

        // without --to the Planner's choice skips it
        Switchover.Result r = new Switchover(config, bed.store(), "test").run("g0", Optional.empty());
        assertEquals(before.replicas().get(0), r.after().master());
    }

    @Test
    void switchoverToAReplicaWithAnErrantTransactionIsRefusedNamingIt() throws Exception {
        NodeAddress errant = before.replicas().get(0);
        MariaDbNode node = bed.node(errant);
        bed.bed().awaitReplication();
        node.execute("CREATE DATABASE errant_only_here"); // admin has READ_ONLY ADMIN: an errant GTID on a replica
        String gtid = node.gtidBinlogPos();
        assertTrue(gtid.contains("-" + node.serverId() + "-"), "an errant GTID of the replica's own server id: " + gtid);
        RefusedException e = assertThrows(RefusedException.class,
                () -> new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.of(errant)));
        assertNames(e.getMessage(), "cluster=refusals", "group=g0", "node=" + errant, "errant transactions", gtid,
                "nothing was changed", "rebuild it from a backup of the master", "switch over to " + before.replicas().get(1));
        assertNothingChanged();

        // without --to the errant replica is never the candidate
        Switchover.Result r = new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty());
        assertNotEquals(errant, r.after().master());
        assertEquals(before.replicas().get(1), r.after().master());
    }

    @Test
    void switchoverToALaggingReplicaIsRefusedBeforeWritesAreHeld() throws Exception {
        NodeAddress lagging = before.replicas().get(0);
        MariaDbNode node = bed.node(lagging);
        node.execute("STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY = 3600", "START SLAVE");
        bed.node(before.master()).execute("CREATE DATABASE after_the_delay");
        ClusterConfig config = bed.config("  applyTimeoutMs: 1000");
        long started = System.nanoTime();
        RefusedException e = assertThrows(RefusedException.class,
                () -> new Switchover(config, bed.store(), "test").run("g0", Optional.of(lagging)));
        long ms = (System.nanoTime() - started) / 1_000_000L;
        assertNames(e.getMessage(), "cluster=refusals", "group=g0", "node=" + lagging, "it lags",
                bed.node(before.master()).gtidBinlogPos(), "failover.applyTimeoutMs 1000 ms", "nothing was changed",
                "Wait until it catches up");
        assertTrue(ms < 10_000, "refused after the apply timeout, not later: " + ms + " ms");
        assertNothingChanged();
        node.execute("STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY = 0", "START SLAVE");
    }
}
