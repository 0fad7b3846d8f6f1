package dev.ballast.topology;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TreeAclTest {

    static final String YAML = """
            name: shop
            database: shop
            credentials: {user: app, password: pw}
            groups:
              g0: {master: 127.0.0.1:3311, replicas: [127.0.0.1:3312]}
            failover:
              zookeeper: 127.0.0.1:2181
              acl:
                admin: {user: ballast-admin, password: "${ADMIN_PW}"}
                reader: {user: ballast-reader, password: "${READER_PW}"}
            """;

    static final Map<String, String> ENV = Map.of("ADMIN_PW", "a-secret", "READER_PW", "r-secret");

    static ClusterConfig config(String yaml, Map<String, String> env) {
        return ClusterConfigLoader.parse(yaml, env::get);
    }

    // ZooKeeper's digest of "user:password" is base64(sha1(...)); these are what `DigestAuthenticationProvider` prints.
    static final Id ADMIN = new Id("digest", "ballast-admin:" + sha1Base64("ballast-admin:a-secret"));
    static final Id READER = new Id("digest", "ballast-reader:" + sha1Base64("ballast-reader:r-secret"));

    static String sha1Base64(String text) {
        try {
            return java.util.Base64.getEncoder().encodeToString(java.security.MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void controlPlaneGrantsAdminAllReaderReadAndTheReaderItsLeasesUnderWorkers() {
        TreeAcl acl = TreeAcl.forConfig(config(YAML, ENV), ZkRole.CONTROL_PLANE).orElseThrow();
        List<ACL> tree = List.of(new ACL(ZooDefs.Perms.ALL, ADMIN), new ACL(ZooDefs.Perms.READ, READER));
        assertEquals(tree, acl.getAclForPath("/ballast"));
        assertEquals(tree, acl.getAclForPath("/ballast/shop"));
        assertEquals(tree, acl.getAclForPath("/ballast/shop/topology/g0"));
        assertEquals(tree, acl.getDefaultAcl());
        assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, ADMIN),
                new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE, READER)),
                acl.getAclForPath("/ballast/shop/workers"));
        assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, READER)), acl.getAclForPath("/ballast/shop/workers/lease-0000000001"));
        assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, acl.getAclForPath("/ballast/shopping"), "another cluster's tree");
        assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, acl.getAclForPath("/other"));
        assertEquals("[digest:ballast-admin:rwcda, digest:ballast-reader:r]", TreeAcl.describe(tree));
    }

    @Test
    void worldReadableAddsAnonymousReadEverywhere() {
        TreeAcl acl = TreeAcl.forConfig(config(YAML + "    worldReadable: true\n", ENV), ZkRole.CONTROL_PLANE).orElseThrow();
        for (String path : List.of("/ballast", "/ballast/shop/topology/g0", "/ballast/shop/workers", "/ballast/shop/workers/l")) {
            assertTrue(acl.getAclForPath(path).contains(new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)), path);
        }
    }

    @Test
    void dataPlaneNeedsOnlyTheReaderSecretAndMayNotSecureTheTree() {
        // The data plane's host has no admin password: its ACLs name the reader only (leases); the rest it never creates
        // on a secured tree, and what it creates on an unsecured one stays open for the control plane to secure.
        TreeAcl acl = TreeAcl.forConfig(config(YAML, Map.of("READER_PW", "r-secret")), ZkRole.DATA_PLANE).orElseThrow();
        assertEquals(List.of(new ACL(ZooDefs.Perms.ALL, READER)), acl.getAclForPath("/ballast/shop/workers/lease-1"));
        assertEquals(ZooDefs.Ids.OPEN_ACL_UNSAFE, acl.getAclForPath("/ballast/shop/topology/g0"));
        assertThrows(IllegalStateException.class, () -> acl.secure(null));
        assertEquals("ballast-reader:r-secret", new String(TreeAcl.authentication(
                config(YAML, Map.of("READER_PW", "r-secret")).failover().acl().orElseThrow(), ZkRole.DATA_PLANE)));
    }

    @Test
    void withoutAclSectionThereIsNoScheme() {
        String open = YAML.substring(0, YAML.indexOf("  acl:"));
        assertTrue(TreeAcl.forConfig(config(open, Map.of()), ZkRole.CONTROL_PLANE).isEmpty());
    }
}
