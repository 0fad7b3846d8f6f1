package dev.ballast.it.testbed;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

/**
 * Real MariaDB servers on loopback for integration tests: replica groups (a master and its replicas in GTID +
 * semi-sync replication) and standalone nodes, each a {@code mariadbd} process with its own data directory under
 * {@code java.io.tmpdir/ballast-testbed-*}.
 *
 * <pre>{@code
 * try (TestBed bed = TestBed.start(2, 2)) {
 *     MariaDbNode master = bed.group(0).master();
 *     try (Connection c = master.connect(TestBed.DATABASE)) { ... }
 *     bed.awaitReplication();
 * }
 * }</pre>
 *
 * <p>{@code start} returns when every node accepts connections, every replica's IO and SQL threads run, the
 * replicas are registered as semi-sync clients, and the database exists everywhere (created on each master and
 * replicated). The users of {@link TestBedUsers} exist on every node. {@link #close()} kills the servers (their data
 * is thrown away, so there is no clean shutdown to wait for) and deletes their directories; a JVM shutdown hook does
 * the same for beds that were not closed. Not thread-safe: drive one bed from one thread.
 */
public final class TestBed implements AutoCloseable {

    /** The database of {@link #start(int, int)}. */
    public static final String DATABASE = "ballast";
    /** Shorthand for {@link TestBedUsers#APP_USER}. */
    public static final String APP_USER = TestBedUsers.APP_USER;
    /** Shorthand for {@link TestBedUsers#APP_PASSWORD}. */
    public static final String APP_PASSWORD = TestBedUsers.APP_PASSWORD;

