package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.ScatterTemplate;
import dev.ballast.jdbc.fastpath.ScatterTemplate.Aggregate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Puts together what the data nodes of a {@link ScatterTemplate} returned, as one binary result: rows in node order, or
 * merged by the ORDER BY columns (each node's rows come sorted), consecutive equal rows dropped for DISTINCT, the offset
 * and limit applied, or one row of combined aggregates. Rows pass through as the server encoded them; only the sort
 * columns and aggregates are read. Strings compare as ShardingSphere's merge does for the JDBC path: case-insensitively
 * unless the column is binary; NULL sorts first.
 */
final class Merge {

    private Merge() {
    }

    /** One row of a node's binary result: its payload (after the 4-byte header) and its decoded values. */
    record Row(byte[] payload, Object[] values) {
    }

    /** One node's result. */
    record NodeResult(List<BinaryRows.ColumnDef> columns, List<Row> rows) {
    }

    /** The merge cannot be done (a sort column missing from the result): nothing is sent, the client gets the message. */
    static final class MergeException extends Exception {
        MergeException(String message) {
            super(message);
        }
    }

    /** The merged rows' payloads, in order. {@code results} are the nodes' results in node order. */
    static List<byte[]> rows(ScatterTemplate t, List<NodeResult> results) throws MergeException {
        if (t.aggregates()) {
            return List.of(aggregate(t, results));
        }
        List<BinaryRows.ColumnDef> columns = results.get(0).columns();
        long skip = t.offset();
        long take = t.limit() < 0 ? Long.MAX_VALUE : t.limit();
        List<byte[]> out = new ArrayList<>();
        if (t.order().isEmpty()) {
            for (NodeResult r : results) {
                for (Row row : r.rows()) {
                    if (out.size() >= take) {
                        return out;
                    }
                    if (skip > 0) {
                        skip--;
                    } else {
                        out.add(row.payload());
                    }
                }
            }
            return out;
        }
        Comparator<Row> order = comparator(t, columns);
        PriorityQueue<Cursor> heads = new PriorityQueue<>((a, b) -> {
            int c = order.compare(a.row(), b.row());
            return c != 0 ? c : Integer.compare(a.node, b.node);
        });
        for (int n = 0; n < results.size(); n++) {
            Cursor c = new Cursor(n, results.get(n).rows());
            if (c.row() != null) {
                heads.add(c);
            }
        }
        Row previous = null;
        while (!heads.isEmpty() && out.size() < take) {
            Cursor c = heads.poll();
            Row row = c.row();
            c.next();
            if (c.row() != null) {
                heads.add(c);
            }
            if (t.distinct() && previous != null && order.compare(previous, row) == 0) {
                continue;
            }
            previous = row;
            if (skip > 0) {
                skip--;
            } else {
                out.add(row.payload());
            }
        }
        return out;
    }

    private static final class Cursor {
        final int node;
        final List<Row> rows;
        int at;

        Cursor(int node, List<Row> rows) {
            this.node = node;
            this.rows = rows;
        }

        Row row() {
            return at < rows.size() ? rows.get(at) : null;
        }

        void next() {
            at++;
        }
    }

    /** The ORDER BY comparator over the result's columns. */
    static Comparator<Row> comparator(ScatterTemplate t, List<BinaryRows.ColumnDef> columns) throws MergeException {
        int k = t.order().size();
        int[] index = new int[k];
        boolean[] descending = new boolean[k];
        boolean[] caseInsensitive = new boolean[k];
        for (int i = 0; i < k; i++) {
            ScatterTemplate.Order o = t.order().get(i);
            index[i] = o.item() >= 0 ? o.item() : columnNamed(columns, o.name());
            if (index[i] < 0 || index[i] >= columns.size()) {
                throw new MergeException("cannot merge the nodes' results: ORDER BY " + o.name() + " is not a column of the "
                        + "result; name a selected column, or set proxy.relayMerge: false");
            }
            descending[i] = o.descending();
            BinaryRows.ColumnDef c = columns.get(index[i]);
            caseInsensitive[i] = !c.binary() && !c.isNumber();
        }
        return (a, b) -> {
            for (int i = 0; i < k; i++) {
                int c = compare(a.values()[index[i]], b.values()[index[i]], caseInsensitive[i]);
                if (c != 0) {
                    return descending[i] ? -c : c;
                }
            }
            return 0;
        };
    }

    private static int columnNamed(List<BinaryRows.ColumnDef> columns, String name) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).orgName().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    /** MySQL's order for two values of one column: NULL first, numbers by value, text case-insensitively when asked. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compare(Object a, Object b, boolean caseInsensitive) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        if (a instanceof String x && b instanceof String y) {
            return caseInsensitive ? x.compareToIgnoreCase(y) : x.compareTo(y);
        }
        if (a instanceof byte[] x && b instanceof byte[] y) {
            return Arrays.compareUnsigned(x, y);
        }
        if (a instanceof Number x && b instanceof Number y) {
            if (a.getClass() == b.getClass() && a instanceof Comparable) {
                return ((Comparable) a).compareTo(b);
            }
            return decimal(x).compareTo(decimal(y));
        }
        if (a instanceof Comparable && a.getClass() == b.getClass()) {
            return ((Comparable) a).compareTo(b);
        }
        return a.toString().compareTo(b.toString());
    }

    private static BigDecimal decimal(Number n) {
        if (n instanceof BigDecimal d) {
            return d;
        }
        if (n instanceof BigInteger i) {
            return new BigDecimal(i);
        }
        if (n instanceof Double || n instanceof Float) {
            return BigDecimal.valueOf(n.doubleValue());
        }
        return BigDecimal.valueOf(n.longValue());
    }

    /** One row: each aggregate combined over the nodes' rows (COUNT and SUM added, MIN and MAX compared). */
    static byte[] aggregate(ScatterTemplate t, List<NodeResult> results) {
        List<BinaryRows.ColumnDef> columns = results.get(0).columns();
        int n = columns.size();
        Object[] combined = new Object[n];
        for (int i = 0; i < n; i++) {
            Aggregate a = i < t.items().size() ? t.items().get(i) : Aggregate.NONE;
            BinaryRows.ColumnDef c = columns.get(i);
            Object value = null;
            boolean caseInsensitive = !c.binary() && !c.isNumber();
            for (NodeResult r : results) {
                for (Row row : r.rows()) {
                    Object v = row.values()[i];
                    if (v == null) {
                        continue;
                    }
                    value = switch (a) {
                        case COUNT, SUM -> value == null ? v : add((Number) value, (Number) v);
                        case MIN -> value == null || compare(v, value, caseInsensitive) < 0 ? v : value;
                        case MAX -> value == null || compare(v, value, caseInsensitive) > 0 ? v : value;
                        case NONE -> value == null ? v : value;
                    };
                }
            }
            if (a == Aggregate.COUNT && value == null) {
                value = 0L;
            }
            combined[i] = value;
        }
        return encodeRow(columns, combined);
    }

    private static Number add(Number a, Number b) {
        if (a instanceof Double || a instanceof Float || b instanceof Double || b instanceof Float) {
            return a.doubleValue() + b.doubleValue();
        }
        if (a instanceof BigDecimal || b instanceof BigDecimal || a instanceof BigInteger || b instanceof BigInteger) {
            return decimal(a).add(decimal(b));
        }
        try {
            return Math.addExact(a.longValue(), b.longValue());
        } catch (ArithmeticException e) {
            return decimal(a).add(decimal(b));
        }
    }

    /** A binary result row of {@code values} for {@code columns}: 0x00, the NULL bitmap (offset 2), the values. */
    static byte[] encodeRow(List<BinaryRows.ColumnDef> columns, Object[] values) {
        int n = columns.size();
        ByteBuf b = Unpooled.buffer(32);
        b.writeByte(0);
        byte[] nulls = new byte[(n + 7 + 2) / 8];
        for (int i = 0; i < n; i++) {
            if (values[i] == null) {
                nulls[(i + 2) / 8] |= (byte) (1 << ((i + 2) % 8));
            }
        }
        b.writeBytes(nulls);
        for (int i = 0; i < n; i++) {
            if (values[i] != null) {
                encode(b, columns.get(i), values[i]);
            }
        }
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        return out;
    }

    /** One value in the binary encoding of its column's type (the inverse of {@link BinaryRows#decodeRow}). */
    static void encode(ByteBuf b, BinaryRows.ColumnDef c, Object v) {
        switch (c.type()) {
            case Columns.T_TINY -> b.writeByte(((Number) v).intValue());
            case Columns.T_SHORT, Columns.T_YEAR -> b.writeShortLE(((Number) v).intValue());
            case Columns.T_LONG, Columns.T_INT24 -> b.writeIntLE((int) ((Number) v).longValue());
            case Columns.T_LONGLONG -> b.writeLongLE(v instanceof BigInteger i ? i.longValue() : ((Number) v).longValue());
            case Columns.T_FLOAT -> b.writeFloatLE(((Number) v).floatValue());
            case Columns.T_DOUBLE -> b.writeDoubleLE(((Number) v).doubleValue());
            case Columns.T_DECIMAL, Columns.T_NEWDECIMAL -> Wire.lenencString(b, decimal((Number) v).toPlainString());
            case Columns.T_DATE -> BinaryValues.writeDate(b, (LocalDate) v);
            case Columns.T_DATETIME, Columns.T_TIMESTAMP -> BinaryValues.writeDateTime(b, (LocalDateTime) v);
            case Columns.T_TIME -> BinaryValues.writeTime(b, BinaryValues.Time.parse(v.toString()));
            default -> {
                if (v instanceof byte[] bytes) {
                    Wire.lenencBytes(b, bytes);
                } else {
                    Wire.lenencString(b, v.toString());
                }
            }
        }
    }
}
