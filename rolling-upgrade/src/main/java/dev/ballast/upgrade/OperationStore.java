package dev.ballast.upgrade;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Operations in ZooKeeper, under the cluster's path ({@code failover.zookeeper} + {@code /ballast/<cluster>}):
 * <ul>
 *   <li>{@code operations/<id>}: the {@link Operation} as JSON, created once, then only replaced by compare-and-set
 *       on the znode version, so a concurrent writer is detected ({@link OperationException.ConcurrentUpdate}) and
 *       never overwritten;</li>
 *   <li>{@code active-operations/<group>}: the id of the operation that holds the group. Persistent on purpose: it
 *       survives a {@code kill -9} of the CLI and a lost session, so the next {@code start} is refused and
 *       {@code resume} can continue. It is created with the operation in one transaction and deleted when the
 *       operation is DONE or ABORTED.</li>
 * </ul>
 * Nodes get the client's ACL provider (the control-plane ACL when {@code failover.acl} is set).
 */
public final class OperationStore {

    /** An operation with the znode version it was read at. */
    public record Versioned(Operation operation, int version) {
    }

    private final CuratorFramework client;
    private final String root;

    /** {@code clusterPath} is {@code config.failover().clusterPath(cluster)}, the same root the topology uses. */
    public OperationStore(CuratorFramework client, String clusterPath) {
        this.client = client;
        this.root = clusterPath;
    }

    /** The store of {@code config}'s cluster on {@code client} (for the CLI: {@code TopologyStore.connect(config)}). */
    public static OperationStore of(CuratorFramework client, ClusterConfig config) {
        return new OperationStore(client, config.failover().clusterPath(config.name()));
    }

    public CuratorFramework client() {
        return client;
    }

    public String operationsPath() {
        return root + "/operations";
    }

    public String operationPath(String id) {
        return operationsPath() + "/" + id;
    }

    public String activePath(String group) {
        return root + "/active-operations/" + group;
    }

    /** The group lock that failover, switchover and rejoin take (the same path as {@code TopologyStore.lockPath}). */
    public String lockPath(String group) {
        return new TopologyStore(client, root).lockPath(group);
    }

    /**
     * Stores a new operation and marks each of its groups as held by it, in one transaction.
     *
     * @throws OperationException.GroupBusy naming the operation that holds a group and how to continue or stop it
     */
    public int create(Operation op) {
        ensure(operationsPath());
        ensure(root + "/active-operations");
        List<CuratorOp> ops = new ArrayList<>();
        try {
            ops.add(client.transactionOp().create().withMode(CreateMode.PERSISTENT)
                    .forPath(operationPath(op.id()), bytes(op.toJson())));
            for (String group : op.groups()) {
                ops.add(client.transactionOp().create().withMode(CreateMode.PERSISTENT)
                        .forPath(activePath(group), bytes(op.id())));
            }
            client.transaction().forOperations(ops);
            return 0;
        } catch (KeeperException.NodeExistsException e) {
            for (String group : op.groups()) {
                Optional<String> holder = activeOn(group);
                if (holder.isPresent()) {
                    String other = holder.get();
                    throw new OperationException.GroupBusy("[cluster=" + op.cluster() + " group=" + group + "] operation "
                            + other + " is already active on this group; continue it with 'ballast upgrade resume " + other
                            + "' or stop it with 'ballast upgrade abort " + other + "'", other);
                }
            }
            throw new OperationException("[cluster=" + op.cluster() + "] operation " + op.id()
                    + " already exists; choose another id");
        } catch (Exception e) {
            throw new OperationException("[cluster=" + op.cluster() + "] creating operation " + op.id() + " at "
                    + operationPath(op.id()) + ": " + e, e);
        }
    }

    public Optional<Versioned> read(String id) {
        String path = operationPath(id);
        try {
            Stat stat = new Stat();
            byte[] data = client.getData().storingStatIn(stat).forPath(path);
            return Optional.of(new Versioned(Operation.fromJson(new String(data, StandardCharsets.UTF_8),
                    "operation at " + path), stat.getVersion()));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw new OperationException("reading " + path + ": " + e, e);
        }
    }

    /** Like {@link #read} but an unknown id is an error that says where it looked. */
    public Versioned get(String id) {
        return read(id).orElseThrow(() -> new OperationException("no operation " + id + " at " + operationPath(id)
                + "; 'ballast operations list' shows the known ones"));
    }

