package dev.ballast.it.mongo;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import dev.ballast.mongo.BallastMongo;
import dev.ballast.mongo.MemberStatus;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.MongoSwitchover;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.MongoReplicaSetConfig;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Health and switchover against a real MongoDB 7.0 replica set of three members, where a Docker daemon is reachable;
 * reported as skipped without one ({@code disabledWithoutDocker}). The fixture tests (mongo-replset) cover the same
 * code on mongo-java-server, which runs no elections; this is the check against a real {@code mongod}.
 *
 * <p>Addresses: the three {@code mongod} run in one container, each on its own port P, published on the host's
 * 127.0.0.1:P (same number). The set's config names them {@code 127.0.0.1:P}, which reaches the member from inside the
 * container (its loopback) and from this JVM (the published port) alike, so the driver's discovery works from both.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RealReplicaSetTest {

    static final DockerImageName IMAGE = DockerImageName.parse("mongo:7.0");
    static final Duration CONVERGE = Duration.ofSeconds(90);

    static GenericContainer<?> container;
    static List<Integer> ports;
    static ClusterConfig config;
    static MongoReplicaSetConfig rs;
    static ReplicaSetProbe probe;

    @BeforeAll
    @Timeout(value = 15, unit = TimeUnit.MINUTES) // may pull the image first
    static void startReplicaSet() throws Exception {
        ports = freePorts(3);
        StringBuilder script = new StringBuilder();
        for (int p : ports) {
            script.append("mkdir -p /data/m").append(p).append(" && mongod --replSet rs0 --port ").append(p)
                    .append(" --bind_ip_all --dbpath /data/m").append(p).append(" --fork --logpath /data/m").append(p)
                    .append(".log && ");
        }
        script.append("echo MEMBERS-STARTED && tail -f /dev/null");
        container = new GenericContainer<>(IMAGE)
                .withCommand("bash", "-c", script.toString())
                .withCreateContainerCmdModifier(cmd -> {
                    List<PortBinding> bindings = new ArrayList<>();
                    List<ExposedPort> exposed = new ArrayList<>();
                    for (int p : ports) {
                        exposed.add(ExposedPort.tcp(p));
                        bindings.add(new PortBinding(Ports.Binding.bindIpAndPort("127.0.0.1", p), ExposedPort.tcp(p)));
                    }
                    cmd.withExposedPorts(exposed);
                    cmd.getHostConfig().withPortBindings(bindings);
                })
                .waitingFor(Wait.forLogMessage(".*MEMBERS-STARTED.*", 1).withStartupTimeout(Duration.ofMinutes(5)));
        container.start();
        List<Document> members = new ArrayList<>();
        for (int i = 0; i < ports.size(); i++) {
            members.add(new Document("_id", i).append("host", host(i)));
        }
        try (MongoClient direct = MongoClients.create("mongodb://" + host(0) + "/?directConnection=true")) {
            direct.getDatabase("admin").runCommand(new Document("replSetInitiate",
                    new Document("_id", "rs0").append("members", members)));
        }
        config = ClusterConfigLoader.parse("""
                name: shop
                database: shop
                credentials: {user: app}
                groups:
                  g0: {master: 127.0.0.1:3311}
                mongo:
                  replicaSets:
                    rs0:
                      members: [%s, %s, %s]
                      heartbeatFrequencyMs: 500
                      connectTimeoutMs: 10000
                      serverSelectionTimeoutMs: 30000
                """.formatted(host(0), host(1), host(2)), name -> null);
        rs = config.mongoReplicaSet("rs0").orElseThrow();
        probe = new ReplicaSetProbe(rs);
        await("a primary and two secondaries", () -> {
            ReplicaSetStatus s = probe.probe();
            return s.primary().isPresent() && s.members().stream().filter(MemberStatus::isSecondary).count() == 2;
        });
    }

    @AfterAll
    static void stop() {
        if (probe != null) {
            probe.close();
        }
        if (container != null) {
            container.stop();
        }
    }

    static String host(int i) {
        return "127.0.0.1:" + ports.get(i);
    }

    @Test
    @Order(1)
    void healthReportsEveryMemberWithStateOptimeLagPingAndVersion() {
        ReplicaSetStatus s = probe.probe();
        assertEquals("rs0", s.name());
        assertEquals(3, s.members().size(), s.toString());
        for (MemberStatus m : s.members()) {
            assertTrue(m.reachable(), m.toString());
            assertTrue(m.isPrimary() || m.isSecondary(), m.toString());
            assertTrue(m.optimeSeconds() > 0, m.toString());
            assertTrue(m.pingMs() >= 0, m.toString());
            assertTrue(m.configVersion() >= 1, m.toString());
            assertTrue(m.version().startsWith("7.0."), m.toString());
            assertTrue(m.priority() > 0, m.toString());
        }
        assertTrue(s.term() >= 1, s.toString());
    }

    @Test
    @Order(2)
    void switchoverUnderFourWritersMovesThePrimaryWithoutAClientErrorOrALostWrite() throws Exception {
        try (MongoClient client = BallastMongo.client(config, "rs0")) {
            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            orders.insertOne(new Document("_id", "warm-up"));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger acknowledged = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            ExecutorService writers = Executors.newFixedThreadPool(4);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int writer = w;
                futures.add(writers.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            orders.insertOne(new Document("_id", writer + "-" + i));
                            acknowledged.incrementAndGet();
                        } catch (RuntimeException e) {
                            errors.add(e);
                        }
                    }
                }));
            }
            Thread.sleep(1_000);
            ReplicaSetStatus before = probe.probe();
            String from = before.primary().orElseThrow().member();
            String to = before.members().stream().filter(MemberStatus::isSecondary).map(MemberStatus::member)
                    .findFirst().orElseThrow();
            MongoSwitchover.Result r = new MongoSwitchover(rs, probe).run(Optional.of(to));
            Thread.sleep(1_000);
            stop.set(true);
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            writers.shutdown();
            assertEquals(List.of(), List.copyOf(errors), "no client error (retryable writes)");
            assertEquals(from, r.from());
            assertEquals(to, r.to());
            assertEquals(to, probe.probe().primary().orElseThrow().member());
            assertTrue(r.termAfter() > r.termBefore(), r.toString());
            assertNotEquals(r.electionIdBefore(), r.electionIdAfter());
            assertEquals(acknowledged.get() + 1, orders.countDocuments(), "every acknowledged write is there");
            System.out.printf("MEASURED switchover on a real replica set (mongo:7.0): %d acknowledged writes, 0 errors, "
                    + "no primary for %d ms, switchover %d ms%n", acknowledged.get(), r.noPrimaryMs(), r.totalMs());
        }
    }

    @Test
    @Order(3)
    void aSwitchoverToThePrimaryOrAStrangerIsRefusedAndChangesNothing() {
        ReplicaSetStatus before = probe.probe();
        String primary = before.primary().orElseThrow().member();
        MongoSwitchover s = new MongoSwitchover(rs, probe);
        assertTrue(assertThrows(MongoRefusedException.class, () -> s.run(Optional.of(primary))).getMessage()
                .contains("it is already the primary"));
        assertThrows(MongoRefusedException.class, () -> s.run(Optional.of("127.0.0.1:1")));
        ReplicaSetStatus after = probe.probe();
        assertEquals(primary, after.primary().orElseThrow().member());
        assertEquals(before.term(), after.term(), "no election");
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void await(String what, Check check) throws Exception {
        long deadline = System.nanoTime() + CONVERGE.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not within " + CONVERGE + ": " + what + (last == null ? "" : " (last error: " + last + ")"));
    }

    static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress()));
            }
            return sockets.stream().map(ServerSocket::getLocalPort).toList();
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
