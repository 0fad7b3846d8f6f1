package dev.ballast.jdbc.internal;

import dev.ballast.jdbc.fastpath.RouteTemplate;
import dev.ballast.rules.DataNode;
import org.apache.shardingsphere.infra.hint.HintManager;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A PreparedStatement whose route a {@link RouteTemplate} decides from its sharding parameter: it runs on
 * the data node's server directly, on a physical connection the logical connection keeps, skipping
 * ShardingSphere's parse, route, rewrite and merge. Parameters are recorded so that anything the fast
 * path does not do (batches, generated keys, a transaction, statement options) hands the statement over
 * to ShardingSphere, replaying them, for the rest of its life.
 */
final class FastStatement implements InvocationHandler {

    private final RouteTemplate template;
    private final String sql;
    private final Wrappers.ConnectionHandler connection;
    private final Connection proxyConnection;
    /** per 1-based parameter index: the setter called last and its arguments (the proxy's own fresh array) */
    private final Method[] setters;
    private final Object[][] values;
    /** per server: its physical statements by data node; usually one server (sized so: the default table is 272 B) */
    private final Map<NodeDataSource, PreparedStatement[]> physical = new IdentityHashMap<>(2);
    private PreparedStatement last;
    private PreparedStatement shardingSphere;
    private boolean closed;