    /**
     * Replaces the operation if its znode is still at {@code expectedVersion}; returns the new version.
     *
     * @throws OperationException.ConcurrentUpdate when someone else wrote it in between (nothing is written)
     */
    public int update(Operation next, int expectedVersion) {
        String path = operationPath(next.id());
        try {
            Stat stat = client.setData().withVersion(expectedVersion).forPath(path, bytes(next.toJson()));
            return stat.getVersion();
        } catch (KeeperException.BadVersionException e) {
            throw new OperationException.ConcurrentUpdate("[cluster=" + next.cluster() + "] operation " + next.id()
                    + " was changed by another writer since version " + expectedVersion + " (another runner, or an"
                    + " abort); nothing was overwritten: read it again ('ballast operations show " + next.id() + "')");
        } catch (Exception e) {
            throw new OperationException("writing " + path + ": " + e, e);
        }
    }

    /** {@code operations/<id>/runner}: an ephemeral lease of the process running the operation. */
    public String runnerPath(String id) {
        return operationPath(id) + "/runner";
    }

    /**
     * Takes the runner lease of operation {@code id} for {@code who} (ephemeral: it ends with this client's session,
     * also after a {@code kill -9}); false when another runner holds it.
     */
    public boolean claim(String id, String who) {
        try {
            client.create().withMode(CreateMode.EPHEMERAL).forPath(runnerPath(id), bytes(who));
            return true;
        } catch (KeeperException.NodeExistsException e) {
            return false;
        } catch (Exception e) {
            throw new OperationException("creating " + runnerPath(id) + ": " + e, e);
        }
    }

    /** Who holds the runner lease of {@code id}, if anyone. */
    public Optional<String> runner(String id) {
        try {
            return Optional.of(new String(client.getData().forPath(runnerPath(id)), StandardCharsets.UTF_8));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw new OperationException("reading " + runnerPath(id) + ": " + e, e);
        }
    }

    /** Gives the lease back (best effort: when the session is gone, so is the lease). */
    public void unclaim(String id) {
        try {
            client.delete().forPath(runnerPath(id));
        } catch (Exception e) {
            // gone with the session, or never taken
        }
    }

    /** The id of the operation holding {@code group}, if any. */
    public Optional<String> activeOn(String group) {
        try {
            return Optional.of(new String(client.getData().forPath(activePath(group)), StandardCharsets.UTF_8));
        } catch (KeeperException.NoNodeException e) {
            return Optional.empty();
        } catch (Exception e) {
            throw new OperationException("reading " + activePath(group) + ": " + e, e);
        }
    }

    /** Frees the groups {@code op} holds (only the markers that name it; another operation's marker stays). */
    public void release(Operation op) {
        for (String group : op.groups()) {
            String path = activePath(group);
            try {
                Stat stat = new Stat();
                byte[] data = client.getData().storingStatIn(stat).forPath(path);
                if (new String(data, StandardCharsets.UTF_8).equals(op.id())) {
                    client.delete().withVersion(stat.getVersion()).forPath(path);
                }
            } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
                // already freed, or taken over since: not ours to delete
            } catch (Exception e) {
                throw new OperationException("[cluster=" + op.cluster() + " group=" + group + "] freeing " + path
                        + " for operation " + op.id() + ": " + e, e);
            }
        }
    }

    /** Every stored operation, oldest first. */
    public List<Operation> list() {
        try {
            if (client.checkExists().forPath(operationsPath()) == null) {
                return List.of();
            }
            List<Operation> out = new ArrayList<>();
            for (String id : client.getChildren().forPath(operationsPath())) {
                read(id).ifPresent(v -> out.add(v.operation()));
            }
            out.sort((a, b) -> a.createdAtMs() != b.createdAtMs() ? Long.compare(a.createdAtMs(), b.createdAtMs())
                    : a.id().compareTo(b.id()));
            return out;
        } catch (OperationException e) {
            throw e;
        } catch (Exception e) {
            throw new OperationException("listing " + operationsPath() + ": " + e, e);
        }
    }

    private void ensure(String path) {
        try {
            client.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path);
        } catch (KeeperException.NodeExistsException e) {
            // there already
        } catch (Exception e) {
            throw new OperationException("creating " + path + ": " + e, e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
