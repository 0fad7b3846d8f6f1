package dev.ballast.rules;

import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterConfigLoaderTest {

    static final String FULL = """
            name: shop
            database: shop
            credentials:
              user: app
              password: ${SHOP_PW}
            pool:
              maxPoolSize: 20
              connectTimeoutMs: 1500
              jdbcProperties:
                sslMode: DISABLED
            readPolicy:
              loadBalance: random
            groups:
              g0:
                master: 127.0.0.1:3311
                replicas: [127.0.0.1:3312, 127.0.0.1:3313]
              g1:
                master: 127.0.0.1:3321
                replicas: [127.0.0.1:3322]
                flavour: mysql
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
                keyGenerator: {column: order_id}
              t_order_item:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_event:
                shardingColumn: created_at
                groups: [g1, g0]
                algorithm: {type: interval, start: 2026-01-01, unit: month, amount: 6}
              t_account:
                shardingColumn: id
                algorithm: {type: range, bounds: [1000000]}
              t_ring:
                shardingColumn: k
                algorithm: {type: consistent-hash, virtualNodes: 64}
              t_user:
                group: g1
              t_region:
                broadcast: true
            bindingTables:
              - [t_order, t_order_item]
            """;

    static ClusterConfig parse(String yaml) {
        return ClusterConfigLoader.parse(yaml, Map.of("SHOP_PW", "secret")::get);
    }

    static String errorOf(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    @Test
    void fullConfigIsReadWithDefaultsAndEnvironmentSubstitution() {
        ClusterConfig c = parse(FULL);
        assertEquals("shop", c.name());
        assertEquals("secret", c.credentials().password());
        assertEquals(20, c.pool().maxPoolSize());
        assertEquals(2, c.pool().minIdle());
        assertEquals(1500, c.pool().connectTimeoutMs());
        assertEquals(30_000, c.pool().socketTimeoutMs());
        assertEquals(Map.of("sslMode", "DISABLED"), c.pool().jdbcProperties());
        assertEquals(ReadPolicy.LoadBalance.RANDOM, c.readPolicy().loadBalance());
        assertEquals(List.of("g0", "g1"), List.copyOf(c.groups().keySet()));
        assertEquals(Flavour.MARIADB, c.group("g0").flavour());
        assertEquals(Flavour.MYSQL, c.group("g1").flavour());
        assertEquals(List.of(NodeAddress.parse("127.0.0.1:3312"), NodeAddress.parse("127.0.0.1:3313")), c.group("g0").replicas());

        TableRule.Sharded order = assertInstanceOf(TableRule.Sharded.class, c.tables().get("t_order"));
        assertEquals(List.of(new DataNode("g0", "t_order_0"), new DataNode("g0", "t_order_1"),
                new DataNode("g1", "t_order_2"), new DataNode("g1", "t_order_3")), order.dataNodes());
        assertEquals(Optional.of(new KeyGeneratorSpec("order_id", KeyGeneratorSpec.Type.SNOWFLAKE)), order.keyGenerator());

        TableRule.Sharded event = assertInstanceOf(TableRule.Sharded.class, c.tables().get("t_event"));
        assertEquals(new AlgorithmSpec.Interval(LocalDateTime.of(2026, 1, 1, 0, 0), ChronoUnit.MONTHS, 6), event.algorithm());
        assertEquals(List.of(new DataNode("g1", "t_event"), new DataNode("g0", "t_event")), event.dataNodes());
        assertEquals(new AlgorithmSpec.Range(List.of(1_000_000L)),
                ((TableRule.Sharded) c.tables().get("t_account")).algorithm());
        assertEquals(new AlgorithmSpec.ConsistentHash(64), ((TableRule.Sharded) c.tables().get("t_ring")).algorithm());
        assertEquals(List.of(new DataNode("g1", "t_user")), c.tables().get("t_user").dataNodes());
        assertEquals(List.of(new DataNode("g0", "t_region"), new DataNode("g1", "t_region")), c.tables().get("t_region").dataNodes());
        assertEquals(List.of(List.of("t_order", "t_order_item")), c.bindingTables());
    }

    @Test
    void misspelledAlgorithmTypeNamesKeyPathValueAndChoices() {
        assertEquals("tables.t_order.algorithm.type: 'hsah' is not one of hash-mod, range, consistent-hash, interval",
                errorOf(FULL.replace("algorithm: {type: hash-mod}\n    keyGenerator", "algorithm: {type: hsah}\n    keyGenerator")));
    }

    @Test
    void unsetEnvironmentVariableIsAnErrorUnlessDefaulted() {
        String yaml = FULL.replace("${SHOP_PW}", "${NOT_SET}");
        assertEquals("credentials.password: environment variable NOT_SET is not set; set it or write ${NOT_SET:-default}",
                errorOf(yaml));
        assertEquals("fallback", parse(FULL.replace("${SHOP_PW}", "${NOT_SET:-fallback}")).credentials().password());
    }

    @Test
    void unknownKeyIsRejectedWithTheAllowedKeys() {
        String msg = errorOf(FULL.replace("shardingColumn: user_id\n    tablesPerGroup: 2\n    algorithm: {type: hash-mod}\n    keyGenerator",
                "shardingcolumn: user_id\n    tablesPerGroup: 2\n    algorithm: {type: hash-mod}\n    keyGenerator"));
        assertTrue(msg.startsWith("tables.t_order:"), msg);
    }

    @Test
    void tableMustSayWhereItLives() {
        assertTrue(errorOf(FULL.replace("t_user:\n    group: g1", "t_user:\n    groupp: g1")).startsWith("tables.t_user: say where"));
        assertTrue(errorOf(FULL.replace("t_user:\n    group: g1", "t_user:\n    group: g1\n    broadcast: true"))
                .contains("exclude each other"));
    }

    @Test
    void unknownGroupIsNamed() {
        assertEquals("tables.t_user.group: 'g9' is not a group; groups are g0, g1",
                errorOf(FULL.replace("group: g1", "group: g9")));
        assertEquals("tables.t_event.groups[1]: 'g7' is not a group; groups are g0, g1",
                errorOf(FULL.replace("groups: [g1, g0]", "groups: [g1, g7]")));
    }

    @Test
    void rangeBoundsMustMatchDataNodesAndAscend() {
        assertEquals("tables.t_account.algorithm.bounds: 2 bounds for 2 data nodes; expected 1 (one less than groups x tablesPerGroup)",
                errorOf(FULL.replace("bounds: [1000000]", "bounds: [10, 20]")));
        assertEquals("tables.t_account.algorithm.bounds[1]: 5 is not greater than the bound before it (10); bounds must ascend strictly",
                errorOf(FULL.replace("bounds: [1000000]", "bounds: [10, 5]")));
    }

    @Test
    void badAddressesAndDuplicateServersAreRejected() {
        assertEquals("groups.g0.replicas[0]: '127.0.0.1' is not host:port; expected host:port, e.g. 10.0.0.7:3306",
                errorOf(FULL.replace("[127.0.0.1:3312, 127.0.0.1:3313]", "[127.0.0.1, 127.0.0.1:3313]")));
        assertEquals("groups.g1.master: server 127.0.0.1:3311 is already listed in group 'g0'; a server belongs to exactly one group",
                errorOf(FULL.replace("master: 127.0.0.1:3321", "master: 127.0.0.1:3311")));
    }

    @Test
    void numbersAreRangeChecked() {
        assertEquals("pool.maxPoolSize: 0 is out of range; expected 1..10000", errorOf(FULL.replace("maxPoolSize: 20", "maxPoolSize: 0")));
        assertEquals("pool.connectTimeoutMs: 'soon' is not a whole number", errorOf(FULL.replace("connectTimeoutMs: 1500", "connectTimeoutMs: soon")));
    }

    @Test
    void heartbeatSettingsHaveDefaultsAndAreRangeChecked() {
        FailoverSettings defaults = parse(FULL).failover();
        assertEquals(500, defaults.heartbeatPeriodMs());
        assertEquals(3, defaults.deadAfterHeartbeats());
        assertEquals(1_500, defaults.silenceLimitMs());
        FailoverSettings set = parse(FULL + "failover:\n  heartbeatPeriodMs: 250\n  deadAfterHeartbeats: 4\n").failover();
        assertEquals(250, set.heartbeatPeriodMs());
        assertEquals(4, set.deadAfterHeartbeats());
        assertEquals(1_000, set.silenceLimitMs());
        assertEquals("failover.heartbeatPeriodMs: 0 is out of range; expected 100..60000",
                errorOf(FULL + "failover:\n  heartbeatPeriodMs: 0\n"));
        assertEquals("failover.deadAfterHeartbeats: 1 is out of range; expected 2..100",
                errorOf(FULL + "failover:\n  deadAfterHeartbeats: 1\n"));
    }

    @Test
    void aWorkerIdIsZeroTo1023AndOnlyWithoutZooKeeper() {
        assertEquals(java.util.OptionalInt.of(1023), parse(FULL + "workerId: 1023\n").workerId());
        assertEquals(java.util.OptionalInt.empty(), parse(FULL).workerId());
        assertEquals("workerId: 1024 is out of range; expected 0..1023", errorOf(FULL + "workerId: 1024\n"));
        assertEquals("workerId: not allowed with failover.zookeeper: each data source then leases its worker id under"
                + " /ballast/shop/workers; remove workerId",
                errorOf(FULL + "workerId: 3\nfailover: {zookeeper: 127.0.0.1:2181}\n"));
    }

    @Test
    void bindingTablesMustBeShardedAlike() {
        assertEquals("bindingTables[0]: 't_user' is not a sharded table in 'tables'",
                errorOf(FULL.replace("[t_order, t_order_item]", "[t_order, t_user]")));
        assertEquals("bindingTables[0]: 't_account' is not sharded like 't_order'; bound tables need the same groups, tablesPerGroup and algorithm",
                errorOf(FULL.replace("[t_order, t_order_item]", "[t_order, t_account]")));
    }

    @Test
    void physicalTableNamesMustNotShadowLogicalTables() {
        String yaml = FULL.replace("t_region:\n    broadcast: true", "t_region:\n    broadcast: true\n  t_order_1:\n    group: g0");
        assertEquals("tables.t_order: its physical table g0.t_order_1 has the same name as the logical table 't_order_1'; rename one of them",
                errorOf(yaml));
    }

    @Test
    void invalidYamlAndMissingSectionsAreReported() {
        assertTrue(errorOf("name: [unclosed").startsWith("not valid YAML"));
        assertEquals("groups: missing; this key is required", errorOf("name: x\ndatabase: d\ncredentials: {user: app}\n"));
        assertEquals("the cluster config must be a YAML mapping at top level, found 'just text'", errorOf("just text"));
    }

    @Test
    void monitorMetricsEndpointIsOffByDefaultAndCheckedWhenSet() {
        assertEquals(Optional.empty(), parse(FULL).failover().metrics());
        String with = FULL + "failover:\n  zookeeper: 127.0.0.1:2181\n  metrics: %s\n";
        assertEquals(Optional.of(new ProxySettings.Endpoint("127.0.0.1", 9108)),
                parse(with.formatted("127.0.0.1:9108")).failover().metrics());
        assertEquals(Optional.empty(), parse(with.formatted("off")).failover().metrics());
        assertEquals("failover.metrics: '9108' is not host:port", errorOf(with.formatted("9108")));
        assertEquals("failover.metrics: port 99999 is not in 0..65535",
                errorOf(with.formatted("localhost:99999")));
    }

    @Test
    void proxyDrainTimeoutDefaultsToAMinuteAndIsChecked() {
        assertEquals(60_000L, parse(FULL).proxy().drainTimeoutMs());
        String with = FULL + "proxy:\n  drainTimeoutMs: %s\n";
        assertEquals(0L, parse(with.formatted("0")).proxy().drainTimeoutMs());
        assertEquals(45_000L, parse(with.formatted("45000")).proxy().drainTimeoutMs());
        assertTrue(errorOf(with.formatted("-1")).startsWith("proxy.drainTimeoutMs: "), errorOf(with.formatted("-1")));
        assertTrue(errorOf(with.formatted("4000000")).startsWith("proxy.drainTimeoutMs: "));
    }

    static final String ACL = """
            failover:
              zookeeper: 127.0.0.1:2181
              acl:
                admin:
                  user: ballast-admin
                  password: ${BALLAST_ZK_ADMIN_PASSWORD}
                reader:
                  user: ballast-reader
                  password: ${BALLAST_ZK_READER_PASSWORD}
            """;

    @Test
    void aclPasswordsAreResolvedOnlyByTheProcessThatUsesThem() {
        // A data plane's host has the reader's password only: the config loads, and only the admin's password fails.
        ClusterConfig c = ClusterConfigLoader.parse(FULL + ACL, Map.of("SHOP_PW", "secret",
                "BALLAST_ZK_READER_PASSWORD", "r-pw")::get);
        ZkAclSettings acl = c.failover().acl().orElseThrow();
        assertEquals("ballast-reader", acl.reader().user());
        assertEquals("r-pw", acl.reader().password().reveal());
        assertEquals(false, acl.worldReadable());
        ConfigException e = assertThrows(ConfigException.class, () -> acl.admin().password().reveal());
        assertEquals("failover.acl.admin.password: environment variable BALLAST_ZK_ADMIN_PASSWORD is not set; "
                + "set it or write ${BALLAST_ZK_ADMIN_PASSWORD:-default}", e.getMessage());
        assertEquals("failover.acl.admin.password", e.keyPath());
        assertEquals("Secret[failover.acl.reader.password]", acl.reader().password().toString());
        assertTrue(!acl.toString().contains("r-pw"), acl.toString());
    }

    @Test
    void withoutAclSectionTheTreeStaysOpen() {
        assertEquals(Optional.empty(), parse(FULL + "failover:\n  zookeeper: 127.0.0.1:2181\n").failover().acl());
        assertEquals(Optional.empty(), parse(FULL).failover().acl());
    }

    @Test
    void aclSectionIsValidated() {
        assertTrue(errorOf(FULL + ACL.replace("  zookeeper: 127.0.0.1:2181\n", ""))
                .startsWith("failover.acl: set without failover.zookeeper"));
        assertTrue(errorOf(FULL + ACL.replace("ballast-reader", "ballast-admin"))
                .startsWith("failover.acl.reader.user: 'ballast-admin' is also the admin user"));
        assertTrue(errorOf(FULL + ACL.replace("user: ballast-reader", "user: a:b"))
                .startsWith("failover.acl.reader.user: 'a:b' is not valid"));
        assertEquals("failover.acl.reader.password: missing; this key is required",
                errorOf(FULL + ACL.replace("    password: ${BALLAST_ZK_READER_PASSWORD}\n", "")));
        assertTrue(errorOf(FULL + ACL + "    worldreadable: true\n").startsWith("failover.acl.worldreadable: unknown key"));
        assertEquals(true, parse(FULL + ACL + "    worldReadable: true\n").failover().acl().orElseThrow().worldReadable());
        assertEquals("failover.acl.admin.password: is empty; expected a password, e.g. from the environment: ${VARIABLE}",
                assertThrows(ConfigException.class, () -> ClusterConfigLoader.parse(FULL + ACL, Map.of("SHOP_PW", "x",
                        "BALLAST_ZK_ADMIN_PASSWORD", "")::get).failover().acl().orElseThrow().admin().password().reveal())
                        .getMessage());
    }

    @Test
    void aSettingWrittenWithoutAValueIsRefusedNotTakenAsItsDefault() {
        assertEquals("proxy.relayMerge: has no value; write true or false (or leave the key out for true)",
                errorOf(FULL + "proxy:\n  relayMerge:\n"));
        assertEquals("proxy.relayConnections: has no value; write a whole number from 1 to 10000 (or leave the key out for 32)",
                errorOf(FULL + "proxy:\n  relayConnections:\n"));
        assertTrue(parse(FULL + "proxy:\n  relayMerge: false\n").proxy().relayShardedTransactions());
        assertFalse(parse(FULL + "proxy:\n  relayMerge: false\n").proxy().relayMerge());
    }

    @Test
    void theDeadlockCheckIsOnByDefaultAndZeroTurnsItOff() {
        assertEquals(100, parse(FULL).deadlockCheckMs());
        assertEquals(0, parse(FULL + "deadlockCheckMs: 0\n").deadlockCheckMs());
        assertEquals("deadlockCheckMs: -5 is out of range; expected 0..60000",
                errorOf(FULL + "deadlockCheckMs: -5\n"));
        assertEquals("deadlockCheckMs: '100ms' is not a whole number",
                errorOf(FULL + "deadlockCheckMs: 100ms\n"));
        assertEquals("deadlockCheckMs: has no value; write a whole number from 0 to 60000 (or leave the key out for 100)",
                errorOf(FULL + "deadlockCheckMs:\n"));
    }
}
