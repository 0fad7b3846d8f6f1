package dev.ballast.upgrade;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A real ZooKeeper on 127.0.0.1 (admin server off) for the engine's tests, and clients of it. */
final class LocalZooKeeper implements AutoCloseable {

    final TestingServer server;

    LocalZooKeeper() throws Exception {
        Path dir = Files.createTempDirectory("ballast-ops-zk-");
        InstanceSpec spec = new InstanceSpec(dir.toFile(), InstanceSpec.getRandomPort(), -1, -1, true, 1, -1, -1,
                Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"), "127.0.0.1");
        server = new TestingServer(spec, true);
    }

    String connectString() {
        return server.getConnectString();
    }

    CuratorFramework client() throws InterruptedException {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(connectString())
                .sessionTimeoutMs(10_000).connectionTimeoutMs(5_000).retryPolicy(new RetryOneTime(200)).build();
        c.start();
        if (!c.blockUntilConnected(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no ZooKeeper at " + connectString());
        }
        return c;
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
