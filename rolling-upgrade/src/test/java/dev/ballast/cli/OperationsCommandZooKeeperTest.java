package dev.ballast.cli;

import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Step;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ballast operations list|show} against a real ZooKeeper holding an operation. */
class OperationsCommandZooKeeperTest {

    @Test
    void listAndShowReadTheStoredOperation(@TempDir Path dir) throws Exception {
        InstanceSpec spec = new InstanceSpec(Files.createDirectory(dir.resolve("zk")).toFile(), InstanceSpec.getRandomPort(),
                -1, -1, true, 1, -1, -1, Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"), "127.0.0.1");
        try (TestingServer zk = new TestingServer(spec, true);
             CuratorFramework client = CuratorFrameworkFactory.newClient(zk.getConnectString(), new RetryOneTime(100))) {
            client.start();
            assertTrue(client.blockUntilConnected(10, TimeUnit.SECONDS));
            Path config = Files.writeString(dir.resolve("c.yaml"), "name: shop\ndatabase: shop\ncredentials:\n  user: a\n"
                    + "  password: b\ngroups:\n  g0:\n    master: 127.0.0.1:3311\n    replicas: []\n"
                    + "failover:\n  zookeeper: " + zk.getConnectString() + "\n");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
            PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);

            assertEquals(0, BallastCli.run(new String[]{"operations", "list", "--config", config.toString()}, o, e), err.toString());
            assertEquals("no operations\n", out.toString(StandardCharsets.UTF_8));

            new OperationStore(client, "/ballast/shop").create(Operation.create("op-1", "toy", "shop", "alice", 0,
                    List.of(Step.pending("g0", "127.0.0.1:3311", Action.of("drain"), "a replica"))));
            out.reset();
            assertEquals(0, BallastCli.run(new String[]{"operations", "list", "--config", config.toString()}, o, e), err.toString());
            assertEquals("op-1  toy  PENDING  0/1 steps  1970-01-01T00:00:00Z by alice\n", out.toString(StandardCharsets.UTF_8));
            out.reset();
            assertEquals(0, BallastCli.run(new String[]{"operations", "show", "op-1", "--config", config.toString()}, o, e));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("1/1 PENDING  g0 127.0.0.1:3311 drain"), out.toString());
            out.reset();
            assertEquals(0, BallastCli.run(new String[]{"operations", "show", "op-1", "--json", "--config", config.toString()}, o, e));
            assertEquals("op-1", Operation.fromJson(out.toString(StandardCharsets.UTF_8), "output").id());
            err.reset();
            assertEquals(1, BallastCli.run(new String[]{"operations", "show", "op-9", "--config", config.toString()}, o, e));
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("no operation op-9 at /ballast/shop/operations/op-9"),
                    err.toString(StandardCharsets.UTF_8));
        }
    }
}
