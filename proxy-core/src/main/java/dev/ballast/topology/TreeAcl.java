package dev.ballast.topology;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ConfigException;
import dev.ballast.rules.FailoverSettings;
import dev.ballast.rules.ZkAclSettings;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

/**
 * The ACL of every node of a cluster's tree when {@code failover.acl} is set (README "ACL set-up"):
 * <ul>
 *   <li>{@code zkRoot}, {@code zkRoot/<cluster>} and everything below: admin ALL, reader READ;</li>
 *   <li>{@code <cluster>/workers}: admin ALL, reader READ + CREATE + DELETE (data planes lease worker ids there);</li>
 *   <li>a lease {@code <cluster>/workers/<child>}, created by a data plane: reader ALL;</li>
 *   <li>{@code <cluster>/planes} and a data plane's registration below it (the schema version it has loaded), the same
 *       as {@code workers} and a lease;</li>
 * </ul>
 * plus world READ on each when {@code failover.acl.worldReadable} is true. Deleting a node needs DELETE on its parent, so
 * a protected {@code zkRoot} keeps the cluster's node from being deleted, and a protected cluster node its children.
 *
 * <p>Also the Curator {@link ACLProvider} of a client: every node a Ballast process creates gets its ACL at creation. A
 * data plane knows only the reader's credential: what it creates outside {@code workers/} (only parents missing because
 * no control plane has run yet, which a secured tree refuses anyway) is left open for the control plane to secure.
 *
 * <p>Not guaranteed: a lease is protected against clients without the reader credential, not against another data plane
 * (they share the credential); the control plane can delete a lease but reads it only where the tree is world-readable.
 */
public final class TreeAcl implements ACLProvider {

    private static final Logger log = LoggerFactory.getLogger(TreeAcl.class);

    /** The child of the cluster's node under which data planes create their leases. */
    public static final String WORKERS = "workers";
    /** The child of the cluster's node under which running data planes register (see {@link PlaneRegistration}). */
    public static final String PLANES = "planes";

    private final String cluster;
    private final String zkRoot;
    private final String clusterPath;
    private final String workersPath;
    private final String planesPath;
    private final ZkRole role;
    private final List<ACL> tree;
    private final List<ACL> workers;
    private final List<ACL> lease;

