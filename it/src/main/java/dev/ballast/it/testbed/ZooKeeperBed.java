package dev.ballast.it.testbed;

import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A real single ZooKeeper server (Curator's {@link TestingServer}, in this JVM) on {@code 127.0.0.1} only:
 * {@code clientPortAddress=127.0.0.1} and the admin server (Jetty, otherwise on {@code 0.0.0.0:8080}) off.
 * {@link #stop()} and {@link #restart()} keep the port and the data, for "ZooKeeper down" scenarios: sessions
 * survive a restart as long as it is shorter than their timeout.
 */
public final class ZooKeeperBed implements AutoCloseable {

    private final TestingServer server;
    private final Path dataDir;
    private boolean running;

    private ZooKeeperBed(TestingServer server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
        this.running = true;
    }

    /** Starts a server on a free loopback port. */
    public static ZooKeeperBed start() {
        Path dir;
        try {
            dir = Files.createTempDirectory(Janitor.root(), "zookeeper-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a ZooKeeper data directory: " + e.getMessage(), e);
        }
        int port = InstanceSpec.getRandomPort();
        Map<String, Object> properties = Map.of(
                "clientPortAddress", MariaDbNode.HOST,
                "admin.enableServer", "false");
        InstanceSpec spec = new InstanceSpec(dir.toFile(), port, -1, -1, true, 1, -1, -1, properties, MariaDbNode.HOST);
        try {
            return new ZooKeeperBed(new TestingServer(spec, true), dir);
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper did not start on " + MariaDbNode.HOST + ":" + port + " (data " + dir
                    + "): " + e, e);
        }
    }

    /** {@code 127.0.0.1:port}. */
    public String connectString() {
        return server.getConnectString();
    }

    public int port() {
        return server.getPort();
    }

    public boolean isRunning() {
        return running;
    }

    /** Stops the server (clients see connection loss); data and port are kept for {@link #restart()}. */
    public synchronized void stop() {
        try {
            server.stop();
            running = false;
        } catch (IOException e) {
            throw new IllegalStateException("ZooKeeper on " + connectString() + " did not stop: " + e, e);
        }
    }

    /** Starts the server again on the same port with the same data (stops it first if it runs). */
    public synchronized void restart() {
        try {
            server.restart();
            running = true;
        } catch (Exception e) {
            throw new IllegalStateException("ZooKeeper on " + connectString() + " (data " + dataDir + ") did not restart: " + e, e);
        }
    }

    /** Stops the server and deletes its data. */
    @Override
    public synchronized void close() {
        try {
            server.close();
        } catch (IOException e) {
            throw new IllegalStateException("ZooKeeper on " + connectString() + " did not close: " + e, e);
        } finally {
            running = false;
            try {
                Os.deleteTree(dataDir);
            } catch (IOException ignored) {
                // the JVM's test-bed directory is removed at exit anyway
            }
        }
    }

    @Override
    public String toString() {
        return "ZooKeeperBed[" + connectString() + (running ? "" : ", stopped") + "]";
    }
}
