package dev.ballast.it.failover;

import dev.ballast.failover.AuditRecord;
import dev.ballast.failover.RefusedException;
import dev.ballast.failover.Rejoin;
import dev.ballast.rules.GroupConfig;
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

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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

    @Test
    void switchoverToTheMasterOrToAServerOutsideTheConfigIsRefusedSayingWhatItIs() {
        RefusedException toMaster = assertThrows(RefusedException.class,
                () -> new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.of(before.master())));
        assertNames(toMaster.getMessage(), "cluster=refusals", "group=g0", "it is already the master of group g0",
                "nothing was changed", before.replicas().get(0).toString());
        assertFalse(toMaster.getMessage().contains("rejoin"), "no advice to rejoin the master: " + toMaster.getMessage());
        NodeAddress stranger = NodeAddress.parse("127.0.0.1:1");
        RefusedException toStranger = assertThrows(RefusedException.class,
                () -> new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.of(stranger)));
        assertNames(toStranger.getMessage(), "127.0.0.1:1", "not a server of cluster refusals", "nothing was changed");
        assertFalse(toStranger.getMessage().contains("rejoin"), "no advice to rejoin a stranger: " + toStranger.getMessage());
        assertNothingChanged();
    }

    /** What a switchover whose process was killed after publishing SWITCHING and fencing the master leaves behind. */
    String interruptSwitchover() throws Exception {
        assertTrue(bed.store().compareAndSet(before.withPhase(GroupTopology.Phase.SWITCHING), seen.version()));
        bed.node(before.master()).execute("SET GLOBAL read_only = 1");
        return bed.store().appendRecovery(new AuditRecord("switchover", "g0", "killed@cli").topology("before", before)
                .text("candidate", before.replicas().get(0).toString()).toJson());
    }

    @Test
    void anInterruptedSwitchoverIsRolledBackByTheNextOneWhenNoReplicaWasPromoted() throws Exception {
        String interrupted = interruptSwitchover();
        assertThrows(RefusedException.class, () -> new Switchover(bed.config(), bed.store(), "test")
                .run("g0", Optional.of(NodeAddress.parse("127.0.0.1:1"))));
        assertEquals(GroupTopology.Phase.SWITCHING, bed.store().read("g0").orElseThrow().topology().phase(),
                "a refused --to rolls nothing back");
        Switchover.Result r = new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty());
        assertEquals(before.master(), r.before().master(), "the interrupted one moved nothing");
        assertEquals(GroupTopology.Phase.SERVING, r.before().phase());
        assertEquals(before.epoch() + 1, r.after().epoch());
        assertEquals(GroupTopology.Phase.SERVING, bed.store().read("g0").orElseThrow().topology().phase());
        assertFalse(bed.node(r.after().master()).state().readOnly(), "the new master takes writes");
        String record = bed.store().recoveries().stream().filter(x -> x[0].equals(interrupted)).findFirst().orElseThrow()[1];
        assertEquals("interrupted", AuditRecord.summary(record).state(), record);
        assertTrue(record.contains("rolled back by test"), record);
    }

    @Test
    void anInterruptedSwitchoverThatPromotedAReplicaIsRefusedNotRolledBack() throws Exception {
        interruptSwitchover();
        NodeAddress promoted = before.replicas().get(0);
        bed.node(promoted).execute("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = 0");
        RefusedException e = assertThrows(RefusedException.class,
                () -> new Switchover(bed.config(), bed.store(), "test").run("g0", Optional.empty()));
        assertNames(e.getMessage(), "cluster=refusals", "group=g0", "phase SWITCHING", promoted + " is writable",
                "no longer a replica", "nothing was changed", "Interrupted switchover");
        TopologyStore.Versioned now = bed.store().read("g0").orElseThrow();
        assertNotNull(now);
        assertEquals(GroupTopology.Phase.SWITCHING, now.topology().phase(), "left as it was");
        assertTrue(bed.node(before.master()).state().readOnly(), "the old master stays fenced: two writable masters otherwise");
    }

    @Test
    void rejoinOfAServerOfAnotherGroupIsRefusedAndItKeepsReplicatingFromItsOwnMaster() throws Exception {
        // the second replica leaves g0's topology and is, in the config, a server of another group g1
        NodeAddress other = before.replicas().get(1);
        GroupTopology without = new GroupTopology("g0", before.master(), List.of(before.replicas().get(0)), before.epoch(),
                GroupTopology.Phase.SERVING);
        assertTrue(bed.store().compareAndSet(without, seen.version()));
        seen = bed.store().read("g0").orElseThrow();
        Map<String, GroupConfig> groups = new LinkedHashMap<>(bed.config().groups());
        groups.put("g1", new GroupConfig("g1", NodeAddress.parse("127.0.0.1:1"), List.of(other),
                bed.config().group("g0").flavour()));
        ClusterConfig twoGroups = bed.config().withGroups(groups);
        String sourceBefore = bed.node(other).query("SHOW SLAVE STATUS").get(0).get("Master_Port");
        RefusedException e = assertThrows(RefusedException.class,
                () -> new Rejoin(twoGroups, bed.store(), "test").run("g0", other));
        assertNames(e.getMessage(), "cluster=refusals", "group=g0", "node=" + other, "a server of group g1",
                "nothing was changed", "ballast rejoin --group g1 --node " + other);
        assertEquals(seen, bed.store().read("g0").orElseThrow(), "g0's topology not written");
        assertEquals(sourceBefore, bed.node(other).query("SHOW SLAVE STATUS").get(0).get("Master_Port"), "not repointed");
    }
}
