package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.ScatterTemplate;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The proxy's merge of multi-node results, on rows encoded as a server encodes them. */
class MergeTest {

    static final ClusterConfig CONFIG = ClusterConfigLoader.parse("""
            name: t
            database: d
            credentials: {user: app}
            groups:
              g0: {master: 127.0.0.1:1}
              g1: {master: 127.0.0.1:2}
            tables:
              t:
                shardingColumn: id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
            """, Map.<String, String>of()::get);

    static final BinaryRows.ColumnDef ID = column("id", Columns.T_LONGLONG, Columns.BINARY);
    static final BinaryRows.ColumnDef NAME = column("name", Columns.T_VAR_STRING, Columns.UTF8MB4);
    static final BinaryRows.ColumnDef SUM = column("SUM(v)", Columns.T_NEWDECIMAL, Columns.BINARY);
    static final BinaryRows.ColumnDef COUNT = column("COUNT(*)", Columns.T_LONGLONG, Columns.BINARY);
    static final BinaryRows.ColumnDef MAX = column("MAX(name)", Columns.T_VAR_STRING, Columns.UTF8MB4);

    static BinaryRows.ColumnDef column(String name, int type, int charset) {
        return new BinaryRows.ColumnDef("d", "t_0", "t_0", name, name, charset, 20, type, 0, 0);
    }

    static ScatterTemplate template(String sql) {
        return ScatterTemplate.analyze(sql, CONFIG).orElseThrow();
    }

    /** A node's result of (id, name) rows, each encoded and decoded as the relay does. */
    static Merge.NodeResult node(List<BinaryRows.ColumnDef> columns, Object[]... rows) {
        List<Merge.Row> out = new ArrayList<>();
        for (Object[] r : rows) {
            byte[] payload = Merge.encodeRow(columns, r);
            out.add(new Merge.Row(payload, BinaryRows.decodeRow(Unpooled.wrappedBuffer(payload), columns)));
        }
        return new Merge.NodeResult(columns, out);
    }

    static List<List<Object>> decoded(List<BinaryRows.ColumnDef> columns, List<byte[]> rows) {
        List<List<Object>> out = new ArrayList<>();
        for (byte[] r : rows) {
            out.add(Arrays.asList(BinaryRows.decodeRow(Unpooled.wrappedBuffer(r), columns)));
        }
        return out;
    }

    static Object[] row(Object... v) {
        return v;
    }

    final List<BinaryRows.ColumnDef> idName = List.of(ID, NAME);

    @Test
    void orderByMergesSortedNodesCaseInsensitivelyWithNullsFirstAndKeepsNodeOrderOnTies() throws Exception {
        List<Merge.NodeResult> nodes = List.of(
                node(idName, row(1L, null), row(2L, "apple"), row(3L, "Cherry")),
                node(idName, row(4L, "Apple"), row(5L, "banana")),
                node(idName),
                node(idName, row(6L, null), row(7L, "cherry")));
        List<byte[]> rows = Merge.rows(template("SELECT id, name FROM t ORDER BY name"), nodes);
        assertEquals(List.of(List.of(1L), List.of(6L), List.of(2L), List.of(4L), List.of(5L), List.of(3L), List.of(7L)),
                decoded(idName, rows).stream().map(r -> List.of(r.get(0))).toList());
    }

    @Test
    void descendingOffsetAndLimitApplyToTheMergedOrder() throws Exception {
        List<Merge.NodeResult> nodes = List.of(node(idName, row(9L, "a"), row(4L, "b")), node(idName, row(8L, "c"), row(7L, "d"),
                row(1L, "e")));
        List<byte[]> rows = Merge.rows(template("SELECT id, name FROM t ORDER BY id DESC LIMIT 1, 3"), nodes);
        assertEquals(List.of(8L, 7L, 4L), decoded(idName, rows).stream().map(r -> r.get(0)).toList());
    }

    @Test
    void distinctDropsEqualRowsAcrossNodesAsTheCollationSeesThem() throws Exception {
        List<BinaryRows.ColumnDef> name = List.of(NAME);
        List<Merge.NodeResult> nodes = List.of(node(name, row("a"), row("b")), node(name, row("A"), row("b"), row("c")));
        List<byte[]> rows = Merge.rows(template("SELECT DISTINCT name FROM t ORDER BY name"), nodes);
        assertEquals(List.of("a", "b", "c"), decoded(name, rows).stream().map(r -> r.get(0)).toList());
    }

    @Test
    void withoutOrderRowsComeInNodeOrderAndTheLimitCuts() throws Exception {
        List<Merge.NodeResult> nodes = List.of(node(idName, row(3L, "x")), node(idName, row(1L, "y"), row(2L, "z")));
        assertEquals(List.of(3L, 1L), decoded(idName, Merge.rows(template("SELECT id, name FROM t LIMIT 2"), nodes)).stream()
                .map(r -> r.get(0)).toList());
    }

    @Test
    void aggregatesCombineAndAnEmptySumStaysNull() throws Exception {
        List<BinaryRows.ColumnDef> cols = List.of(COUNT, SUM, MAX);
        List<Merge.NodeResult> nodes = List.of(node(cols, row(2L, new BigDecimal("10"), "pear")),
                node(cols, row(0L, null, null)), node(cols, row(3L, new BigDecimal("-2.5"), "Zebra")));
        List<byte[]> rows = Merge.rows(template("SELECT COUNT(*), SUM(v), MAX(name) FROM t"), nodes);
        assertEquals(List.of(List.of(5L, new BigDecimal("7.5"), "Zebra")), decoded(cols, rows));
        List<byte[]> empty = Merge.rows(template("SELECT COUNT(*), SUM(v), MAX(name) FROM t"),
                List.of(node(cols, row(0L, null, null)), node(cols, row(0L, null, null))));
        assertEquals(Arrays.asList(0L, null, null), decoded(cols, empty).get(0));
    }

    @Test
    void aSortColumnMissingFromTheResultIsAnErrorNotAGuess() {
        assertThrows(Merge.MergeException.class, () -> Merge.rows(template("SELECT * FROM t ORDER BY missing"),
                List.of(node(idName, row(1L, "a")), node(idName))));
    }

    @Test
    void rowsPassThroughByteForByte() throws Exception {
        Merge.NodeResult one = node(idName, row(1L, "é"));
        List<byte[]> rows = Merge.rows(template("SELECT id, name FROM t ORDER BY id"), List.of(one, node(idName)));
        assertArrayEquals(one.rows().get(0).payload(), rows.get(0));
    }
}
