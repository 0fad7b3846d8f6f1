package dev.ballast.schema;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.NodeAddress;
import dev.ballast.upgrade.Step;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchemaPlannerTest {

    static final ClusterConfig CONFIG = ClusterConfigLoader.parse("""
            name: shop
            database: shop
            credentials: {user: app}
            groups:
              g0: {master: "127.0.0.1:3311", replicas: ["127.0.0.1:3312"]}
              g1: {master: "127.0.0.1:3321", replicas: ["127.0.0.1:3322"]}
            tables:
              t_order: {shardingColumn: id, tablesPerGroup: 2, algorithm: {type: hash-mod}}
            """, k -> null);
    static final Map<String, NodeAddress> MASTERS = Map.of("g0", NodeAddress.parse("127.0.0.1:3311"),
            "g1", NodeAddress.parse("127.0.0.1:3321"));

    static final Map<String, List<NodeAddress>> REPLICAS = Map.of("g0", List.of(NodeAddress.parse("127.0.0.1:3312")),
            "g1", List.of(NodeAddress.parse("127.0.0.1:3322")));

    static ServerFacts facts(Optional<String> instant, Optional<String> lockNone) {
        return new ServerFacts(Map.of(1, instant), Map.of(1, lockNone), false, "g0 127.0.0.1:3311, g1 127.0.0.1:3321");
    }

    static List<Ddl> ddl(String sql) {
        return new DdlParser(CONFIG.tables().keySet(), true).parse(sql);
    }

    @Test
    void theStrategyFollowsWhatTheServersAcceptAndSaysWhy() {
        Optional<String> no = Optional.of("ALGORITHM=INSTANT is not supported for this operation");
        Optional<String> yes = Optional.empty();
        record Case(String sql, Optional<String> instant, Optional<String> lockNone, Optional<Strategy> forced,
                    String expected, String reason) {
        }
        for (Case c : List.of(
                new Case("ALTER TABLE t_order ADD COLUMN a INT", yes, yes, Optional.empty(), "INSTANT", "ALGORITHM=INSTANT accepted"),
                new Case("CREATE INDEX i ON t_order (a)", no, yes, Optional.empty(), "ONLINE", "LOCK=NONE accepted"),
                new Case("CREATE INDEX i ON t_order (a)", no, no, Optional.empty(), "ROLLING", "row replication"),
                new Case("ALTER TABLE t_order MODIFY a BIGINT", no, no, Optional.empty(), "refused", "no strategy"),
                new Case("ALTER TABLE t_order ADD COLUMN a INT", yes, yes, Optional.of(Strategy.ONLINE), "ONLINE", "forced"),
                new Case("CREATE INDEX i ON t_order (a)", no, yes, Optional.of(Strategy.INSTANT), "refused", "refuses ALGORITHM=INSTANT"),
                new Case("ALTER TABLE t_order MODIFY a BIGINT", no, yes, Optional.of(Strategy.ROLLING), "refused", "--strategy rolling"),
                new Case("CREATE TABLE t_order (id INT)", no, no, Optional.empty(), "INSTANT", "empty table"),
                new Case("DROP TABLE t_order", no, no, Optional.of(Strategy.ONLINE), "refused", "does not apply"))) {
            try {
                SchemaPlan p = SchemaPlanner.plan(CONFIG, ddl(c.sql()), facts(c.instant(), c.lockNone()), MASTERS, REPLICAS, c.forced(), 1000);
                assertEquals(c.expected(), p.statements().get(0).strategy().name(), c.sql());
                assertTrue(p.statements().get(0).reason().contains(c.reason()), c.sql() + " -> " + p.statements().get(0).reason());
            } catch (SchemaException e) {
                assertEquals(c.expected(), "refused", c.sql() + " -> " + e.getMessage());
                assertTrue(e.getMessage().contains(c.reason()), c.sql() + " -> " + e.getMessage());
            }
        }
    }

    @Test
    void oneStepPerPhysicalTableOnItsMasterThenASyncStep() {
        SchemaPlan p = SchemaPlanner.plan(CONFIG, ddl("CREATE INDEX i ON t_order (a)"),
                facts(Optional.of("no"), Optional.empty()), MASTERS, REPLICAS, Optional.empty(), 1000);
        List<Step> s = p.steps();
        assertEquals(5, s.size());
        assertEquals(List.of("g0 127.0.0.1:3311 t_order_0", "g0 127.0.0.1:3311 t_order_1", "g1 127.0.0.1:3321 t_order_2",
                        "g1 127.0.0.1:3321 t_order_3"),
                s.subList(0, 4).stream().map(x -> x.group() + " " + x.node() + " " + x.action().parameter("physical")).toList());
        assertEquals("ALTER TABLE `t_order_2` ADD INDEX `i` (a), LOCK=NONE", s.get(2).action().parameter("sql"));
        assertTrue(s.get(0).precondition().contains("schema.maxLagMs=1000"), s.get(0).precondition());
        assertEquals(SchemaPlanner.SYNC, s.get(4).action().name());
        assertEquals("g0,g1", s.get(4).action().parameter("groups"));
        assertTrue(p.render().contains("strategy: online"), p.render());
    }

    @Test
    void rollingChangesEachReplicaThenSwitchesOverThenChangesTheOldMaster() {
        SchemaPlan p = SchemaPlanner.plan(CONFIG, ddl("CREATE INDEX i ON t_order (a)"), facts(Optional.of("no"), Optional.of("no")),
                MASTERS, REPLICAS, Optional.empty(), 1000);
        assertEquals(Strategy.ROLLING, p.statements().get(0).strategy());
        assertEquals(List.of("g0 127.0.0.1:3312 drain null", "g0 127.0.0.1:3312 schema-replica-ddl t_order_0",
                        "g0 127.0.0.1:3312 schema-replica-ddl t_order_1", "g0 127.0.0.1:3312 undrain null",
                        "g0 schema-switchover t_order_0,t_order_1", "g0 127.0.0.1:3311 drain null",
                        "g0 127.0.0.1:3311 schema-replica-ddl t_order_0", "g0 127.0.0.1:3311 schema-replica-ddl t_order_1",
                        "g0 127.0.0.1:3311 undrain null", "g1 127.0.0.1:3322 drain null",
                        "g1 127.0.0.1:3322 schema-replica-ddl t_order_2", "g1 127.0.0.1:3322 schema-replica-ddl t_order_3",
                        "g1 127.0.0.1:3322 undrain null", "g1 schema-switchover t_order_2,t_order_3",
                        "g1 127.0.0.1:3321 drain null", "g1 127.0.0.1:3321 schema-replica-ddl t_order_2",
                        "g1 127.0.0.1:3321 schema-replica-ddl t_order_3", "g1 127.0.0.1:3321 undrain null",
                        "g0 schema-sync null"),
                p.steps().stream().map(s -> s.describe() + " " + s.action().parameters().get("physical")).toList());
        assertEquals("ALTER TABLE `t_order_1` ADD INDEX `i` (a)", p.steps().get(2).action().parameter("sql"));
    }
}
