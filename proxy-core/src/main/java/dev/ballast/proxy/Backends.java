package dev.ballast.proxy;

import dev.ballast.jdbc.internal.NodeDataSource;
import dev.ballast.rules.ClusterConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The relay's server connections: per event loop (a client's relayed statements run on its own event loop, so nothing
 * crosses threads), per server role ({@link NodeDataSource}) and per protocol variant (the client's DEPRECATE_EOF and
 * FOUND_ROWS flags, which change the server's replies). At most {@code proxy.relayConnections} per event loop and key. A
 * statement that finds no idle connection is not made to wait: it takes the JDBC path while one is opened in the
 * background. Connections of a server that left its role (its JDBC pool was closed) and connections idle for
 * {@code pool.idleTimeoutMs} are closed by a sweep of each loop every {@value #SWEEP_MS} ms, which also closes a
 * connection whose reply has not come within {@code pool.socketTimeoutMs}.
 */
final class Backends {

    private static final Logger log = LoggerFactory.getLogger(Backends.class);
    private static final long RETRY_AFTER_FAILURE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How often each loop sweeps its connections: idle ones past their time, replies past pool.socketTimeoutMs. */
    static final long SWEEP_MS = 250;

    private final ClusterConfig config;
    private final int maxPerKey;
    private final Map<EventLoop, Loop> loops = new ConcurrentHashMap<>();
    /** statements relayed, and relayable statements that took the JDBC path instead (no idle connection, a failure) */
    final LongAdder relayed = new LongAdder();
    final LongAdder passedOn = new LongAdder();
    /** multi-node SELECTs of relayed transactions merged by the proxy ({@link Gather}) */
    final LongAdder merged = new LongAdder();
    /** the data source's deadlock check, which relayed transactions over several groups register with; null when off */
    volatile dev.ballast.jdbc.internal.Deadlocks deadlocks;
    private final AtomicInteger openTotal = new AtomicInteger();

    private record Key(NodeDataSource node, int variant) {
    }

    /** The connections of one event loop; touched on that loop's thread only. */
    private final class Loop {
        final Map<Key, ArrayDeque<Backend>> idle = new HashMap<>();
        final Map<Key, Integer> open = new HashMap<>();
        final Map<Key, Long> retryAt = new HashMap<>();
        /** every connection of this loop, open or opening */
        final Set<Backend> all = new HashSet<>();
        private final List<Backend> overdue = new ArrayList<>();

        Loop(EventLoop loop) {
            loop.scheduleAtFixedRate(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
        }

        void sweep() {
            long now = System.nanoTime();
            for (Iterator<Backend> it = all.iterator(); it.hasNext(); ) {
                Backend b = it.next();
                if (b.closed()) {
                    it.remove();
                } else if (b.overdue(now)) {
                    overdue.add(b);
                }
            }
            for (Backend b : overdue) {
                b.timedOut(); // closing may call back into this loop's sets: not while iterating them
            }
            overdue.clear();
            long idleLimit = config.pool().idleTimeoutMs() * 1_000_000L;
            for (Iterator<Map.Entry<Key, ArrayDeque<Backend>>> it = idle.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Key, ArrayDeque<Backend>> e = it.next();
                boolean gone = e.getKey().node().isShutdown();
                for (Iterator<Backend> b = e.getValue().iterator(); b.hasNext(); ) {
                    Backend backend = b.next();
                    if (gone || !backend.idle() || now - backend.idleSinceNanos > idleLimit) {
                        b.remove();
                        backend.close();
                    }
                }
                if (e.getValue().isEmpty()) {
                    it.remove();
                }
            }
            retryAt.values().removeIf(t -> now - t > 0);
        }
    }

    Backends(ClusterConfig config) {
        this.config = config;
        this.maxPerKey = config.proxy().relayConnections();
    }

    /**
     * An idle, logged-in connection to {@code node} for a client on {@code loop}, or null (then one is being opened, or
     * the limit is reached, or the server failed lately): the caller takes the JDBC path.
     */
    Backend acquire(EventLoop loop, NodeDataSource node, int variant) {
        if (node.isShutdown()) {
            return null;
        }
        Loop l = loops.computeIfAbsent(loop, Loop::new);
        Key key = new Key(node, variant);
        ArrayDeque<Backend> idle = l.idle.get(key);
        if (idle != null) {
            Backend b;
            while ((b = idle.pollFirst()) != null) {
                if (b.idle()) {
                    return b;
                }
                b.close();
            }
        }
        int open = l.open.getOrDefault(key, 0);
        Long retryAt = l.retryAt.get(key);
        if (open < maxPerKey && (retryAt == null || System.nanoTime() - retryAt > 0)) {
            l.open.put(key, open + 1);
            openTotal.incrementAndGet();
            l.all.add(connect(loop, key));
        }
        return null;
    }

    private Backend connect(EventLoop loop, Key key) {
        Backend backend = new Backend(this, key.node(), key.variant(), config.credentials().user(),
                config.credentials().password(), config.database(), config.pool().socketTimeoutMs());
        int connectTimeout = config.pool().connectTimeoutMs();
        new Bootstrap().group(loop).channel(Transport.clientChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeout)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(backend)
                .connect(key.node().address().host(), key.node().address().port())
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        backend.connectFailed(f.cause());
                    }
                });
        // a server that accepts and then says nothing must not hold a slot
        loop.schedule(backend::loginTimedOut, connectTimeout, TimeUnit.MILLISECONDS);
        return backend;
    }

    /** Back into the idle set of its loop, or closed when it cannot be reused. */
    void release(Backend b) {
        if (!b.idle() || b.node.isShutdown()) {
            b.close();
            return;
        }
        Loop l = loops.get(b.channel().eventLoop());
        if (l == null) {
            b.close();
            return;
        }
        l.idle.computeIfAbsent(new Key(b.node, b.variant), k -> new ArrayDeque<>()).addFirst(b);
    }

    void ready(Backend b) {
        release(b);
    }

    void loginFailed(Backend b, String why) {
        Loop l = opened(b);
        if (l != null) {
            Key key = new Key(b.node, b.variant);
            boolean first = !l.retryAt.containsKey(key);
            l.retryAt.put(key, System.nanoTime() + RETRY_AFTER_FAILURE_NANOS);
            if (first) {
                log.warn("[proxy relay {}] cannot open a connection ({}); statements for it take the JDBC path meanwhile",
                        b.node.describe(), why);
            }
        }
    }

    void closed(Backend b) {
        Loop l = opened(b);
        if (l != null) {
            ArrayDeque<Backend> idle = l.idle.get(new Key(b.node, b.variant));
            if (idle != null) {
                idle.remove(b);
            }
        }
    }

    /** Counts a connection as gone; returns its loop's state. */
    private Loop opened(Backend b) {
        Loop l = b.channel() == null ? null : loops.get(b.channel().eventLoop());
        if (l != null) {
            Key key = new Key(b.node, b.variant);
            l.all.remove(b);
            l.open.merge(key, -1, Integer::sum);
            if (l.open.get(key) <= 0) {
                l.open.remove(key);
            }
        }
        openTotal.decrementAndGet();
        return l;
    }

    /** Server connections the relay holds now (connected or connecting). */
    int open() {
        return openTotal.get();
    }
}
