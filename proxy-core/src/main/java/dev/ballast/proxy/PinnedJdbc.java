package dev.ballast.proxy;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JDBC views of a {@link ShardedTransaction}'s pinned server connections (their wire side is {@link BinaryRows}), so that ShardingSphere (and Ballast's fast
 * path) run a transaction's multi-node statements on the same server sessions as the statements the relay sent there.
 * A view's {@link Connection} is one group's master; its statements run as server-side prepared statements through the
 * binary protocol; results are read whole into memory (rows a statement of a transaction returns) and answered through
 * {@link ResultSet}. What ShardingSphere's executor and merger call is implemented; anything else fails with
 * {@link SQLFeatureNotSupportedException} naming the method. Closing a view does nothing: the relay owns the connection.
 */
final class PinnedJdbc {

    private PinnedJdbc() {
    }

    // ---- the JDBC views ------------------------------------------------------------------------------------------

    /** A view of {@code group}'s pinned master connection of {@code tx}. */
    static Connection connection(ShardedTransaction tx, String group) {
        return proxy(Connection.class, new ConnectionView(tx, group));
    }

    private static <T> T proxy(Class<T> type, InvocationHandler h) {
        return type.cast(Proxy.newProxyInstance(PinnedJdbc.class.getClassLoader(), new Class<?>[]{type}, h));
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PinnedJdbc.class);

    private static SQLFeatureNotSupportedException unsupported(Method m) {
        log.warn("unsupported {}.{}", m.getDeclaringClass().getSimpleName(), m.getName());
        return new SQLFeatureNotSupportedException("inside a relayed transaction over several groups, " + m.getDeclaringClass()
                .getSimpleName() + "." + m.getName() + " is not supported; set proxy.relayShardedTransactions: false", "0A000");
    }

    /** Object's own methods on a view. */
    private static Object objectMethod(Object proxy, Method m, Object[] a, String name) {
        return switch (m.getName()) {
            case "equals" -> proxy == a[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> name;
            default -> null;
        };
    }

    private static Object wrapper(Object proxy, Method m, Object[] a) throws SQLException {
        Class<?> iface = (Class<?>) a[0];
        if (m.getName().equals("isWrapperFor")) {
            return iface.isInstance(proxy);
        }
        if (iface.isInstance(proxy)) {
            return proxy;
        }
        throw new SQLException("not a wrapper for " + iface.getName());
    }

    private static final class ConnectionView implements InvocationHandler {
        final ShardedTransaction tx;
        final String group;
        ShardedTransaction.Pin pin;

        ConnectionView(ShardedTransaction tx, String group) {
            this.tx = tx;
            this.group = group;
        }

        ShardedTransaction.Pin pin() throws SQLException {
            if (pin == null) {
                pin = tx.pinFromWorker(group);
            }
            return pin;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            if (m.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, m, a, "PinnedConnection[cluster=" + tx.cluster() + " group=" + group + "]");
            }
            switch (m.getName()) {
                case "prepareStatement":
                    return proxy(PreparedStatement.class, new StatementView(this, (Connection) proxy, (String) a[0]));
                case "createStatement":
                    return proxy(Statement.class, new StatementView(this, (Connection) proxy, null));
                case "setAutoCommit", "setTransactionIsolation", "setReadOnly", "setCatalog", "setSchema", "setHoldability",
                     "setNetworkTimeout", "clearWarnings", "close", "abort":
                    return null; // the transaction is the relay's; session settings are not applied (as elsewhere)
                case "getAutoCommit", "isReadOnly":
                    return false;
                case "isClosed":
                    if (pin != null && pin.backend.closed()) {
                        tx.lost("the connection to " + pin.backend.node.describe() + " closed");
                        return true;
                    }
                    return tx.ended();
                case "isValid":
                    return !tx.ended() && tx.lost() == null;
                case "getTransactionIsolation":
                    return Connection.TRANSACTION_REPEATABLE_READ;
                case "getCatalog":
                    return tx.database();
                case "getSchema", "getWarnings":
                    return null;
                case "getHoldability":
                    return ResultSet.HOLD_CURSORS_OVER_COMMIT;
                case "getNetworkTimeout":
                    return 0;
                case "commit":
                    end("COMMIT");
                    return null;
                case "getMetaData":
                    return proxy(java.sql.DatabaseMetaData.class, new DatabaseMetaDataView((Connection) proxy, pin().backend.node));
                case "setSavepoint": {
                    String sp = a != null && a.length == 1 ? (String) a[0] : "ballast_sp_" + System.nanoTime();
                    tx.run(pin(), "SAVEPOINT `" + sp.replace("`", "``") + "`", new Object[0]);
                    return savepoint(sp);
                }
                case "rollback", "releaseSavepoint": {
                    if (a == null || a.length == 0) {
                        end("ROLLBACK");
                        return null;
                    }
                    String sp = ((java.sql.Savepoint) a[0]).getSavepointName();
                    tx.run(pin(), (m.getName().equals("rollback") ? "ROLLBACK TO SAVEPOINT `" : "RELEASE SAVEPOINT `")
                            + sp.replace("`", "``") + "`", new Object[0]);
                    return null;
                }
                case "unwrap", "isWrapperFor":
                    return wrapper(proxy, m, a);
                default:
                    throw unsupported(m);
            }
        }

        /** COMMIT or ROLLBACK of this group's part, when the JDBC path ends the transaction itself. */
        private void end(String what) throws SQLException {
            if (tx.ended() || pin == null || !pin.begun) {
                return;
            }
            tx.run(pin, what, new Object[0]);
            pin.begun = false;
        }
    }

