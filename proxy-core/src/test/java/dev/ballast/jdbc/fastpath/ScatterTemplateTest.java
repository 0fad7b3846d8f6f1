package dev.ballast.jdbc.fastpath;

import dev.ballast.jdbc.fastpath.ScatterTemplate.Aggregate;
import dev.ballast.jdbc.fastpath.ScatterTemplate.Order;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScatterTemplateTest {

    static Optional<ScatterTemplate> analyze(String sql) {
        return ScatterTemplate.analyze(sql, RouteTemplateTest.CONFIG);
    }

    @Test
    void sysbenchRangeStatementsQualify() {
        ScatterTemplate simple = analyze("SELECT c FROM t_order WHERE id BETWEEN ? AND ?").orElseThrow();
        assertEquals(4, simple.nodeCount());
        assertEquals(2, simple.parameterCount());
        assertTrue(simple.order().isEmpty());
        assertEquals("SELECT c FROM t_order_2 WHERE id BETWEEN ? AND ?", simple.sql(2));

        ScatterTemplate sum = analyze("SELECT SUM(k) FROM t_order WHERE id BETWEEN ? AND ?").orElseThrow();
        assertTrue(sum.aggregates());
        assertEquals(List.of(Aggregate.SUM), sum.items());

        ScatterTemplate ordered = analyze("SELECT c FROM t_order WHERE id BETWEEN ? AND ? ORDER BY c").orElseThrow();
        assertEquals(List.of(new Order("c", 0, false)), ordered.order());

        ScatterTemplate distinct = analyze("SELECT DISTINCT c FROM t_order WHERE id BETWEEN ? AND ? ORDER BY c").orElseThrow();
        assertTrue(distinct.distinct());
    }

    @Test
    void limitWithOffsetIsSentAsOneLimitAndTheTableRenamedEverywhere() {
        ScatterTemplate t = analyze("SELECT o.id, o.pad AS p FROM t_order o WHERE o.status = ? ORDER BY p DESC, o.id LIMIT 5, 10")
                .orElseThrow();
        assertEquals("SELECT o.id, o.pad AS p FROM t_order_1 o WHERE o.status = ? ORDER BY p DESC, o.id LIMIT 15", t.sql(1));
        assertEquals(5, t.offset());
        assertEquals(10, t.limit());
        assertEquals(List.of(new Order("p", 1, true), new Order("id", 0, false)), t.order());
        ScatterTemplate q = analyze("select t_order.id from t_order where t_order.v > 3 order by t_order.id limit 7 offset 2").orElseThrow();
        assertEquals("select t_order_3.id from t_order_3 where t_order_3.v > 3 order by t_order_3.id LIMIT 9", q.sql(3));
        assertEquals(2, q.offset());
        assertEquals(7, q.limit());
    }

    @Test
    void starResolvesOrderColumnsFromTheResultAndAggregatesKeepTheirKinds() {
        ScatterTemplate star = analyze("SELECT * FROM t_order ORDER BY id DESC").orElseThrow();
        assertEquals(List.of(new Order("id", -1, true)), star.order());
        assertTrue(star.items().isEmpty());
        ScatterTemplate aggs = analyze("SELECT COUNT(*), SUM(v) AS s, MAX(amount) m, MIN(at) FROM t_order").orElseThrow();
        assertEquals(List.of(Aggregate.COUNT, Aggregate.SUM, Aggregate.MAX, Aggregate.MIN), aggs.items());
    }

    @Test
    void whatAPlainMergeCannotAnswerIsLeftToShardingSphere() {
        for (String sql : List.of(
                "SELECT AVG(v) FROM t_order",                                  // needs SUM and COUNT
                "SELECT COUNT(DISTINCT v) FROM t_order",
                "SELECT SUM(v) + 1 FROM t_order",
                "SELECT v, COUNT(*) FROM t_order GROUP BY v",
                "SELECT v, COUNT(*) FROM t_order",
                "SELECT c FROM t_order ORDER BY k",                            // sort column not selected
                "SELECT c FROM t_order ORDER BY c + 1",
                "SELECT c FROM t_order ORDER BY 1",
                "SELECT DISTINCT c FROM t_order",                             // DISTINCT without the order to merge it
                "SELECT DISTINCT c, k FROM t_order ORDER BY c",
                "SELECT c FROM t_order LIMIT ?",
                "SELECT c FROM t_order FOR UPDATE",
                "SELECT c FROM t_order LOCK IN SHARE MODE",
                "SELECT c FROM t_order WHERE id IN (SELECT id FROM t_user)",
                "SELECT c FROM t_order JOIN t_user ON 1",
                "SELECT c FROM t_order UNION SELECT c FROM t_order",
                "SELECT SQL_CALC_FOUND_ROWS c FROM t_order",
                "SELECT c FROM t_order INTO @x",
                "SELECT c FROM t_user",                                        // placed: one node
                "SELECT c FROM t_region",                                      // broadcast
                "SELECT c FROM d.t_order",
                "SELECT c FROM t_order /* hint */",
                "SELECT COUNT(*) FROM t_order ORDER BY 1",
                "SELECT MAX(v) FROM t_order LIMIT 1")) {
            assertFalse(analyze(sql).isPresent(), sql);
        }
    }

    @Test
    void eachGroupGetsOneUnionAllSortedAndCutAsAWhole() {
        ScatterTemplate t = analyze("SELECT o.id, o.pad AS p FROM t_order o WHERE o.status = ? ORDER BY p DESC, o.id LIMIT 5, 10")
                .orElseThrow();
        assertEquals(2, t.parts().size());
        ScatterTemplate.Part g1 = t.parts().get(1);
        assertEquals("g1", g1.group());
        assertEquals(2, g1.repeat());
        assertEquals("SELECT o.id, o.pad AS p FROM t_order_2 o WHERE o.status = ? UNION ALL "
                + "SELECT o.id, o.pad AS p FROM t_order_3 o WHERE o.status = ? ORDER BY 2 DESC, 1 LIMIT 15", g1.sql());
        ScatterTemplate star = analyze("SELECT * FROM t_order WHERE t_order.v > ? ORDER BY t_order.id DESC").orElseThrow();
        assertEquals("SELECT * FROM t_order_0 WHERE t_order_0.v > ? UNION ALL SELECT * FROM t_order_1 WHERE t_order_1.v > ? "
                + "ORDER BY `id` DESC", star.parts().get(0).sql());
        ScatterTemplate sum = analyze("SELECT SUM(k), COUNT(*) FROM t_order WHERE id BETWEEN ? AND ?").orElseThrow();
        assertEquals("SELECT SUM(k), COUNT(*) FROM t_order_0 WHERE id BETWEEN ? AND ? UNION ALL "
                + "SELECT SUM(k), COUNT(*) FROM t_order_1 WHERE id BETWEEN ? AND ?", sum.parts().get(0).sql());
    }
}