    private TreeAcl(String cluster, FailoverSettings failover, ZkRole role, Optional<Id> admin, Id reader, boolean world) {
        this.cluster = cluster;
        this.zkRoot = failover.zkRoot();
        this.clusterPath = failover.clusterPath(cluster);
        this.workersPath = clusterPath + "/" + WORKERS;
        this.planesPath = clusterPath + "/" + PLANES;
        this.role = role;
        List<ACL> worldRead = world ? List.of(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)) : List.of();
        this.lease = concat(List.of(new ACL(ZooDefs.Perms.ALL, reader)), worldRead);
        if (admin.isPresent()) {
            ACL adminAll = new ACL(ZooDefs.Perms.ALL, admin.get());
            this.tree = concat(List.of(adminAll, new ACL(ZooDefs.Perms.READ, reader)), worldRead);
            this.workers = concat(List.of(adminAll, new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE,
                    reader)), worldRead);
        } else {
            this.tree = ZooDefs.Ids.OPEN_ACL_UNSAFE;
            this.workers = ZooDefs.Ids.OPEN_ACL_UNSAFE;
        }
    }

    /**
     * The ACL scheme of the config for a process of {@code role}; empty without {@code failover.acl} (open tree). Resolves
     * the passwords it needs: the control plane both (it grants the reader its rights), a data plane the reader's.
     *
     * @throws ConfigException naming the key and the variable when a password's environment variable is not set
     */
    public static Optional<TreeAcl> forConfig(ClusterConfig config, ZkRole role) {
        return config.failover().acl().map(acl -> new TreeAcl(config.name(), config.failover(), role,
                role == ZkRole.CONTROL_PLANE ? Optional.of(digestId(acl.admin())) : Optional.empty(),
                digestId(acl.reader()), acl.worldReadable()));
    }

    /** The {@code user:password} bytes a process of {@code role} authenticates with ({@code digest} scheme). */
    static byte[] authentication(ZkAclSettings acl, ZkRole role) {
        ZkAclSettings.ZkCredential c = role == ZkRole.CONTROL_PLANE ? acl.admin() : acl.reader();
        return (c.user() + ":" + c.password().reveal()).getBytes(StandardCharsets.UTF_8);
    }

    /** ZooKeeper's digest id of a credential, {@code user:base64(sha1(user:password))}, as ZooKeeper itself computes it. */
    static Id digestId(ZkAclSettings.ZkCredential c) {
        try {
            return new Id("digest", DigestAuthenticationProvider.generateDigest(c.user() + ":" + c.password().reveal()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available in this JVM: " + e.getMessage(), e);
        }
    }

    public String workersPath() {
        return workersPath;
    }

    @Override
    public List<ACL> getDefaultAcl() {
        return tree;
    }

    @Override
    public List<ACL> getAclForPath(String path) {
        if (dataPlaneOwned(path)) {
            return lease;
        }
        if (path.equals(workersPath) || path.equals(planesPath)) {
            return workers;
        }
        if (path.equals(zkRoot) || path.equals(clusterPath) || path.startsWith(clusterPath + "/")) {
            return tree;
        }
        return ZooDefs.Ids.OPEN_ACL_UNSAFE; // above zkRoot, or another cluster's tree: not ours to close
    }

    /** What {@link #secure} did. */
    public record Secured(int checked, int changed, int leasesSkipped) {
    }

    /**
     * Sets this scheme's ACL on {@code zkRoot}, the cluster's node and every node below it wherever it differs, and creates
     * {@code workers/} if missing: an unprotected tree of an older Ballast becomes protected. Idempotent (a second run
     * changes nothing); the monitor runs it at every start. A lease that is not the control plane's to change is skipped.
     * Needs the control plane's client (authenticated as admin, with this provider).
     *
     * @throws TopologyStore.TopologyException when a node is protected by another credential (e.g. another cluster's
     *                                         admin on a shared {@code zkRoot}), naming the node and the way out
     */
    public Secured secure(CuratorFramework client) {
        if (role != ZkRole.CONTROL_PLANE) {
            throw new IllegalStateException("[cluster=" + cluster + "] only the control plane (failover.acl.admin) sets ACLs");
        }
        int checked = 0;
        int changed = 0;
        int skipped = 0;
        try {
            for (String dir : List.of(workersPath, planesPath)) {
                if (client.checkExists().forPath(dir) == null) {
                    try {
                        client.create().creatingParentsIfNeeded().forPath(dir);
                    } catch (KeeperException.NodeExistsException raced) {
                        // another control plane created it meanwhile
                    } catch (KeeperException.NoAuthException e) {
                        throw protectedElsewhere(e.getPath() == null ? zkRoot : e.getPath(), e); // the node that refused
                    }
                }
            }
            Deque<String> pending = new ArrayDeque<>();
            pending.push(clusterPath);
            List<String> order = new ArrayList<>();
            if (!zkRoot.equals("/")) {
                order.add(zkRoot);
            }
            while (!pending.isEmpty()) {
                String path = pending.pop();
                order.add(path);
                try {
                    for (String child : client.getChildren().forPath(path)) {
                        pending.push(path + "/" + child);
                    }
                } catch (KeeperException.NoNodeException gone) {
                    // an ephemeral node that ended meanwhile
                } catch (KeeperException.NoAuthException e) {
                    if (!dataPlaneOwned(path)) {
                        throw protectedElsewhere(path, e);
                    }
                }
            }
            for (String path : order) {
                checked++;
                List<ACL> expected = getAclForPath(path);
                try {
                    Stat stat = new Stat();
                    List<ACL> actual = client.getACL().storingStatIn(stat).forPath(path);
                    if (new HashSet<>(actual).equals(new HashSet<>(expected))) {
                        continue;
                    }
                    client.setACL().withVersion(stat.getAversion()).withACL(expected).forPath(path);
                    changed++;
                    log.info("[cluster={}] ACL of {} set to {} (was {})", cluster, path, describe(expected), describe(actual));
                } catch (KeeperException.NoNodeException gone) {
                    // an ephemeral node that ended meanwhile
                } catch (KeeperException.NoAuthException e) {
                    if (dataPlaneOwned(path)) {
                        skipped++; // a data plane's lease or registration, its own to protect
                    } else {
                        throw protectedElsewhere(path, e);
                    }
                }
            }
        } catch (TopologyStore.TopologyException e) {
            throw e;
        } catch (Exception e) {
            throw new TopologyStore.TopologyException("[cluster=" + cluster + "] setting the ACL of " + clusterPath + ": " + e, e);
        }
        if (changed > 0) {
            log.info("[cluster={}] ZooKeeper tree {} secured: ACL set on {} of {} nodes", cluster, clusterPath, changed, checked);
        }
        return new Secured(checked, changed, skipped);
    }

    /** A lease or a registration: created by a data plane, which only it (and the control plane) may change. */
    private boolean dataPlaneOwned(String path) {
        return path.startsWith(workersPath + "/") || path.startsWith(planesPath + "/");
    }

    private TopologyStore.TopologyException protectedElsewhere(String path, Exception e) {
        return new TopologyStore.TopologyException("[cluster=" + cluster + "] " + path + " is protected by another ZooKeeper "
                + "credential than failover.acl.admin: check failover.acl.admin.user and its password; clusters that share "
                + "failover.zkRoot " + zkRoot + " must share failover.acl.admin, or give this cluster its own zkRoot (" + e + ")", e);
    }

    /** {@code digest:user:rwcda, world:anyone:r}, without the password hash. */
    static String describe(List<ACL> acl) {
        StringBuilder b = new StringBuilder();
        for (ACL a : acl) {
            String id = a.getId().getId();
            int colon = id.indexOf(':');
            b.append(b.length() == 0 ? "" : ", ").append(a.getId().getScheme()).append(':')
                    .append(a.getId().getScheme().equals("digest") && colon > 0 ? id.substring(0, colon) : id).append(':')
                    .append(perms(a.getPerms()));
        }
        return "[" + b + "]";
    }

    private static String perms(int p) {
        String out = ((p & ZooDefs.Perms.READ) != 0 ? "r" : "") + ((p & ZooDefs.Perms.WRITE) != 0 ? "w" : "")
                + ((p & ZooDefs.Perms.CREATE) != 0 ? "c" : "") + ((p & ZooDefs.Perms.DELETE) != 0 ? "d" : "")
                + ((p & ZooDefs.Perms.ADMIN) != 0 ? "a" : "");
        return out.isEmpty() ? "-" : out;
    }

    private static List<ACL> concat(List<ACL> a, List<ACL> b) {
        List<ACL> out = new ArrayList<>(a);
        out.addAll(b);
        // Not List.copyOf: ZooKeeper.create checks acl.contains(null), which an immutable List.of throws on.
        return java.util.Collections.unmodifiableList(out);
    }
}