    FastStatement(RouteTemplate template, String sql, Wrappers.ConnectionHandler connection, Connection proxyConnection) {
        this.template = template;
        this.sql = sql;
        this.connection = connection;
        this.proxyConnection = proxyConnection;
        this.setters = new Method[template.parameterCount() + 1];
        this.values = new Object[template.parameterCount() + 1][];
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (shardingSphere != null) {
            return delegate(proxy, method, args);
        }
        switch (name) {
            case "executeQuery":
            case "executeUpdate":
            case "execute":
            case "executeLargeUpdate":
                if (connection.closed()) {
                    throw new SQLException("[cluster=" + connection.plane.cluster() + "] the connection is closed", "08003");
                }
                if (args == null && connection.fastPathAllowed() && !HintManager.isInstantiated()) {
                    try {
                        return execute(name);
                    } catch (SQLException e) {
                        connection.plane.router().metrics().error(dev.ballast.metrics.DataPlaneMetrics.FAST_PATH, e.getSQLState());
                        throw e;
                    }
                }
                break;
            case "clearParameters":
                Arrays.fill(setters, null);
                Arrays.fill(values, null);
                return null;
            case "getConnection":
                return proxyConnection;
            case "close":
                close();
                return null;
            case "isClosed":
                return closed;
            case "getResultSet":
                return last == null ? null : last.getResultSet();
            case "getUpdateCount":
                return last == null ? -1 : last.getUpdateCount();
            case "getLargeUpdateCount":
                return last == null ? -1L : last.getLargeUpdateCount();
            case "getMoreResults":
                return last != null && last.getMoreResults();
            case "getWarnings":
                return last == null ? null : last.getWarnings();
            case "clearWarnings":
                if (last != null) {
                    last.clearWarnings();
                }
                return null;
            case "equals":
                return proxy == args[0];
            case "hashCode":
                return System.identityHashCode(proxy);
            case "toString":
                return "BallastFastStatement[" + sql + "]";
            case "unwrap":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                break;
            case "isWrapperFor":
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return true;
                }
                break;
            default:
                // PreparedStatement's parameter setters: every "set" method of PreparedStatement and Statement with
                // two or more arguments takes the parameter index first (getParameterTypes() would copy an array)
                if (name.startsWith("set") && args != null && args.length >= 2 && args[0] instanceof Integer index) {
                    record(index, method, args);
                    return null;
                }
                break;
        }
        return delegate(proxy, method, args);
    }

    private void record(int index, Method method, Object[] args) throws SQLException {
        if (index < 1 || index > template.parameterCount()) {
            throw new SQLException("parameter index " + index + " is out of range 1.." + template.parameterCount(), "07009");
        }
        setters[index] = method;
        values[index] = args;
    }

    private Object execute(String kind) throws Throwable {
        if (closed) {
            throw new SQLException("statement is closed", "HY010");
        }
        int node;
        try {
            Object key = null;
            if (template.keyParameter() > 0) {
                Object[] set = values[template.keyParameter()];
                if (set == null) {
                    throw new SQLException("no value set for parameter " + template.keyParameter(), "07001");
                }
                key = set[1];
            }
            node = template.nodeIndex(key);
        } catch (IllegalArgumentException e) {
            // Same wording and SQLSTATE as the ShardingSphere path.
            String table = template.table().name();
            throw key(e, table);
        }
        DataNode dataNode = template.node(node);
        Session previous = connection.session.enter();
        try {
            if (!connection.autoCommit()) {
                // inside a transaction: every statement on the master's connection the transaction holds, no retries
                boolean marked = connection.statementStarts();
                try {
                    return runOn(kind, connection.masterPin(dataNode.group()), connection.plane.router().master(dataNode.group()), node);
                } catch (SQLException e) {
                    SQLException deadlock = connection.deadlockOutcome(e); // ends the whole transaction
                    throw deadlock != null ? deadlock : e;
                } finally {
                    if (marked) {
                        connection.statementEnded();
                    }
                }
            }
            boolean read = template.isRead();
            NodeDataSource target = read ? connection.plane.router().chooseNode(dataNode.group())
                    : connection.plane.router().master(dataNode.group());
            try {
                return run(kind, target, node);
            } catch (SQLException e) {
                if (!read && e.getErrorCode() == Errors.READ_ONLY_SERVER
                        && connection.plane.router().awaitNewMaster(dataNode.group(), target)) {
                    // The master went read-only for a switchover before this write ran: nothing was written, so it is
                    // safe to send it once more, to the new master.
                    connection.unpin(target);
                    physical.remove(target);
                    return run(kind, connection.plane.router().master(dataNode.group()), node);
                }
                if (!read) {
                    throw Errors.inDoubt(e, connection.plane.cluster(), "a write");
                }
                if (target == connection.plane.router().master(dataNode.group()) || !Wrappers.isConnectionFailure(e)) {
                    throw e;
                }
                // The replica failed before any row came back: eject it and read once elsewhere.
                connection.plane.router().readFailedOn(target, e);
                connection.unpin(target);
                physical.remove(target);
                return run(kind, connection.plane.router().chooseNode(dataNode.group()), node);
            }
        } finally {
            Session.restore(previous);
        }
    }

    private SQLException key(IllegalArgumentException e, String table) {
        String column = template.table() instanceof dev.ballast.rules.TableRule.Sharded s ? s.shardingColumn() : "?";
        Object[] set = template.keyParameter() > 0 ? values[template.keyParameter()] : null;
        if (set != null && set[1] == null) {
            return new SQLException("[cluster=" + connection.plane.cluster() + "] table " + table
                    + " needs a value for its sharding column " + column + " (the statement gives none or NULL); every row must carry one",
                    Errors.MISSING_SHARDING_VALUE, 1048, e);
        }
        return new SQLException("[cluster=" + connection.plane.cluster() + "] table " + table + ", column " + column + ": "
                + e.getMessage(), Errors.BAD_SHARDING_VALUE, e);
    }

    private Object run(String kind, NodeDataSource target, int node) throws SQLException {
        Connection c = NodeDataSource.MASTER.equals(target.role()) ? connection.masterPin(target.group()) : connection.pin(target);
        return runOn(kind, c, target, node);
    }

    private Object runOn(String kind, Connection c, NodeDataSource target, int node) throws SQLException {
        PreparedStatement[] byNode = physical.get(target);
        if (byNode == null) {
            byNode = new PreparedStatement[template.nodeCount()];
            physical.put(target, byNode);
        }
        PreparedStatement ps = byNode[node];
        if (ps == null || ps.isClosed() || ps.getConnection() != c) {
            ps = c.prepareStatement(template.sql(node));
            byNode[node] = ps;
        }
        for (int i = 1; i < setters.length; i++) {
            Method setter = setters[i];
            if (setter == null) {
                continue;
            }
            bind(ps, setter, values[i]);
        }
        last = ps;
        target.statements().fastPath();
        try {
            return switch (kind) {
                case "executeQuery" -> ps.executeQuery();
                case "executeUpdate" -> {
                    int n = ps.executeUpdate();
                    connection.session.wrote();
                    yield n;
                }
                case "executeLargeUpdate" -> {
                    long n = ps.executeLargeUpdate();
                    connection.session.wrote();
                    yield n;
                }
                default -> {
                    boolean result = ps.execute();
                    if (!result) {
                        connection.session.wrote();
                    }
                    yield result;
                }
            };
        } catch (SQLException e) {
            if (Wrappers.isConnectionFailure(e)) {
                connection.unpin(target);
            }
            throw Errors.onNode(target, e);
        }
    }

    /** Replays one recorded setter; the common ones without reflection, which costs an access check per call. */
    private static void bind(PreparedStatement ps, Method setter, Object[] a) throws SQLException {
        if (a.length == 2) {
            int i = (Integer) a[0];
            switch (setter.getName()) {
                case "setInt" -> {
                    ps.setInt(i, (Integer) a[1]);
                    return;
                }
                case "setLong" -> {
                    ps.setLong(i, (Long) a[1]);
                    return;
                }
                case "setString" -> {
                    ps.setString(i, (String) a[1]);
                    return;
                }
                case "setObject" -> {
                    ps.setObject(i, a[1]);
                    return;
                }
                case "setBigDecimal" -> {
                    ps.setBigDecimal(i, (java.math.BigDecimal) a[1]);
                    return;
                }
                case "setTimestamp" -> {
                    ps.setTimestamp(i, (java.sql.Timestamp) a[1]);
                    return;
                }
                default -> {
                }
            }
        }
        try {
            setter.invoke(ps, a);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof SQLException s ? s : new SQLException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new SQLException(e);
        }
    }

    /** Hands the statement to ShardingSphere for good: prepares it there and replays the parameters. */
    private Object delegate(Object proxy, Method method, Object[] args) throws Throwable {
        if (shardingSphere == null) {
            if (closed) {
                throw new SQLException("statement is closed", "HY010");
            }
            shardingSphere = (PreparedStatement) connection.prepareThroughShardingSphere(proxyConnection, sql);
            for (int i = 1; i < setters.length; i++) {
                if (setters[i] != null) {
                    setters[i].invoke(shardingSphere, values[i]);
                }
            }
            closePhysical();
        }
        if (method.getName().equals("close")) {
            closed = true;
        }
        try {
            return method.invoke(shardingSphere, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private void close() throws SQLException {
        closed = true;
        closePhysical();
    }

    private void closePhysical() throws SQLException {
        SQLException first = null;
        for (PreparedStatement[] byNode : physical.values()) {
            for (PreparedStatement ps : byNode) {
                if (ps != null) {
                    try {
                        ps.close();
                    } catch (SQLException e) {
                        first = first == null ? e : first;
                    }
                }
            }
        }
        physical.clear();
        last = null;
        if (first != null) {
            throw first;
        }
    }

}
