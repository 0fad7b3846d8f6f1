package dev.ballast.proxy;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.ballast.jdbc.BallastDataSource;
import dev.ballast.jdbc.health.GroupHealth;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ProxySettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.timeout.IdleStateHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MySQL-protocol frontend over a {@link BallastDataSource}: any MySQL client (the {@code mariadb}/{@code mysql} CLI,
 * sysbench, Connector/J, drivers of other languages) connects to {@code proxy.listen} and gets sharding, read/write
 * splitting and failover as the JDBC driver gives them. Netty event loops handle the sockets; statements run on
 * {@code proxy.workerThreads} worker threads, so a slow statement or a stalled client never blocks the others. The proxy
 * keeps no state beyond its clients' sessions: run several behind a load balancer. {@code GET /health} on
 * {@code proxy.health} answers 200 while every group has a reachable master, 503 once a master has been unreachable for
 * longer than {@code failover.writeHoldMs} when a failover monitor can replace it (writes are held that long, and every
 * proxy sees the same dead master: taking them all out would only cut their clients) or at once without one, and 404 while the proxy
 * drains ({@link #drainAndClose()}: HAProxy's {@code http-check disable-on-404} then sends it no new client and leaves its
 * sessions alone).
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ClusterConfig config;
    private final ProxySettings settings;
    private final BallastDataSource ds;
    private final boolean ownsDataSource;
    private final ThreadPoolExecutor workers;
    private final AtomicInteger ids = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private EventLoopGroup boss;
    private EventLoopGroup io;
    private Channel channel;
    private HttpServer health;
    /** per group, when /health first saw its master unreachable (System.nanoTime), until it is reachable again */
    private final Map<String, Long> unreachableSince = new ConcurrentHashMap<>();
    private final SslContext sslContext;
    /** the relay's own server connections; null when proxy.relay is off */
    private final Backends backends;
    /** what GET /metrics shows: the proxy's meters, its data source's, HikariCP's and the JVM's */
    private final PrometheusMeterRegistry registry;
    private final Counter accepted;
    private final Counter refused;
    private final Counter cursorRequests;
    /** System.nanoTime() when draining began, 0 while serving */
    private volatile long drainingSince;

    /** A proxy over its own data source (closed with it). */
    public ProxyServer(ClusterConfig config) throws java.sql.SQLException {
        this(config, new BallastDataSource(config), true);
    }

    public ProxyServer(ClusterConfig config, BallastDataSource ds, boolean ownsDataSource) {
        this.config = config;
        this.settings = config.proxy();
        this.ds = ds;
        this.ownsDataSource = ownsDataSource;
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(settings.workerThreads(), settings.workerThreads(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "ballast-proxy-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        workers.allowCoreThreadTimeOut(true);
        this.backends = settings.relay() ? new Backends(config) : null;
        if (backends != null) {
            backends.deadlocks = ds.deadlocks();
        }
        this.registry = registry(config, ds);
        Gauge.builder("ballast.proxy.connections.open", open, AtomicInteger::get)
                .description("Client connections open now").tags("cluster", config.name()).register(registry);
        this.accepted = Counter.builder("ballast.proxy.connections.accepted")
                .description("Client connections accepted").tags("cluster", config.name()).register(registry);
        this.cursorRequests = Counter.builder("ballast.proxy.cursor.requests")
                .description("COM_STMT_EXECUTE asking for a read-only cursor, answered with the whole result and no cursor")
                .tags("cluster", config.name()).register(registry);
        this.refused = Counter.builder("ballast.proxy.connections.refused")
                .description("Client connections refused at proxy.maxConnections (error 1040)")
                .tags("cluster", config.name()).register(registry);
        if (settings.tls().isPresent()) {
            ProxySettings.Tls tls = settings.tls().get();
            try {
                this.sslContext = SslContextBuilder
                        .forServer(tls.certificate().toFile(), tls.privateKey().toFile())
                        .sslProvider(SslProvider.JDK)
                        .build();
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new IllegalArgumentException("[cluster=" + config.name() + "] proxy.tls: cannot use certificate "
                        + tls.certificate() + " with key " + tls.privateKey() + " (PEM certificate, unencrypted PKCS#8 PEM key): "
                        + e.getMessage(), e);
            }
        } else {
            this.sslContext = null;
        }
    }

    /**
     * The registry /metrics shows: the data source's when it already reports to a Prometheus registry, else a new one
     * that the data source is bound to (when it reports elsewhere, /metrics shows the proxy's own meters only).
     */
    private static PrometheusMeterRegistry registry(ClusterConfig config, BallastDataSource ds) {
        if (ds.meterRegistry() instanceof PrometheusMeterRegistry p) {
            return p;
        }
        PrometheusMeterRegistry r = dev.ballast.metrics.PrometheusEndpoint.newRegistry();
        if (ds.meterRegistry() == null) {
            ds.bindTo(r);
        } else {
            log.warn("[cluster={}] the data source reports to {}; the proxy's /metrics shows the proxy's own meters only",
                    config.name(), ds.meterRegistry());
        }
        return r;
    }

    /** What GET /metrics shows. */
    /** Executes that asked for a cursor (each answered with its whole result, no cursor opened). */
    public long cursorRequests() {
        return (long) cursorRequests.count();
    }

    void cursorRequested() {
        cursorRequests.increment();
    }

    public PrometheusMeterRegistry meterRegistry() {
        return registry;
    }

    boolean offersTls() {
        return sslContext != null;
    }

    /** Binds the listen and health addresses; returns when both accept connections. */
    public ProxyServer start() throws InterruptedException, IOException {
        if (settings.users().isEmpty()) {
            log.warn("[cluster={}] proxy.users is empty: nobody can log in (add users with 'ballast hash-password')", config.name());
        }
        boss = new MultiThreadIoEventLoopGroup(1, Transport.ioHandlers());
        io = new MultiThreadIoEventLoopGroup(Transport.ioThreads(), Transport.ioHandlers());
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, io)
                .channel(Transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        WritableGate gate = new WritableGate();
                        ch.pipeline()
                                // reader idle only: an all-idle handler would also put a listener on every write
                                // and cut statements that run longer than the timeout (see ClientSession.idleCheck)
                                .addLast(new IdleStateHandler(settings.idleTimeoutMs(), 0, 0, TimeUnit.MILLISECONDS))
                                .addLast(new PacketDecoder(settings.maxPacketBytes(),
                                        sslContext == null ? null : () -> sslContext.newHandler(ch.alloc())))
                                .addLast(gate)
                                .addLast(new ClientSession(ProxyServer.this, ids.incrementAndGet(), gate));
                    }
                });
        ProxySettings.Endpoint listen = settings.listen();
        channel = b.bind(new InetSocketAddress(listen.host(), listen.port())).sync().channel();
        if (settings.health().isPresent()) {
            ProxySettings.Endpoint h = settings.health().get();
            health = HttpServer.create(new InetSocketAddress(h.host(), h.port()), 16);
            health.createContext("/health", exchange -> {
                String body = healthText();
                int code = body.startsWith("OK") ? 200 : body.startsWith("DRAINING") ? 404 : 503;
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(code, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            });
            dev.ballast.metrics.PrometheusEndpoint.serve(health, registry);
            health.start();
        }
        log.info("[cluster={}] Ballast proxy listening on {} (health: {}, metrics: {})", config.name(), port(),
                settings.health().map(x -> "http://" + x + "/health").orElse("off"),
                settings.health().map(x -> "http://" + x + "/metrics").orElse("off"));
        return this;
    }

    /** The port clients connect to (the configured one, or the one the system chose for port 0). */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The health endpoint's port. */
    public int healthPort() {
        return health == null ? -1 : health.getAddress().getPort();
    }

    /**
     * {@code OK ...} when every group has a reachable master, or one unreachable for at most {@code failover.writeHoldMs}
     * where a failover monitor can replace it; {@code DRAINING ...} while draining; else {@code FAIL} and what is wrong.
     */
    String healthText() {
        StringBuilder b = new StringBuilder();
        boolean ok = true;
        long now = System.nanoTime();
        long graceMs = ds.topology().dynamic() ? config.failover().writeHoldMs() : 0;
        for (String group : config.groups().keySet()) {
            GroupHealth g = ds.health(group);
            String master = ds.topology().get(group).master().toString();
            b.append(group).append(": master ").append(master);
            if (g.masterReachable()) {
                unreachableSince.remove(group);
                b.append(" reachable\n");
                continue;
            }
            long forMs = (now - unreachableSince.computeIfAbsent(group, x -> now)) / 1_000_000L;
            boolean held = forMs < graceMs;
            ok &= held;
            b.append(" UNREACHABLE for ").append(forMs).append(" ms").append(held
                    ? " (writes are held for a failover up to failover.writeHoldMs " + graceMs + " ms)" : "").append('\n');
        }
        String state = drainingSince != 0 ? "DRAINING since " + (System.nanoTime() - drainingSince) / 1_000_000L + " ms\n"
                : ok ? "OK\n" : "FAIL\n";
        return state + b + "connections " + open.get() + "/" + settings.maxConnections() + "\n";
    }

    boolean admit() {
        while (true) {
            int n = open.get();
            if (n >= settings.maxConnections()) {
                refused.increment();
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                accepted.increment();
                return true;
            }
        }
    }

    boolean admitted(ClientSession s) {
        return sessions.contains(s);
    }

    void register(ClientSession s) {
        sessions.add(s);
    }

    void release(ClientSession s) {
        sessions.remove(s);
        open.decrementAndGet();
    }

    /** Client connections open now. */
    public int connections() {
        return open.get();
    }

    /** Worker threads alive now (they end after 60 s idle). */
    public int workerThreads() {
        return workers.getPoolSize();
    }

    /**
     * Statements relayed to their server so far, relayable ones that took the JDBC path instead, multi-node SELECTs
     * merged by the proxy, and transactions its data source rolled back to end a deadlock across groups (relayed or on
     * the JDBC path; shared with every user of the data source).
     */
    public long[] relayCounts() {
        long victims = ds.deadlocks() == null ? 0 : ds.deadlocks().victims();
        return backends == null ? new long[]{0, 0, 0, victims}
                : new long[]{backends.relayed.sum(), backends.passedOn.sum(), backends.merged.sum(), victims};
    }

    /** Server connections the relay holds now. */
    public int relayConnections() {
        return backends == null ? 0 : backends.open();
    }

    /**
     * Whether whole transactions can be relayed: one group, and every table under its own name there (placed, broadcast,
     * or sharded into one table), so any statement can go to the master unchanged.
     */
    boolean relaysTransactions() {
        if (backends == null || config.groups().size() != 1) {
            return false;
        }
        for (dev.ballast.rules.TableRule t : config.tables().values()) {
            for (dev.ballast.rules.DataNode n : t.dataNodes()) {
                if (!n.table().equals(t.name())) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Transactions the one-group relay does not carry (several groups, or tables renamed in their group) are relayed with
     * one pinned connection per group ({@link ShardedTransaction}), unless proxy.relayShardedTransactions is off.
     */
    boolean relaysShardedTransactions() {
        return backends != null && !relaysTransactions() && settings.relayShardedTransactions();
    }

    Backends backends() {
        return backends;
    }

    /** The data source's config now (a pushed config, with failover.followConfig, applies to sessions opened after it). */
    /** Relayed sharded transactions merge simple multi-node SELECTs in the proxy (proxy.relayMerge of this proxy's config). */
    boolean relaysMerge() {
        return settings.relayMerge();
    }

    ClusterConfig config() {
        return ds.config();
    }

    public BallastDataSource dataSource() {
        return ds;
    }

    ExecutorService workers() {
        return workers;
    }

    String versionString() {
        // The backends' family and generation. Without MariaDB 10's "5.5.5-" prefix: MySQL Connector/J would take that
        // for MySQL 5.5 and drop fractional seconds; its MySQL 8 variable names are mapped (ClientSession.localValues).
        return "10.11.99-MariaDB-Ballast-proxy";
    }

    /**
     * A planned stop (SIGTERM): {@code GET /health} answers 404 from now on (a load balancer sends no new client), the
     * listening socket is closed (a client that connects anyway is refused; HAProxy retries it on another proxy), and the
     * clients already connected keep being served (running statements, open transactions) until they close their
     * connections, for {@code proxy.drainTimeoutMs} at most. Then {@link #close()} cuts whoever is left. Not guaranteed:
     * a client that keeps its connection (a pool without a maximum lifetime below the drain timeout, a sysbench thread)
     * is cut at the timeout like any server shutdown cuts it.
     *
     * @return the client connections still open at the timeout, which were cut
     */
    public int drainAndClose() {
        long timeoutMs = settings.drainTimeoutMs();
        long start = System.nanoTime();
        drainingSince = start | 1;
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        log.info("[cluster={}] draining: /health answers 404, no new clients; waiting up to proxy.drainTimeoutMs={} ms for "
                + "{} client connections to close", config.name(), timeoutMs, open.get());
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (open.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = open.get();
        log.info("[cluster={}] drained in {} ms: {} client connections closed by the proxy", config.name(),
                (System.nanoTime() - start) / 1_000_000L, left);
        close();
        return left;
    }

    @Override
    public void close() {
        if (health != null) {
            health.stop(0);
        }
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        if (boss != null) {
            boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            io.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        workers.shutdown();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsDataSource) {
            ds.close();
        }
    }
}
