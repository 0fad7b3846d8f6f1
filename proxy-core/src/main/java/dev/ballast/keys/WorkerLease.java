package dev.ballast.keys;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A snowflake worker id leased in ZooKeeper: the ephemeral znode {@code <cluster path>/workers/<id>}, the lowest id
 * 0..1023 that no other session holds, created if absent. One per data source, on the data source's own Curator client
 * (so the client's ZooKeeper authentication applies).
 *
 * <p>Connection states, in one switch: SUSPENDED or LOST = the lease may be gone (ZooKeeper expires the session and
 * another process may take the id), so {@link #current()} fails from that moment; CONNECTED or RECONNECTED = check that
 * the znode still belongs to this session and hold it again, or lease the lowest free id anew. Until then every key
 * fails at once (no wait) with an error naming the cluster and the reason. Not guaranteed: that the client hears of the
 * disconnection before the server expires the session; ZooKeeper's client reports it after 2/3 of the session timeout
 * at the latest, a third before the server can expire it.
 *
 * <p>{@link #close()} deletes the znode; a process that dies without closing loses it when its session expires
 * ({@code failover.zkSessionTimeoutMs}).
 */
public final class WorkerLease implements WorkerIds {

    private static final Logger log = LoggerFactory.getLogger(WorkerLease.class);
    private static final long RETRY_MS = 1_000;

    private enum State { LATENT, STARTED, CLOSED }

    /** What is held now: an id and its path, or the reason why none. */
    private record Held(int id, String path, String whyNot) {
    }

    private final CuratorFramework client;
    private final String cluster;
    private final String workersPath;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final ScheduledExecutorService acquirer;
    private final ConnectionStateListener listener = (c, s) -> stateChanged(s);
    private volatile Held held;
    private volatile String lastPath;
    /** As the connection-state listener last heard; guarded by this. */
    private boolean connected;

    private WorkerLease(CuratorFramework client, String cluster, String clusterPath) {
        this.client = client;
        this.cluster = cluster;
        this.workersPath = clusterPath + "/workers";
        this.held = new Held(-1, null, "no worker id leased yet under " + workersPath);
        this.acquirer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ballast-worker-lease-" + cluster);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts leasing on a started client; waits up to {@code waitMs} for the first lease. Never fails for ZooKeeper
     * being away: keys fail until a lease is held.
     */
    public static WorkerLease start(CuratorFramework client, String cluster, String clusterPath, long waitMs) {
        WorkerLease lease = new WorkerLease(client, cluster, clusterPath);
        lease.begin(waitMs);
        return lease;
    }

    private void begin(long waitMs) {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("already started");
        }
        synchronized (this) {
            connected = client.getZookeeperClient().isConnected();
        }
        client.getConnectionStateListenable().addListener(listener);
        if (!connected()) {
            log.warn("[cluster={}] ZooKeeper not connected: the snowflake worker id is leased once it is; inserts that need"
                    + " a generated key fail until then", cluster);
            return;
        }
        try {
            acquirer.submit(this::acquire).get(waitMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            log.warn("[cluster={}] no snowflake worker id leased within {} ms; inserts that need a generated key fail"
                    + " until one is", cluster, waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            log.warn("[cluster={}] leasing a snowflake worker id: {}", cluster, e.getCause().toString());
        }
    }

    @Override
    public int current() {
        Held h = held;
        if (h.id() >= 0 && !client.getZookeeperClient().isConnected()) {
            // told by ZooKeeper's own event thread, before Curator's listeners hear of it
            h = new Held(-1, null, "ZooKeeper connection lost; the lease " + h.path() + " may have expired");
        }
        if (h.id() < 0) {
            throw new KeyGenerationException("[cluster=" + cluster + "] no key generated: no snowflake worker id lease is"
                    + " held (" + h.whyNot() + "). Keys resume once a lease under " + workersPath
                    + " is held again; retry the statement");
        }
        return h.id();
    }

    /** The id held now, or -1. */
    public int heldId() {
        return held.id();
    }

    @Override
    public String describe() {
        Held h = held;
        return h.id() >= 0 ? "worker id " + h.id() + " leased at " + h.path() : "no worker id lease (" + h.whyNot() + ")";
    }

    private synchronized boolean connected() {
        return connected;
    }

    private synchronized void stateChanged(ConnectionState s) {
        switch (s) {
            case SUSPENDED, LOST -> {
                connected = false;
                Held before = held;
                held = new Held(-1, null, "ZooKeeper connection " + s + " at " + Instant.now()
                        + (before.id() >= 0 ? "; the lease " + before.path() + " may have expired" : ""));
                if (before.id() >= 0) {
                    log.warn("[cluster={}] ZooKeeper connection {}: generated keys stop until worker id {} is held again",
                            cluster, s, before.id());
                }
            }
            case CONNECTED, RECONNECTED -> {
                connected = true;
                if (state.get() == State.STARTED) {
                    acquirer.execute(this::acquire);
                }
            }
            default -> {
            }
        }
    }

    /** Holds the znode this session still owns, or leases the lowest free id. Runs on the acquirer thread only. */
    private void acquire() {
        if (state.get() != State.STARTED || held.id() >= 0 || !connected()) {
            return; // a CONNECTED or RECONNECTED event runs this again
        }
        try {
            long session = client.getZookeeperClient().getZooKeeper().getSessionId();
            String previous = lastPath;
            if (previous != null) {
                Stat stat = client.checkExists().forPath(previous);
                if (stat != null && stat.getEphemeralOwner() == session) {
                    hold(idOf(previous), previous, "kept");
                    return;
                }
            }
            Set<Integer> taken = new HashSet<>();
            if (client.checkExists().forPath(workersPath) != null) {
                for (String child : client.getChildren().forPath(workersPath)) {
                    try {
                        taken.add(Integer.parseInt(child));
                    } catch (NumberFormatException ignored) {
                        // not a lease
                    }
                }
            }
            byte[] owner = (ManagementFactory.getRuntimeMXBean().getName() + " since " + Instant.now())
                    .getBytes(StandardCharsets.UTF_8);
            for (int id = 0; id <= Snowflake.MAX_WORKER_ID; id++) {
                if (taken.contains(id)) {
                    continue;
                }
                String path = workersPath + "/" + id;
                try {
                    client.create().creatingParentsIfNeeded().withMode(CreateMode.EPHEMERAL).forPath(path, owner);
                    hold(id, path, "leased");
                    return;
                } catch (KeeperException.NodeExistsException raced) {
                    // another process took it since the listing; try the next
                }
            }
            held = new Held(-1, null, "all " + (Snowflake.MAX_WORKER_ID + 1) + " worker ids under " + workersPath
                    + " are leased; close idle data sources");
        } catch (KeeperException.NoAuthException e) {
            held = new Held(-1, null, "ZooKeeper refused creating a lease under " + workersPath + " (NoAuth): with"
                    + " failover.acl the monitor creates that node with CREATE and DELETE for the data planes' reader"
                    + " credential when it starts; start it once, and check this process's reader credential");
        } catch (Exception e) {
            held = new Held(-1, null, "leasing under " + workersPath + " failed: " + e);
        }
        log.warn("[cluster={}] {}; retrying in {} ms", cluster, held.whyNot(), RETRY_MS);
        if (state.get() == State.STARTED) {
            acquirer.schedule(this::acquire, RETRY_MS, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void hold(int id, String path, String how) {
        lastPath = path;
        if (!connected) {
            // The connection dropped while leasing; RECONNECTED checks the znode again.
            return;
        }
        held = new Held(id, path, null);
        log.info("[cluster={}] snowflake worker id {} {} at {}", cluster, id, how, path);
    }

    private static int idOf(String path) {
        return Integer.parseInt(path.substring(path.lastIndexOf('/') + 1));
    }

    /** Stops generating keys and deletes the lease. */
    @Override
    public void close() {
        if (!state.compareAndSet(State.STARTED, State.CLOSED)) {
            return;
        }
        client.getConnectionStateListenable().removeListener(listener);
        acquirer.shutdownNow();
        Held h = held;
        held = new Held(-1, null, "closed");
        String path = h.id() >= 0 ? h.path() : lastPath;
        if (path != null) {
            try {
                Stat stat = client.checkExists().forPath(path);
                if (stat != null && stat.getEphemeralOwner() == client.getZookeeperClient().getZooKeeper().getSessionId()) {
                    client.delete().forPath(path);
                }
            } catch (Exception e) {
                log.warn("[cluster={}] deleting the worker id lease {}: {}; it goes when the session ends", cluster, path,
                        e.toString());
            }
        }
    }
}
