package dev.ballast.it.failover;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.Rejoin;
import dev.ballast.failover.Switchover;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: rejoin and the monitor's fencing take the group's lock ({@code locks/<group>}, the one recovery and switchover
 * take) and re-check under it. The test holds that lock itself (a Curator {@link InterProcessMutex} on the same path), as a
 * switchover in progress would. Real MariaDB servers and a real ZooKeeper.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GroupLockTest {

    FailoverBed bed;
    ExecutorService pool = Executors.newSingleThreadExecutor();

    @BeforeEach
    void start() {
        bed = FailoverBed.start("locks", 2, "");
        bed.store().bootstrap(bed.config());
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        if (bed != null) {
            bed.close();
        }
    }

    InterProcessMutex groupLock() {
        return new InterProcessMutex(bed.store().client(), bed.store().lockPath("g0"));
    }

    /** Publishes {@code next} over whatever is there (as the holder of the lock may). */
    void publish(GroupTopology next) {
        TopologyStore.Versioned v = bed.store().read("g0").orElseThrow();
        assertTrue(bed.store().compareAndSet(next, v.version()), "published " + next);
    }

    @Test
    void rejoinWaitsForTheGroupsLockAndGivesUpWithAClearError() throws Exception {
        GroupTopology before = bed.topology();
        NodeAddress out = before.replicas().get(1);
        GroupTopology without = new GroupTopology("g0", before.master(), List.of(before.replicas().get(0)), before.epoch(),
                GroupTopology.Phase.SERVING);
        publish(without);
        InterProcessMutex lock = groupLock();
        assertTrue(lock.acquire(5, TimeUnit.SECONDS));
        boolean held = true;
        try {
            // held longer than a rejoin waits: it gives up, names the lock and changes nothing
            long started = System.nanoTime();
            Future<GroupTopology> gaveUp = pool.submit(() -> new Rejoin(bed.config(), bed.store(), "test").run("g0", out));
            ExecutionException e = assertThrows(ExecutionException.class, () -> gaveUp.get(Rejoin.LOCK_WAIT_MS + 20_000,
                    TimeUnit.MILLISECONDS), "a rejoin while another holds the group's lock must not act");
            long ms = (System.nanoTime() - started) / 1_000_000L;
            assertInstanceOf(Switchover.SwitchoverException.class, e.getCause());
            String message = e.getCause().getMessage();
            System.out.println("REJOIN: " + message);
            for (String part : List.of("cluster=locks", "group=g0", "node=" + out, bed.store().lockPath("g0"),
                    "nothing was changed", "Run rejoin again")) {
                assertTrue(message.contains(part), "'" + part + "' not in: " + message);
            }
            assertTrue(ms >= Rejoin.LOCK_WAIT_MS - 500, "it waited for the lock: " + ms + " ms");
            assertEquals(without, bed.topology(), "not rejoined");

            // released while it waits: it goes on, and rejoins against the topology as it is then
            Future<GroupTopology> waits = pool.submit(() -> new Rejoin(bed.config(), bed.store(), "test").run("g0", out));
            Thread.sleep(2_000);
            assertFalse(waits.isDone(), "waiting for the lock");
            assertEquals(without, bed.topology(), "nothing done while it waits");
            lock.release();
            held = false;
            GroupTopology after = waits.get(30, TimeUnit.SECONDS);
            assertEquals(List.of(before.replicas().get(0), out), after.replicas());
            assertEquals(after, bed.topology());
        } finally {
            if (held) {
                lock.release();
            }
        }
    }

    @Test
    void fencingWaitsForTheGroupsLockAndSparesTheMasterASwitchoverJustPromoted() throws Exception {
        GroupTopology before = bed.topology();
        NodeAddress keep = before.replicas().get(0);
        NodeAddress promoted = before.replicas().get(1);
        MariaDbNode oldMaster = bed.node(before.master());
        MariaDbNode newMaster = bed.node(promoted);
        Monitor m = bed.startMonitor("m1", "  probeIntervalMs: 200", "  antiFlapWindowMs: 0");
        FailoverBed.await("the monitor leads", Duration.ofSeconds(15), m::acting);

        InterProcessMutex lock = groupLock();
        assertTrue(lock.acquire(5, TimeUnit.SECONDS));
        boolean held = true;
        try {
            // the lock holder is mid-switchover, seen by a monitor whose topology does not list the promoted node: the old
            // master is read-only, the candidate writable, the new epoch not yet published
            publish(new GroupTopology("g0", before.master(), List.of(keep), before.epoch(), GroupTopology.Phase.SWITCHING));
            oldMaster.execute("SET GLOBAL read_only = ON");
            newMaster.execute("STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF");
            Thread.sleep(3_000); // fifteen probe rounds
            assertFalse(newMaster.state().readOnly(), "fenced while another change of the group held its lock");
            FailoverBed.await("the monitor queued for the group's lock", Duration.ofSeconds(10), () -> participants(lock) >= 2);
            assertFalse(newMaster.state().readOnly(), "fenced while another change of the group held its lock");

            // the switchover publishes and lets go while the monitor waits with the topology it read before
            publish(new GroupTopology("g0", promoted, List.of(keep, before.master()), before.epoch() + 1,
                    GroupTopology.Phase.SERVING));
            lock.release();
            held = false;
            Thread.sleep(3_000);
            assertFalse(newMaster.state().readOnly(), "the new master of epoch " + (before.epoch() + 1) + " was fenced");
            assertTrue(bed.store().recoveries().stream().noneMatch(r -> r[1].contains("\"fence\"")),
                    "no fence recorded: " + bed.store().recoveries().stream().map(r -> r[1]).toList());
        } finally {
            if (held) {
                lock.release();
            }
        }

        // and with the lock free, a writable node outside the topology is fenced as before
        publish(new GroupTopology("g0", promoted, List.of(before.master()), before.epoch() + 1, GroupTopology.Phase.SERVING));
        bed.node(keep).execute("SET GLOBAL read_only = OFF");
        FailoverBed.await("the stranger " + keep + " fenced", Duration.ofSeconds(10), () -> bed.node(keep).state().readOnly());
        assertFalse(newMaster.state().readOnly());
    }

    static int participants(InterProcessMutex lock) {
        try {
            return lock.getParticipantNodes().size();
        } catch (Exception e) {
            return 0;
        }
    }
}
