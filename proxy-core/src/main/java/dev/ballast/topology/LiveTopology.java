package dev.ballast.topology;

import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The data plane's view of who serves each group. Static (the config's, epoch 0) without {@code failover.zookeeper};
 * otherwise read from ZooKeeper at start and kept current by a watch, so a new master is seen within one event.
 * An epoch lower than one already seen is ignored: the data plane never goes back to a fenced master. When ZooKeeper is
 * unreachable the last topology seen stays in force (and nothing else changes it).
 *
 * <p>Also follows the maintenance marks ({@code maintenance/<node>}, {@link #drained()}): a node drained or undrained
 * is seen within one event. While ZooKeeper is unreachable the last marks seen stay in force.
 */
public final class LiveTopology implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LiveTopology.class);

    private final ClusterConfig config;
    private final Map<String, GroupTopology> current = new LinkedHashMap<>();
    private final CopyOnWriteArrayList<Consumer<GroupTopology>> listeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Consumer<Set<NodeAddress>>> drainListeners = new CopyOnWriteArrayList<>();
    private volatile Set<NodeAddress> drained = Set.of();
    private final CuratorFramework client;
    private final List<CuratorCache> caches = new ArrayList<>();
    private volatile long version;
    private volatile Map<String, GroupTopology> snapshot;
    private final CopyOnWriteArrayList<Consumer<SchemaVersion>> schemaListeners = new CopyOnWriteArrayList<>();
    /** the newest schema version seen (0 before any bump or without ZooKeeper) */
    private volatile SchemaVersion schema = new SchemaVersion(0, List.of(), 0, "");

    private LiveTopology(ClusterConfig config, CuratorFramework client) {
        this.config = config;
        this.client = client;
        for (GroupConfig g : config.groups().values()) {
            current.put(g.name(), GroupTopology.of(g));
        }
        snapshot = Map.copyOf(current);
    }

    /** The static topology of the config. */
    public static LiveTopology fixed(ClusterConfig config) {
        return new LiveTopology(config, null);
    }

    /**
     * The topology of the config's ZooKeeper when it has one (waits up to {@code zkConnectionTimeoutMs} for a first
     * read; starts from the config's topology and a warning when ZooKeeper does not answer), else {@link #fixed}.
     */
    public static LiveTopology open(ClusterConfig config) {
        if (config.failover().zookeeper().isEmpty()) {
            return fixed(config);
        }
        CuratorFramework client = TopologyStore.connect(config, ZkRole.DATA_PLANE);
        LiveTopology live = new LiveTopology(config, client);
        try {
            live.watch();
        } catch (RuntimeException e) {
            live.close();
            throw e;
        }
        return live;
    }

    private void watch() {
        TopologyStore store = TopologyStore.of(client, config);
        boolean connected;
        try {
            connected = store.awaitConnected(config.failover().zkConnectionTimeoutMs());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (connected) {
            for (String group : config.groups().keySet()) {
                try {
                    store.read(group).ifPresent(v -> accept(v.topology()));
                } catch (TopologyStore.TopologyException e) {
                    log.warn("[cluster={} group={}] {}; using the config's topology until it can be read", config.name(), group,
                            e.getMessage());
                }
            }
            try {
                store.schemaVersion().ifPresent(v -> schema = v);
            } catch (TopologyStore.TopologyException e) {
                log.warn("[cluster={}] {}; schema version unknown until the next bump", config.name(), e.getMessage());
            }
            try {
                setDrained(store.drained().keySet());
            } catch (TopologyStore.TopologyException e) {
                log.warn("[cluster={}] {}; no node counts as drained until the marks can be read", config.name(), e.getMessage());
            }
        } else {
            log.warn("[cluster={}] ZooKeeper {} did not answer within {} ms; serving the config's topology until it does",
                    config.name(), config.failover().zookeeper().orElse(""), config.failover().zkConnectionTimeoutMs());
        }
        client.getConnectionStateListenable().addListener((c, state) -> {
            if (state == ConnectionState.SUSPENDED || state == ConnectionState.LOST) {
                log.warn("[cluster={}] ZooKeeper connection {}: serving the last topology seen (epochs {})", config.name(),
                        state, epochs());
            } else if (state == ConnectionState.RECONNECTED) {
                log.info("[cluster={}] ZooKeeper connection back", config.name());
            }
        });
        for (String group : config.groups().keySet()) {
            CuratorCache cache = CuratorCache.build(client, store.topologyPath(group));
            cache.listenable().addListener(CuratorCacheListener.builder()
                    .forCreatesAndChanges((before, after) -> received(group, after))
                    .build());
            cache.start();
            caches.add(cache);
        }
        String marks = store.maintenanceRoot();
        CuratorCache maintenance = CuratorCache.build(client, marks);
        // Events of the initial load would show a partial set (one mark of two): the set read above stands until then.
        java.util.concurrent.atomic.AtomicBoolean loaded = new java.util.concurrent.atomic.AtomicBoolean();
        maintenance.listenable().addListener(CuratorCacheListener.builder()
                .forAll((type, before, after) -> {
                    if (loaded.get()) {
                        setDrained(marks(maintenance, marks));
                    }
                })
                .forInitialized(() -> {
                    loaded.set(true);
                    setDrained(marks(maintenance, marks));
                })
                .build());
        maintenance.start();
        caches.add(maintenance);
        String schemaPath = store.schemaPath();
        CuratorCache schemaCache = CuratorCache.build(client, schemaPath, CuratorCache.Options.SINGLE_NODE_CACHE);
        schemaCache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, after) -> schemaReceived(after))
                .build());
        schemaCache.start();
        caches.add(schemaCache);
    }

    private void schemaReceived(ChildData data) {
        if (data == null || data.getData() == null || data.getData().length == 0) {
            return;
        }
        SchemaVersion v;
        try {
            v = SchemaVersion.fromJson(new String(data.getData(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            log.warn("[cluster={}] unreadable schema version at {}: {}; keeping version {}", config.name(), data.getPath(),
                    e.getMessage(), schema.version());
            return;
        }
        synchronized (this) {
            if (v.version() <= schema.version()) {
                return;
            }
            schema = v;
        }
        log.info("[cluster={}] schema version {} ({} by {}): reloading the metadata of {}", config.name(), v.version(),
                java.time.Instant.ofEpochMilli(v.atMillis()), v.by(), v.tables());
        for (Consumer<SchemaVersion> l : schemaListeners) {
            try {
                l.accept(v);
            } catch (RuntimeException e) {
                log.warn("[cluster={}] schema listener failed on version {}: {}", config.name(), v.version(), e.toString());
            }
        }
    }

    /** The newest schema version seen (version 0 before the first bump, and without ZooKeeper). */
    public SchemaVersion schemaVersion() {
        return schema;
    }

    /** Called with each newer schema version, on ZooKeeper's event thread. */
    public void addSchemaListener(Consumer<SchemaVersion> listener) {
        schemaListeners.add(listener);
    }

    /** The nodes with a mark in the cache: the children of {@code root} whose name is {@code host:port}. */
    private Set<NodeAddress> marks(CuratorCache cache, String root) {
        Set<NodeAddress> out = new java.util.HashSet<>();
        cache.stream().map(ChildData::getPath)
                .filter(p -> p.startsWith(root + "/") && p.indexOf('/', root.length() + 1) < 0)
                .forEach(p -> {
                    try {
                        out.add(NodeAddress.parse(p.substring(root.length() + 1)));
                    } catch (IllegalArgumentException e) {
                        log.warn("[cluster={}] {} is not a node's maintenance mark; ignored", config.name(), p);
                    }
                });
        return out;
    }

    private void setDrained(Set<NodeAddress> now) {
        Set<NodeAddress> next = Set.copyOf(now);
        synchronized (this) {
            if (next.equals(drained)) {
                return;
            }
            Set<NodeAddress> before = drained;
            drained = next;
            for (NodeAddress n : next) {
                if (!before.contains(n)) {
                    log.info("[cluster={} node={}] drained (maintenance mark): no new reads", config.name(), n);
                }
            }
            for (NodeAddress n : before) {
                if (!next.contains(n)) {
                    log.info("[cluster={} node={}] undrained: serves reads again when healthy", config.name(), n);
                }
            }
        }
        for (Consumer<Set<NodeAddress>> l : drainListeners) {
            try {
                l.accept(next);
            } catch (RuntimeException e) {
                log.warn("[cluster={}] maintenance listener failed: {}", config.name(), e.toString());
            }
        }
    }

    /**
     * The nodes with a maintenance mark: they get no new reads. Empty with a static topology. Not guaranteed: while
     * ZooKeeper is unreachable, marks set or removed meanwhile are not seen.
     */
    public Set<NodeAddress> drained() {
        return drained;
    }

    /** Called with the whole set of drained nodes after each change of it, on ZooKeeper's event thread. */
    public void addDrainListener(Consumer<Set<NodeAddress>> listener) {
        drainListeners.add(listener);
    }

    private void received(String group, ChildData data) {
        if (data == null || data.getData() == null) {
            return;
        }
        try {
            GroupTopology t = GroupTopology.fromJson(new String(data.getData(), StandardCharsets.UTF_8));
            if (!t.group().equals(group)) {
                log.warn("[cluster={}] {} holds the topology of group '{}'; ignored", config.name(), data.getPath(), t.group());
                return;
            }
            accept(t);
        } catch (IllegalArgumentException e) {
            log.warn("[cluster={} group={}] unreadable topology at {}: {}; keeping {}", config.name(), group,
                    data.getPath(), e.getMessage(), get(group));
        }
    }

    /**
     * Takes a topology in (from ZooKeeper, or a switchover in this process): ignored when it is the same or of an
     * older epoch than the one in force, or of a group the config does not have.
     */
    public void accept(GroupTopology t) {
        synchronized (this) {
            GroupTopology before = current.get(t.group());
            if (before == null) {
                log.warn("[cluster={}] topology for unknown group '{}' ignored", config.name(), t.group());
                return;
            }
            if (t.equals(before)) {
                return;
            }
            if (t.epoch() < before.epoch()) {
                log.warn("[cluster={} group={}] topology of epoch {} ignored: epoch {} is already in force", config.name(),
                        t.group(), t.epoch(), before.epoch());
                return;
            }
            current.put(t.group(), t);
            snapshot = Map.copyOf(current);
            version++;
            notifyAll();
            if (!before.master().equals(t.master()) || before.epoch() != t.epoch()) {
                log.info("[cluster={} group={}] epoch {}: master {} (was {} in epoch {})", config.name(), t.group(),
                        t.epoch(), t.master(), before.master(), before.epoch());
            }
        }
        for (Consumer<GroupTopology> l : listeners) {
            try {
                l.accept(t);
            } catch (RuntimeException e) {
                log.warn("[cluster={} group={}] topology listener failed: {}", config.name(), t.group(), e.toString());
            }
        }
    }

    public GroupTopology get(String group) {
        GroupTopology t = snapshot.get(group);
        if (t == null) {
            throw new IllegalArgumentException("[cluster=" + config.name() + "] no group '" + group + "'");
        }
        return t;
    }

    /** Rises with every accepted change of any group. */
    public long version() {
        return version;
    }

    /** Whether the topology can change (ZooKeeper is configured). */
    public boolean dynamic() {
        return client != null;
    }

    /** The data source's ZooKeeper client (authenticated as the config says), when the config has ZooKeeper. */
    public java.util.Optional<CuratorFramework> zookeeper() {
        return java.util.Optional.ofNullable(client);
    }

    public void addListener(Consumer<GroupTopology> listener) {
        listeners.add(listener);
    }

    /**
     * Waits until the group's topology is no longer {@code seen}, at most {@code timeoutMs}; returns the one in force
     * then (still {@code seen} on timeout).
     */
    public GroupTopology awaitChange(String group, GroupTopology seen, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        synchronized (this) {
            while (true) {
                GroupTopology now = current.get(group);
                long left = deadline - System.nanoTime();
                if (!now.equals(seen) || left <= 0) {
                    return now;
                }
                wait(Math.max(1, left / 1_000_000L));
            }
        }
    }

    private String epochs() {
        StringBuilder b = new StringBuilder();
        snapshot.forEach((g, t) -> b.append(b.length() == 0 ? "" : ", ").append(g).append('=').append(t.epoch()));
        return b.toString();
    }

    @Override
    public void close() {
        caches.forEach(CuratorCache::close);
        if (client != null) {
            client.close();
        }
    }
}