    private static final Logger log = LoggerFactory.getLogger(TestBed.class);
    private static final Duration REPLICATION_START_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z0-9_]{1,64}");
    private static int beds;

    /**
     * What to start.
     *
     * @param groups           number of replica groups, {@code >= 0}
     * @param replicasPerGroup replicas in each group, {@code >= 0}
     * @param standalones      non-replicated nodes, {@code >= 0}
     * @param database         created on every node; letters, digits and {@code _}
     */
    public record Spec(int groups, int replicasPerGroup, int standalones, String database) {
        public Spec {
            if (groups < 0 || replicasPerGroup < 0 || standalones < 0) {
                throw new IllegalArgumentException("test bed spec: groups (" + groups + "), replicasPerGroup ("
                        + replicasPerGroup + ") and standalones (" + standalones + ") must be >= 0");
            }
            if (database == null || !DATABASE_NAME.matcher(database).matches()) {
                throw new IllegalArgumentException("test bed spec: database '" + database
                        + "' must be 1-64 letters, digits or underscores");
            }
        }

        /** {@code groups} x (master + {@code replicasPerGroup}), no standalone node, database {@value #DATABASE}. */
        public static Spec of(int groups, int replicasPerGroup) {
            return new Spec(groups, replicasPerGroup, 0, DATABASE);
        }

        public Spec withStandalones(int n) {
            return new Spec(groups, replicasPerGroup, n, database);
        }

        public Spec withDatabase(String name) {
            return new Spec(groups, replicasPerGroup, standalones, name);
        }
    }

    private final Spec spec;
    private final Path directory;
    private final MariaDbBinaries binaries;
    private final List<ReplicaGroupBed> groups = new ArrayList<>();
    private final List<MariaDbNode> standalones = new ArrayList<>();
    private final List<MariaDbNode> all = new ArrayList<>();
    private boolean closed;

    private TestBed(Spec spec, Path directory, MariaDbBinaries binaries) {
        this.spec = spec;
        this.directory = directory;
        this.binaries = binaries;
    }

    /** {@code groups} x (master + {@code replicasPerGroup}) with database {@value #DATABASE}. */
    public static TestBed start(int groups, int replicasPerGroup) {
        return start(Spec.of(groups, replicasPerGroup));
    }

    /**
     * Starts what {@code spec} says. Group {@code g} (from 0) has master {@code server_id} {@code 100*(g+1)+1} and
     * replicas {@code 100*(g+1)+2, ...}; standalone nodes have 1001, 1002, ...
     *
     * @throws IllegalStateException if a server does not start or replicate; everything already started is killed
     */
    public static TestBed start(Spec spec) {
        long t0 = System.nanoTime();
        MariaDbBinaries binaries = MariaDbBinaries.locate();
        Path dir;
        synchronized (TestBed.class) {
            dir = Janitor.root().resolve("bed" + (++beds));
        }
        TestBed bed = new TestBed(spec, dir, binaries);
        try {
            Files.createDirectories(dir);
            Template.dataDir(binaries);
            for (int g = 0; g < spec.groups(); g++) {
                int base = 100 * (g + 1);
                MariaDbNode master = bed.node("g" + g + "-master", MariaDbNode.Role.MASTER, base + 1, spec.replicasPerGroup() > 0);
                List<MariaDbNode> replicas = new ArrayList<>();
                for (int r = 1; r <= spec.replicasPerGroup(); r++) {
                    replicas.add(bed.node("g" + g + "-replica" + r, MariaDbNode.Role.REPLICA, base + 1 + r, false));
                }
                bed.groups.add(new ReplicaGroupBed("g" + g, master, replicas));
            }
            for (int s = 0; s < spec.standalones(); s++) {
                bed.standalones.add(bed.node("standalone" + (s + 1), MariaDbNode.Role.STANDALONE, 1001 + s, false));
            }
            startAll(bed.all);
            for (ReplicaGroupBed group : bed.groups) {
                group.startReplication(REPLICATION_START_TIMEOUT);
                group.master().execute("CREATE DATABASE IF NOT EXISTS `" + spec.database() + "`");
            }
            for (MariaDbNode node : bed.standalones) {
                node.execute("CREATE DATABASE IF NOT EXISTS `" + spec.database() + "`");
            }
            bed.awaitReplication();
        } catch (IOException | RuntimeException e) {
            bed.close();
            throw e instanceof IllegalStateException ise ? ise : new IllegalStateException("test bed " + spec + " failed to start: " + e, e);
        }
        log.info("test bed {} started in {} ms: {}", spec, (System.nanoTime() - t0) / 1_000_000, bed.groups);
        return bed;
    }

    private MariaDbNode node(String name, MariaDbNode.Role role, int serverId, boolean semiSyncMaster) {
        MariaDbNode node = new MariaDbNode(binaries, directory.resolve(name), name, role, serverId, semiSyncMaster);
        all.add(node);
        return node;
    }

    /** Starts the nodes in parallel and waits for all; the first failure is thrown, with the others suppressed. */
    private static void startAll(List<MariaDbNode> nodes) {
        if (nodes.size() == 1) {
            nodes.get(0).start();
            return;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, nodes.size()), r -> {
            Thread t = new Thread(r, "ballast-testbed-start");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> started = new ArrayList<>();
            for (MariaDbNode node : nodes) {
                started.add(pool.submit(node::start));
            }
            IllegalStateException failure = null;
            for (Future<?> f : started) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    IllegalStateException ise = e.getCause() instanceof IllegalStateException i ? i
                            : new IllegalStateException(e.getCause().toString(), e.getCause());
                    if (failure == null) {
                        failure = ise;
                    } else {
                        failure.addSuppressed(ise);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while starting MariaDB nodes", e);
                }
            }
            if (failure != null) {
                throw failure;
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Starts one more standalone node (database created) in this bed, e.g. as an unsharded reference server;
     * {@code server_id} continues after the spec's standalones.
     */
    public MariaDbNode startStandalone() {
        requireOpen();
        MariaDbNode node = node("standalone" + (standalones.size() + 1), MariaDbNode.Role.STANDALONE, 1001 + standalones.size(), false);
        standalones.add(node);
        node.start();
        node.execute("CREATE DATABASE IF NOT EXISTS `" + spec.database() + "`");
        return node;
    }

    /** The spec this bed was started with (standalones added later by {@link #startStandalone()} not counted). */
    public Spec spec() {
        return spec;
    }

    /** The database that exists on every node. */
    public String database() {
        return spec.database();
    }

    public List<ReplicaGroupBed> groups() {
        return List.copyOf(groups);
    }

    /** Group {@code i}, from 0. */
    public ReplicaGroupBed group(int i) {
        if (i < 0 || i >= groups.size()) {
            throw new IndexOutOfBoundsException("test bed has groups 0.." + (groups.size() - 1) + ", not " + i);
        }
        return groups.get(i);
    }

    public List<MariaDbNode> standalones() {
        return List.copyOf(standalones);
    }

    /** Every node: each group's master and replicas, then the standalone nodes. */
    public List<MariaDbNode> nodes() {
        return List.copyOf(all);
    }

    /** This bed's directory: one data directory per node. */
    public Path directory() {
        return directory;
    }

    /**
     * Waits until every running replica of every group has applied its master's current position; see
     * {@link ReplicaGroupBed#awaitReplication()}.
     */
    public void awaitReplication() {
        for (ReplicaGroupBed group : groups) {
            group.awaitReplication();
        }
    }

    /** Kills every server of the bed (no clean shutdown: the data is discarded) and deletes its directory. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (MariaDbNode node : all) {
            node.pid().ifPresent(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
        for (MariaDbNode node : all) {
            node.killQuietly();
        }
        try {
            Os.deleteTree(directory);
        } catch (IOException e) {
            log.warn("cannot delete test bed directory {}: {}", directory, e.toString());
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("test bed " + directory + " is closed");
        }
    }

    /** One line per node: role, name, address, server_id. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        for (MariaDbNode node : all) {
            s.append(String.format("%-10s %-14s %-16s server_id=%d%n", node.role().name().toLowerCase(), node.name(),
                    node.address(), node.serverId()));
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return "TestBed[" + spec + ", " + directory + "]";
    }
}
