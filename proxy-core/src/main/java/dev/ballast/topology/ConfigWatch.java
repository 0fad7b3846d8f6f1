package dev.ballast.topology;

import dev.ballast.rules.ClusterConfig;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A data plane's watch on the published cluster config ({@code <cluster>/config}, {@link PublishedConfig}), for
 * {@code failover.followConfig}: reads the version in force at start, then hands on every newer version (the caller
 * builds it; what cannot be built is the caller's to refuse). Its own ZooKeeper client, as a data plane (reader
 * credential), with the ZooKeeper settings of the file's config: a pushed config cannot move a data plane to another
 * ZooKeeper. Not guaranteed: while ZooKeeper is unreachable no push is seen; the newest is seen after it comes back.
 */
public final class ConfigWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ConfigWatch.class);

    private final ClusterConfig bootstrap;
    private final CuratorFramework client;
    private final TopologyStore store;
    private CuratorCache cache;
    private volatile long seen;

    private ConfigWatch(ClusterConfig bootstrap, CuratorFramework client) {
        this.bootstrap = bootstrap;
        this.client = client;
        this.store = TopologyStore.of(client, bootstrap);
    }

    /** Connects (waits up to {@code zkConnectionTimeoutMs}; without an answer the file's config stands until one comes). */
    public static ConfigWatch open(ClusterConfig bootstrap) {
        CuratorFramework client = TopologyStore.connect(bootstrap, ZkRole.DATA_PLANE);
        ConfigWatch w = new ConfigWatch(bootstrap, client);
        try {
            if (!w.store.awaitConnected(bootstrap.failover().zkConnectionTimeoutMs())) {
                log.warn("[cluster={}] ZooKeeper {} did not answer within {} ms; using the file's config until a published "
                        + "one is seen", bootstrap.name(), bootstrap.failover().zookeeper().orElse(""),
                        bootstrap.failover().zkConnectionTimeoutMs());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return w;
    }

    /** The config published now (empty when none, when ZooKeeper does not answer, or when the document is unreadable). */
    public Optional<PublishedConfig> current() {
        if (!client.getZookeeperClient().isConnected()) {
            return Optional.empty();
        }
        try {
            Optional<PublishedConfig> p = store.publishedConfig();
            p.ifPresent(c -> seen = c.version());
            return p;
        } catch (TopologyStore.TopologyException e) {
            log.error("[cluster={}] {}; using the file's config", bootstrap.name(), e.getMessage());
            return Optional.empty();
        }
    }

    /** Starts the watch: {@code listener} gets each version newer than any seen, on ZooKeeper's event thread. */
    public synchronized void start(Consumer<PublishedConfig> listener) {
        String path = store.configPath();
        cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreatesAndChanges((before, after) -> received(after, listener))
                .build());
        cache.start();
    }

    private void received(ChildData data, Consumer<PublishedConfig> listener) {
        if (data == null || data.getData() == null) {
            return;
        }
        PublishedConfig p;
        try {
            p = PublishedConfig.fromJson(new String(data.getData(), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            log.error("[cluster={}] unreadable published config at {}: {}; keeping the config in force", bootstrap.name(),
                    data.getPath(), e.getMessage());
            return;
        }
        synchronized (this) {
            if (p.version() <= seen) {
                return;
            }
            seen = p.version();
        }
        log.info("[cluster={}] published config version {} seen (pushed by {} from {})", bootstrap.name(), p.version(),
                p.by(), p.source());
        listener.accept(p);
    }

    @Override
    public synchronized void close() {
        if (cache != null) {
            cache.close();
        }
        client.close();
    }
}
