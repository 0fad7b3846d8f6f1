package dev.ballast.rules;

/**
 * The {@code failover.acl:} section: ZooKeeper digest credentials that protect the cluster's tree. The control plane
 * (monitor, CLI) authenticates as {@code admin} and may do everything; data planes (BallastDataSource, {@code jdbc:ballast:},
 * the proxy) authenticate as {@code reader} and may read, plus create and delete their own leases under
 * {@code <cluster>/workers}. Without this section the tree is open to every client that reaches ZooKeeper (unsafe).
 *
 * @param admin         the control plane's credential
 * @param reader        the data planes' credential
 * @param worldReadable whether a client without credential may read the tree (default false)
 */
public record ZkAclSettings(ZkCredential admin, ZkCredential reader, boolean worldReadable) {

    /** One ZooKeeper {@code digest} user; the password is resolved only by the process that authenticates with it. */
    public record ZkCredential(String user, Secret password) {
    }
}
