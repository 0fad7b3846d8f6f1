package dev.ballast.topology;

/**
 * Which {@code failover.acl} credential a process authenticates with to ZooKeeper (README "ACL set-up"). Without
 * {@code failover.acl} both connect unauthenticated to an open tree.
 */
public enum ZkRole {
    /**
     * The monitor and the admin CLI: {@code failover.acl.admin}. Creates, changes and deletes everything in the cluster's
     * tree, and sets the ACL on what exists (see {@link TreeAcl#secure}).
     */
    CONTROL_PLANE,
    /**
     * BallastDataSource, {@code jdbc:ballast:} and the proxy: {@code failover.acl.reader}. Reads the tree; creates and
     * deletes only its own ephemeral leases under {@code <cluster>/workers}.
     */
    DATA_PLANE
}