    private static java.sql.Savepoint savepoint(String name) {
        return new java.sql.Savepoint() {
            @Override
            public int getSavepointId() throws SQLException {
                throw new SQLException("a named savepoint has no id", "HY000");
            }

            @Override
            public String getSavepointName() {
                return name;
            }
        };
    }

    /** What ShardingSphere asks a storage connection's metadata: where it points and what it is. */
    private static final class DatabaseMetaDataView implements InvocationHandler {
        final Connection connection;
        final dev.ballast.jdbc.internal.NodeDataSource node;

        DatabaseMetaDataView(Connection connection, dev.ballast.jdbc.internal.NodeDataSource node) {
            this.connection = connection;
            this.node = node;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            if (m.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, m, a, "PinnedDatabaseMetaData[" + node.address() + "]");
            }
            return switch (m.getName()) {
                case "getURL" -> node.getUrl();
                case "getUserName" -> node.getUsername();
                case "getConnection" -> connection;
                case "getDatabaseProductName" -> "MySQL";
                case "getIdentifierQuoteString" -> "`";
                case "storesLowerCaseIdentifiers", "storesUpperCaseIdentifiers", "storesMixedCaseIdentifiers" -> false;
                case "unwrap", "isWrapperFor" -> wrapper(proxy, m, a);
                default -> throw unsupported(m);
            };
        }
    }

    /** A Statement or PreparedStatement on a pinned connection. */
    private static final class StatementView implements InvocationHandler {
        final ConnectionView connection;
        final Connection connectionProxy;
        final String sql;
        final Map<Integer, Object> params = new TreeMap<>();
        final List<Object[]> batch = new ArrayList<>();
        final List<String> textBatch = new ArrayList<>();
        ResultSet resultSet;
        long updateCount = -1;
        long insertId;
        boolean closed;
        int fetchSize;
        int queryTimeout;
        int maxRows;

        StatementView(ConnectionView connection, Connection connectionProxy, String sql) {
            this.connection = connection;
            this.connectionProxy = connectionProxy;
            this.sql = sql;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            if (m.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, m, a, "PinnedStatement[" + sql + "]");
            }
            String name = m.getName();
            if (name.startsWith("set") && a != null && a.length >= 2 && m.getParameterTypes()[0] == int.class
                    && !name.equals("setFetchDirection")) {
                params.put((Integer) a[0], name.equals("setNull") ? null : a[1]);
                return null;
            }
            switch (name) {
                case "execute", "executeQuery", "executeUpdate", "executeLargeUpdate": {
                    String text = a != null && a.length > 0 && a[0] instanceof String s ? s : sql;
                    if (text == null) {
                        throw new SQLException("no SQL to execute", "HY000");
                    }
                    boolean rows = run(proxy, text, a != null && a.length > 0 && a[0] instanceof String ? new Object[0] : values());
                    return switch (name) {
                        case "execute" -> rows;
                        case "executeQuery" -> {
                            if (!rows) {
                                throw new SQLException("the statement returned no result set", "HY000");
                            }
                            yield resultSet;
                        }
                        case "executeUpdate" -> (int) Math.max(0, updateCount);
                        default -> Math.max(0, updateCount);
                    };
                }
                case "addBatch":
                    if (a != null && a.length == 1) {
                        textBatch.add((String) a[0]);
                    } else {
                        batch.add(values());
                    }
                    return null;
                case "clearBatch":
                    batch.clear();
                    textBatch.clear();
                    return null;
                case "executeBatch", "executeLargeBatch": {
                    List<Long> counts = new ArrayList<>();
                    for (Object[] values : batch) {
                        run(proxy, sql, values);
                        counts.add(Math.max(0, updateCount));
                    }
                    for (String text : textBatch) {
                        run(proxy, text, new Object[0]);
                        counts.add(Math.max(0, updateCount));
                    }
                    batch.clear();
                    textBatch.clear();
                    if (name.equals("executeBatch")) {
                        return counts.stream().mapToInt(Long::intValue).toArray();
                    }
                    return counts.stream().mapToLong(Long::longValue).toArray();
                }
                case "clearParameters":
                    params.clear();
                    return null;
                case "getResultSet":
                    return resultSet;
                case "getUpdateCount":
                    return resultSet != null ? -1 : (int) updateCount;
                case "getLargeUpdateCount":
                    return resultSet != null ? -1L : updateCount;
                case "getMoreResults":
                    resultSet = null;
                    updateCount = -1;
                    return false;
                case "getGeneratedKeys": {
                    BinaryRows.ColumnDef key = new BinaryRows.ColumnDef("", "", "", "GENERATED_KEY", "GENERATED_KEY", Columns.BINARY, 20,
                            Columns.T_LONGLONG, Columns.UNSIGNED, 0);
                    List<Object[]> keys = insertId != 0 ? List.<Object[]>of(new Object[]{insertId}) : List.of();
                    return results((Statement) proxy, List.of(key), keys);
                }
                case "close":
                    closed = true;
                    return null;
                case "isClosed":
                    return closed;
                case "getConnection":
                    return connectionProxy;
                case "getWarnings":
                    return null;
                case "clearWarnings", "setFetchDirection", "setEscapeProcessing", "setPoolable", "setCursorName",
                     "setMaxFieldSize", "closeOnCompletion", "setLargeMaxRows":
                    return null;
                case "setFetchSize":
                    fetchSize = (Integer) a[0];
                    return null;
                case "getFetchSize":
                    return fetchSize;
                case "setQueryTimeout":
                    queryTimeout = (Integer) a[0];
                    return null;
                case "getQueryTimeout":
                    return queryTimeout;
                case "setMaxRows":
                    maxRows = (Integer) a[0];
                    return null;
                case "getMaxRows":
                    return maxRows;
                case "getResultSetType":
                    return ResultSet.TYPE_FORWARD_ONLY;
                case "getResultSetConcurrency":
                    return ResultSet.CONCUR_READ_ONLY;
                case "getResultSetHoldability":
                    return ResultSet.HOLD_CURSORS_OVER_COMMIT;
                case "getFetchDirection":
                    return ResultSet.FETCH_FORWARD;
                case "isPoolable", "isCloseOnCompletion":
                    return false;
                case "unwrap", "isWrapperFor":
                    return wrapper(proxy, m, a);
                default:
                    throw unsupported(m);
            }
        }

        private Object[] values() {
            int n = params.isEmpty() ? 0 : ((TreeMap<Integer, Object>) params).lastKey();
            Object[] v = new Object[n];
            for (Map.Entry<Integer, Object> e : params.entrySet()) {
                v[e.getKey() - 1] = e.getValue();
            }
            return v;
        }

        private boolean run(Object proxy, String text, Object[] values) throws SQLException {
            ShardedTransaction.Result r = connection.tx.run(connection.pin(), text, values);
            if (r.columns() != null) {
                resultSet = results((Statement) proxy, r.columns(), r.rows());
                updateCount = -1;
                insertId = 0;
                return true;
            }
            resultSet = null;
            updateCount = r.affected();
            insertId = r.insertId();
            return false;
        }
    }

    // ---- results --------------------------------------------------------------------------------------------

    static ResultSet results(Statement statement, List<BinaryRows.ColumnDef> columns, List<Object[]> rows) {
        return proxy(ResultSet.class, new ResultView(statement, columns, rows));
    }

    private static final java.util.Set<String> VALUE_GETTERS = java.util.Set.of("getObject", "getString", "getNString",
            "getInt", "getLong", "getShort", "getByte", "getBoolean", "getFloat", "getDouble", "getBigDecimal", "getBytes",
            "getDate", "getTime", "getTimestamp", "getBinaryStream", "getAsciiStream", "getCharacterStream",
            "getNCharacterStream");

    private static final class ResultView implements InvocationHandler {
        final Statement statement;
        final List<BinaryRows.ColumnDef> columns;
        final List<Object[]> rows;
        int at = -1;
        boolean wasNull;
        boolean closed;

        ResultView(Statement statement, List<BinaryRows.ColumnDef> columns, List<Object[]> rows) {
            this.statement = statement;
            this.columns = columns;
            this.rows = rows;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            if (m.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, m, a, "PinnedResultSet[" + rows.size() + " rows]");
            }
            String name = m.getName();
            if (VALUE_GETTERS.contains(name) && a != null && a.length >= 1) {
                int col = a[0] instanceof String label ? find(label) : (Integer) a[0];
                Object v = value(col);
                wasNull = v == null;
                Class<?> target = name.equals("getObject") && a.length > 1 && a[1] instanceof Class<?> c ? c : null;
                return convert(v, name, target, columns.get(col - 1));
            }
            switch (name) {
                case "next":
                    if (at < rows.size()) {
                        at++;
                    }
                    return at < rows.size();
                case "close":
                    closed = true;
                    return null;
                case "isClosed":
                    return closed;
                case "wasNull":
                    return wasNull;
                case "getMetaData":
                    return proxy(ResultSetMetaData.class, new MetaDataView(columns));
                case "findColumn":
                    return find((String) a[0]);
                case "getStatement":
                    return statement;
                case "getType":
                    return ResultSet.TYPE_FORWARD_ONLY;
                case "getConcurrency":
                    return ResultSet.CONCUR_READ_ONLY;
                case "getHoldability":
                    return ResultSet.HOLD_CURSORS_OVER_COMMIT;
                case "getFetchSize":
                    return 0;
                case "getFetchDirection":
                    return ResultSet.FETCH_FORWARD;
                case "getRow":
                    return at >= 0 && at < rows.size() ? at + 1 : 0;
                case "isBeforeFirst":
                    return at < 0 && !rows.isEmpty();
                case "isAfterLast":
                    return at >= rows.size() && !rows.isEmpty();
                case "isFirst":
                    return at == 0;
                case "isLast":
                    return at == rows.size() - 1;
                case "getWarnings":
                    return null;
                case "setFetchSize", "setFetchDirection", "clearWarnings":
                    return null;
                case "unwrap", "isWrapperFor":
                    return wrapper(proxy, m, a);
                default:
                    throw unsupported(m);
            }
        }

        private int find(String label) throws SQLException {
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).name().equalsIgnoreCase(label)) {
                    return i + 1;
                }
            }
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).orgName().equalsIgnoreCase(label)) {
                    return i + 1;
                }
            }
            throw new SQLException("Column '" + label + "' not found", "S0022");
        }

        private Object value(int col) throws SQLException {
            if (at < 0 || at >= rows.size()) {
                throw new SQLException("no current row", "S1000");
            }
            if (col < 1 || col > columns.size()) {
                throw new SQLException("column index " + col + " out of range 1.." + columns.size(), "S1009");
            }
            return rows.get(at)[col - 1];
        }
    }

    /** A column's value through the getter {@code getter} (or getObject with {@code target}). */
    static Object convert(Object v, String getter, Class<?> target, BinaryRows.ColumnDef c) throws SQLException {
        if (target != null) {
            return as(v, target, c);
        }
        return switch (getter) {
            case "getObject" -> object(v, c);
            case "getString", "getNString" -> as(v, String.class, c);
            case "getInt" -> v == null ? 0 : as(v, Integer.class, c);
            case "getLong" -> v == null ? 0L : as(v, Long.class, c);
            case "getShort" -> v == null ? (short) 0 : as(v, Short.class, c);
            case "getByte" -> v == null ? (byte) 0 : as(v, Byte.class, c);
            case "getBoolean" -> v != null && (Boolean) as(v, Boolean.class, c);
            case "getFloat" -> v == null ? 0f : as(v, Float.class, c);
            case "getDouble" -> v == null ? 0d : as(v, Double.class, c);
            case "getBigDecimal" -> as(v, BigDecimal.class, c);
            case "getBytes" -> as(v, byte[].class, c);
            case "getDate" -> as(v, java.sql.Date.class, c);
            case "getTime" -> as(v, java.sql.Time.class, c);
            case "getTimestamp" -> as(v, Timestamp.class, c);
            case "getBinaryStream", "getAsciiStream" -> v == null ? null : new ByteArrayInputStream((byte[]) as(v, byte[].class, c));
            case "getCharacterStream", "getNCharacterStream" -> v == null ? null : new StringReader((String) as(v, String.class, c));
            default -> throw new SQLFeatureNotSupportedException("ResultSet." + getter + " is not supported inside a relayed "
                    + "transaction over several groups", "0A000");
        };
    }

    /** What getObject(i) gives, as Connector/J does: TIMESTAMP as Timestamp, DATE as Date, TIME as Time. */
    private static Object object(Object v, BinaryRows.ColumnDef c) throws SQLException {
        if (v == null) {
            return null;
        }
        return switch (c.type()) {
            case Columns.T_TIMESTAMP -> as(v, Timestamp.class, c);
            case Columns.T_DATE -> as(v, java.sql.Date.class, c);
            case Columns.T_TIME -> as(v, java.sql.Time.class, c);
            case Columns.T_YEAR -> as(v, java.sql.Date.class, c);
            case Columns.T_LONGLONG -> v instanceof Long l && c.unsigned() ? BigInteger.valueOf(l) : v;
            case Columns.T_LONG, Columns.T_INT24 -> v instanceof Long l ? l : v;
            case Columns.T_BIT -> v;
            default -> v;
        };
    }

    static Object as(Object v, Class<?> t, BinaryRows.ColumnDef c) throws SQLException {
        if (v == null) {
            return null;
        }
        if (t.isInstance(v) && !(v instanceof java.util.Date && t == java.util.Date.class)) {
            return v;
        }
        try {
            if (t == String.class) {
                if (v instanceof byte[] b) {
                    return BinaryRows.text(b);
                }
                if (v instanceof LocalDateTime d) {
                    String s = d.format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
                    int digits = Math.min(6, c.decimals());
                    return digits > 0 ? s + "." + String.format("%06d", d.getNano() / 1000).substring(0, digits) : s;
                }
                if (v instanceof Double || v instanceof Float) {
                    return v.toString();
                }
                if (v instanceof BigDecimal d) {
                    return d.toPlainString();
                }
                return v.toString();
            }
            if (Number.class.isAssignableFrom(t) || t.isPrimitive() && t != boolean.class) {
                BigDecimal n = v instanceof BigDecimal d ? d : v instanceof BigInteger i ? new BigDecimal(i)
                        : v instanceof Number x ? (v instanceof Double || v instanceof Float ? BigDecimal.valueOf(x.doubleValue())
                        : BigDecimal.valueOf(x.longValue())) : v instanceof Boolean z ? (z ? BigDecimal.ONE : BigDecimal.ZERO)
                        : new BigDecimal(v instanceof byte[] b ? BinaryRows.text(b).trim() : v.toString().trim());
                if (t == Integer.class || t == int.class) {
                    return n.intValue();
                }
                if (t == Long.class || t == long.class) {
                    return n.longValue();
                }
                if (t == Short.class || t == short.class) {
                    return n.shortValue();
                }
                if (t == Byte.class || t == byte.class) {
                    return n.byteValue();
                }
                if (t == Double.class || t == double.class) {
                    return v instanceof Number x && !(v instanceof BigDecimal) ? x.doubleValue() : n.doubleValue();
                }
                if (t == Float.class || t == float.class) {
                    return v instanceof Number x && !(v instanceof BigDecimal) ? x.floatValue() : n.floatValue();
                }
                if (t == BigDecimal.class) {
                    return n;
                }
                if (t == BigInteger.class) {
                    return n.toBigInteger();
                }
                if (t == Number.class) {
                    return v instanceof Number x ? x : n;
                }
            }
            if (t == Boolean.class || t == boolean.class) {
                if (v instanceof Boolean z) {
                    return z;
                }
                if (v instanceof Number x) {
                    return x.doubleValue() != 0;
                }
                String s = v instanceof byte[] b ? (b.length == 1 ? (b[0] != 0 ? "1" : "0") : BinaryRows.text(b)) : v.toString();
                return !(s.equals("0") || s.equalsIgnoreCase("false") || s.isEmpty());
            }
            if (t == byte[].class) {
                return v instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : v.toString().getBytes(StandardCharsets.UTF_8);
            }
            if (t == LocalDateTime.class) {
                return v instanceof LocalDate d ? d.atStartOfDay() : LocalDateTime.parse(v.toString().replace(' ', 'T'));
            }
            if (t == LocalDate.class) {
                return v instanceof LocalDateTime d ? d.toLocalDate() : v instanceof Integer y ? LocalDate.of(y, 1, 1)
                        : LocalDate.parse(v.toString());
            }
            if (t == LocalTime.class) {
                return v instanceof LocalDateTime d ? d.toLocalTime() : LocalTime.parse(v.toString());
            }
            if (t == Timestamp.class || t == java.util.Date.class) {
                return Timestamp.valueOf((LocalDateTime) as(v, LocalDateTime.class, c));
            }
            if (t == java.sql.Date.class) {
                return java.sql.Date.valueOf((LocalDate) as(v, LocalDate.class, c));
            }
            if (t == java.sql.Time.class) {
                if (v instanceof LocalDateTime d) {
                    return java.sql.Time.valueOf(d.toLocalTime());
                }
                String s = v.toString();
                String[] hms = s.replace("-", "").split("[:.]");
                java.sql.Time time = new java.sql.Time(((Long.parseLong(hms[0]) * 60 + Long.parseLong(hms[1])) * 60
                        + Long.parseLong(hms[2])) * 1000 - java.util.TimeZone.getDefault().getRawOffset()
                        + (hms.length > 3 ? Long.parseLong((hms[3] + "000000").substring(0, 3)) : 0));
                return time;
            }
            if (t == Object.class) {
                return v;
            }
        } catch (RuntimeException e) {
            throw new SQLException("cannot read " + v + " as " + t.getSimpleName() + ": " + e.getMessage(), "22018", e);
        }
        throw new SQLFeatureNotSupportedException("a value of column " + c.name() + " as " + t.getName()
                + " is not supported inside a relayed transaction over several groups", "0A000");
    }

    private static final class MetaDataView implements InvocationHandler {
        final List<BinaryRows.ColumnDef> columns;

        MetaDataView(List<BinaryRows.ColumnDef> columns) {
            this.columns = columns;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] a) throws Throwable {
            if (m.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, m, a, "PinnedResultSetMetaData");
            }
            if (m.getName().equals("getColumnCount")) {
                return columns.size();
            }
            if (m.getName().equals("unwrap") || m.getName().equals("isWrapperFor")) {
                return wrapper(proxy, m, a);
            }
            int i = (Integer) a[0];
            if (i < 1 || i > columns.size()) {
                throw new SQLException("column index " + i + " out of range 1.." + columns.size(), "S1009");
            }
            BinaryRows.ColumnDef c = columns.get(i - 1);
            return switch (m.getName()) {
                case "getColumnLabel" -> c.name();
                case "getColumnName" -> c.orgName().isEmpty() ? c.name() : c.orgName();
                case "getTableName" -> c.orgTable().isEmpty() ? c.table() : c.orgTable();
                case "getSchemaName" -> "";
                case "getCatalogName" -> c.schema();
                case "getColumnType" -> c.jdbcType();
                case "getColumnTypeName" -> c.typeName();
                case "getColumnClassName" -> switch (c.jdbcType()) {
                    case Types.TINYINT, Types.SMALLINT, Types.INTEGER -> c.type() == Columns.T_LONG && c.unsigned() ? "java.lang.Long" : "java.lang.Integer";
                    case Types.BIGINT -> c.unsigned() ? "java.math.BigInteger" : "java.lang.Long";
                    case Types.DECIMAL -> "java.math.BigDecimal";
                    case Types.REAL -> "java.lang.Float";
                    case Types.DOUBLE -> "java.lang.Double";
                    case Types.DATE -> "java.sql.Date";
                    case Types.TIME -> "java.sql.Time";
                    case Types.TIMESTAMP -> c.type() == Columns.T_TIMESTAMP ? "java.sql.Timestamp" : "java.time.LocalDateTime";
                    case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BIT -> "[B";
                    default -> "java.lang.String";
                };
                case "getPrecision" -> c.type() == Columns.T_NEWDECIMAL || c.type() == Columns.T_DECIMAL
                        ? (int) Math.max(0, c.length() - (c.decimals() > 0 ? 1 : 0) - (c.unsigned() ? 0 : 1)) : c.displaySize();
                case "getScale" -> c.decimals() >= 0x1f ? 0 : c.decimals();
                case "isSigned" -> c.isNumber() && !c.unsigned();
                case "isNullable" -> (c.flags() & Columns.NOT_NULL) != 0 ? ResultSetMetaData.columnNoNulls : ResultSetMetaData.columnNullable;
                case "isAutoIncrement" -> (c.flags() & 512) != 0;
                case "isCaseSensitive" -> c.binary() && !c.isNumber();
                case "isCurrency", "isReadOnly" -> false;
                case "isSearchable", "isWritable" -> true;
                case "isDefinitelyWritable" -> false;
                case "getColumnDisplaySize" -> c.displaySize();
                default -> throw unsupported(m);
            };
        }
    }
}
