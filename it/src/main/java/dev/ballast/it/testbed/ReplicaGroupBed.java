package dev.ballast.it.testbed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One replica group of a {@link TestBed}: a master and its replicas, replicating by GTID ({@code slave_pos}) with
 * semi-sync. The roles are the ones the group started with; after a failover that a test performs, {@link #master()}
 * still names the original master.
 */
public final class ReplicaGroupBed {

    /** How long {@link #awaitReplication()} waits per replica. */
    public static final Duration REPLICATION_TIMEOUT = Duration.ofSeconds(30);

    private final String name;
    private final MariaDbNode master;
    private final List<MariaDbNode> replicas;

    ReplicaGroupBed(String name, MariaDbNode master, List<MariaDbNode> replicas) {
        this.name = name;
        this.master = master;
        this.replicas = List.copyOf(replicas);
    }

    /** {@code g0}, {@code g1}, ... */
    public String name() {
        return name;
    }

    public MariaDbNode master() {
        return master;
    }

    public List<MariaDbNode> replicas() {
        return replicas;
    }

    /** The master first, then the replicas. */
    public List<MariaDbNode> nodes() {
        List<MariaDbNode> all = new ArrayList<>(replicas.size() + 1);
        all.add(master);
        all.addAll(replicas);
        return List.copyOf(all);
    }

    /**
     * Waits until every <em>running</em> replica has applied the master's current {@code gtid_binlog_pos}, up to
     * {@link #REPLICATION_TIMEOUT} per replica. Stopped and crashed replicas are skipped.
     *
     * @throws IllegalStateException naming the replica that did not catch up, with its replication state
     */
    public void awaitReplication() {
        awaitReplication(REPLICATION_TIMEOUT);
    }

    /** As {@link #awaitReplication()}, with a timeout per replica. */
    public void awaitReplication(Duration timeout) {
        String pos = master.gtidBinlogPos();
        for (MariaDbNode replica : replicas) {
            if (replica.isRunning()) {
                replica.awaitApplied(pos, timeout);
            }
        }
    }

    /** Points every replica at the master, starts replication and waits until all threads run. */
    void startReplication(Duration timeout) {
        for (MariaDbNode replica : replicas) {
            replica.changeMasterTo(master);
            replica.startReplication();
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (MariaDbNode replica : replicas) {
            NodeState state = replica.state();
            while (!state.replicating()) {
                if (System.nanoTime() > deadline || !state.lastIoError().isEmpty() && !"Connecting".equals(state.ioRunning())
                        || !state.lastSqlError().isEmpty()) {
                    throw replica.failure("replication from " + master + " did not start within " + timeout.toSeconds()
                            + " s: " + state + "; see " + replica.errorLog() + " and " + master.errorLog(), null);
                }
                Janitor.sleep(20);
                state = replica.state();
            }
        }
        // semi-sync needs the replicas registered as semi-sync clients; until then a commit would wait the timeout
        if (!replicas.isEmpty()) {
            while (semiSyncClients() < replicas.size()) {
                if (System.nanoTime() > deadline) {
                    throw master.failure("only " + semiSyncClients() + " of " + replicas.size()
                            + " replicas registered as semi-sync clients within " + timeout.toSeconds() + " s", null);
                }
                Janitor.sleep(20);
            }
        }
    }

    private int semiSyncClients() {
        String value = master.query("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'").get(0).get("Value");
        return Integer.parseInt(value);
    }

    @Override
    public String toString() {
        return name + "[master=" + master + ", replicas=" + replicas + "]";
    }
}
