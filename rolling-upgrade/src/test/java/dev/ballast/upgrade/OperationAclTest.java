package dev.ballast.upgrade;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.topology.TopologyStore;
import dev.ballast.topology.ZkRole;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With {@code failover.acl}, what the control plane stores for operations only the control plane may change. */
class OperationAclTest {

    @Test
    void operationsAndGroupMarkersGetTheControlPlaneAclAndDataPlanesCannotWriteThem(@TempDir Path dir) throws Exception {
        try (LocalZooKeeper zk = new LocalZooKeeper()) {
            Path file = Files.writeString(dir.resolve("c.yaml"), "name: shop\ndatabase: shop\ncredentials:\n  user: a\n"
                    + "  password: b\ngroups:\n  g0:\n    master: 127.0.0.1:3311\n    replicas: []\n"
                    + "failover:\n  zookeeper: " + zk.connectString() + "\n  acl:\n"
                    + "    admin:\n      user: ballast-admin\n      password: admin-secret\n"
                    + "    reader:\n      user: ballast-reader\n      password: reader-secret\n");
            ClusterConfig config = ClusterConfigLoader.load(file);
            try (CuratorFramework admin = TopologyStore.connect(config);
                 CuratorFramework reader = TopologyStore.connect(config, ZkRole.DATA_PLANE)) {
                assertTrue(admin.blockUntilConnected(10, TimeUnit.SECONDS));
                assertTrue(reader.blockUntilConnected(10, TimeUnit.SECONDS));
                OperationStore store = OperationStore.of(admin, config);
                store.create(Operation.create("op-1", "toy", "shop", "t", 0,
                        List.of(Step.pending("g0", "", Action.of("toy"), ""))));

                for (String path : List.of(store.operationPath("op-1"), store.activePath("g0"))) {
                    List<ACL> acl = admin.getACL().forPath(path);
                    assertTrue(acl.stream().anyMatch(a -> a.getId().getId().startsWith("ballast-admin:")
                            && a.getPerms() == ZooDefs.Perms.ALL), path + " " + acl);
                    assertTrue(acl.stream().noneMatch(a -> a.getId().getScheme().equals("world")), path + " " + acl);
                }
                OperationStore asReader = OperationStore.of(reader, config);
                assertEquals("op-1", asReader.get("op-1").operation().id(), "a data plane may read");
                OperationException e = assertThrows(OperationException.class,
                        () -> asReader.update(asReader.get("op-1").operation().withState(Operation.State.ABORTED, "x"), 0));
                assertTrue(e.getCause() instanceof KeeperException.NoAuthException, String.valueOf(e.getCause()));
                assertEquals(Operation.State.PENDING, store.get("op-1").operation().state());
            }
        }
    }
}
