package dev.ballast.jdbc.fastpath;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RouteTemplateTest {

    static final ClusterConfig CONFIG = ClusterConfigLoader.parse("""
            name: t
            database: d
            credentials: {user: app}
            groups:
              g0: {master: 127.0.0.1:1}
              g1: {master: 127.0.0.1:2}
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
              t_gen:
                shardingColumn: user_id
                algorithm: {type: hash-mod}
                keyGenerator: {column: id}
              t_user:
                group: g1
              t_region:
                broadcast: true
            """, Map.<String, String>of()::get);

    static Optional<RouteTemplate> analyze(String sql) {
        return RouteTemplate.analyze(sql, CONFIG);
    }

    @Test
    void pointSelectByParameterRoutesByThatParameter() {
        RouteTemplate t = analyze("SELECT id, pad FROM t_order WHERE user_id = ?").orElseThrow();
        assertTrue(t.isRead());
        assertEquals(1, t.keyParameter());
        assertEquals(3, t.nodeIndex(7));
        assertEquals("g1", t.node(3).group());
        assertEquals("SELECT id, pad FROM t_order_3 WHERE user_id = ?", t.sql(3));
    }

    @Test
    void keyMayBeAnyTopLevelConjunctQualifiedOrOnTheRight() {
        RouteTemplate t = analyze("SELECT o.id FROM t_order o WHERE o.status = ? AND ? = o.user_id ORDER BY o.id LIMIT ?").orElseThrow();
        assertEquals(2, t.keyParameter());
        assertEquals(3, t.parameterCount());
        RouteTemplate q = analyze("select t_order.id from t_order where t_order.user_id = 5 and (a = 1 or b = 2)").orElseThrow();
        assertEquals(0, q.keyParameter());
        assertEquals(1, q.nodeIndex(null));
        assertEquals("select t_order_1.id from t_order_1 where t_order_1.user_id = 5 and (a = 1 or b = 2)", q.sql(1));
    }

    @Test
    void writesAndLockingReadsGoToTheMaster() {
        assertFalse(analyze("SELECT id FROM t_order WHERE user_id = ? FOR UPDATE").orElseThrow().isRead());
        assertFalse(analyze("SELECT id FROM t_order WHERE user_id = ? LOCK IN SHARE MODE").orElseThrow().isRead());
        RouteTemplate insert = analyze("INSERT INTO t_order (id, user_id, pad) VALUES (?, ?, 'x')").orElseThrow();
        assertFalse(insert.isRead());
        assertEquals(2, insert.keyParameter());
        assertEquals("INSERT INTO t_order_2 (id, user_id, pad) VALUES (?, ?, 'x')", insert.sql(2));
        assertEquals(1, analyze("UPDATE t_order SET pad = ? WHERE user_id = ? AND id = ?").orElseThrow().keyParameter() - 1);
        assertEquals(1, analyze("DELETE FROM t_order WHERE user_id = ?").orElseThrow().keyParameter());
    }

    @Test
    void placedTableNeedsNoKey() {
        RouteTemplate t = analyze("SELECT name FROM t_user WHERE id = ?").orElseThrow();
        assertEquals("g1", t.node(t.nodeIndex(null)).group());
        assertTrue(analyze("UPDATE t_user SET name = ? WHERE id = ?").isPresent());
    }

    @Test
    void everythingElseIsLeftToShardingSphere() {
        for (String sql : new String[]{
                "SELECT id FROM t_order",
                "SELECT id FROM t_order WHERE user_id IN (?, ?)",
                "SELECT id FROM t_order WHERE user_id = ? OR id = ?",
                "SELECT id FROM t_order WHERE user_id > ?",
                "SELECT o.id FROM t_order o JOIN t_user u ON o.user_id = u.id WHERE o.user_id = ?",
                "SELECT id FROM t_order, t_user WHERE user_id = ?",
                "SELECT id FROM t_order WHERE user_id = ? UNION SELECT id FROM t_order WHERE user_id = ?",
                "SELECT id FROM t_order WHERE user_id = (SELECT id FROM t_user WHERE id = ?)",
                "SELECT id FROM t_region WHERE id = ?",
                "SELECT id FROM t_missing WHERE user_id = ?",
                "/* ballast:master */ SELECT id FROM t_order WHERE user_id = ?",
                "SELECT id FROM t_order WHERE user_id = ? -- comment",
                "INSERT INTO t_order (id, user_id) VALUES (?, ?), (?, ?)",
                "INSERT INTO t_order (id, pad) VALUES (?, ?)",
                "INSERT INTO t_gen (user_id, pad) VALUES (?, ?)",
                "INSERT INTO t_order (id, user_id) VALUES (?, ?) ON DUPLICATE KEY UPDATE pad = 'x'",
                "INSERT INTO t_order SELECT * FROM t_order WHERE user_id = ?",
                "UPDATE t_order SET user_id = ? WHERE user_id = ?",
                "DELETE o FROM t_order o WHERE user_id = ?",
                "SELECT id FROM d.t_order WHERE user_id = ?",
                "SELECT id FROM t_order WHERE user_id = ? AND pad = 'it''s \\\\ odd'",
                "CREATE TABLE t_order (id INT)",
                "SELECT id FROM t_order WHERE user_id = NULL",
        }) {
            assertTrue(analyze(sql).isEmpty(), sql);
        }
    }
}
