package dev.ballast.cli;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.retry.RetryUntilElapsed;

import java.util.concurrent.TimeUnit;

/**
 * A CLI verb's ZooKeeper connection, bounded: it waits at most {@code failover.zkConnectionTimeoutMs} for the
 * connection and then fails with one line naming the connect string. Once connected, every ZooKeeper call gives up
 * after about twice that timeout when the connection goes away (the daemons' clients retry for about a minute; an
 * operator in an incident should not wait that long for "ConnectionLoss").
 */
final class ZooKeeperSession implements AutoCloseable {

    private final CuratorFramework client;
    private final TopologyStore store;

    private ZooKeeperSession(CuratorFramework client, TopologyStore store) {
        this.client = client;
        this.store = store;
    }

    static ZooKeeperSession open(ClusterConfig config) {
        String connect = config.failover().zookeeper().orElseThrow();
        int timeoutMs = config.failover().zkConnectionTimeoutMs();
        CuratorFramework client = TopologyStore.connect(config);
        // Each call already waits up to the connection timeout for a connection; after that, no further retries.
        client.getZookeeperClient().setRetryPolicy(new RetryUntilElapsed(timeoutMs, 100));
        boolean connected;
        try {
            connected = client.blockUntilConnected(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connected = false;
        }
        if (!connected) {
            closeWithin(client, Math.min(timeoutMs, 500));
            throw new CliFailure(unreachable(config, "within failover.zkConnectionTimeoutMs=" + timeoutMs + " ms"));
        }
        return new ZooKeeperSession(client, TopologyStore.of(client, config));
    }

    /** The one line for a ZooKeeper that cannot be reached. */
    static String unreachable(ClusterConfig config, String when) {
        return "[cluster=" + config.name() + "] cannot reach ZooKeeper at " + config.failover().zookeeper().orElse("?") + " "
                + when + ": check that ZooKeeper runs there and that this host can reach that port"
                + " (failover.zookeeper in the config), or raise failover.zkConnectionTimeoutMs";
    }

    TopologyStore store() {
        return store;
    }

    CuratorFramework client() {
        return client;
    }

    @Override
    public void close() {
        closeWithin(client, client.getZookeeperClient().getConnectionTimeoutMs());
    }

    /**
     * Closes the client, waiting at most {@code waitMs}. A ZooKeeper that accepts the connection but does not answer
     * (frozen, overloaded, or behind a network that drops its replies) otherwise holds {@code close()} until the
     * client's read timeout, about the session timeout (9 s measured with the default 10 s), after the verb has already
     * given up. The CLI exits right after; a session left open expires by itself.
     */
    static void closeWithin(CuratorFramework client, long waitMs) {
        Thread closing = new Thread(client::close, "ballast-zookeeper-close");
        closing.setDaemon(true);
        closing.start();
        try {
            closing.join(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
