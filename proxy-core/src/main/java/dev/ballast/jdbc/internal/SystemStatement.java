package dev.ballast.jdbc.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;

/**
 * A prepared statement over the system schema ({@code information_schema}, {@code SHOW} about tables): its parameters
 * are kept here and the statement is answered by {@link dev.ballast.sysschema.SystemSchema} on execution, never by
 * ShardingSphere. Only reads: an update call is refused naming the statement.
 */
final class SystemStatement implements InvocationHandler {
    private final String sql;
    private final Wrappers.Plane plane;
    private final Connection connection;
    private final List<Object> params = new ArrayList<>();
    private ResultSet result;
    private boolean closed;

    SystemStatement(String sql, Wrappers.Plane plane, Connection connection) {
        this.sql = sql;
        this.plane = plane;
        this.connection = connection;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (name.startsWith("set") && args != null && args.length >= 2 && args[0] instanceof Integer index
                && !name.equals("setFetchSize") && !name.equals("setMaxRows")) {
            while (params.size() < index) {
                params.add(null);
            }
            params.set(index - 1, name.equals("setNull") ? null : args[1]);
            return null;
        }
        switch (name) {
            case "executeQuery", "execute" -> {
                if (closed) {
                    throw new SQLException("[cluster=" + plane.cluster() + "] statement closed", "HY010");
                }
                if (args != null && args.length > 0) {
                    throw new SQLException("[cluster=" + plane.cluster() + "] " + name + "(String) on a PreparedStatement", "HY000");
                }
                result = plane.system().answer(sql, List.copyOf(params));
                return name.equals("execute") ? (Object) Boolean.TRUE : result;
            }
            case "getResultSet" -> {
                return result;
            }
            case "getUpdateCount" -> {
                return -1;
            }
            case "getLargeUpdateCount" -> {
                return -1L;
            }
            case "getMoreResults" -> {
                result = null;
                return false;
            }
            case "clearParameters" -> {
                params.clear();
                return null;
            }
            case "close" -> {
                closed = true;
                return null;
            }
            case "isClosed" -> {
                return closed;
            }
            case "getConnection" -> {
                return connection;
            }
            case "getMetaData" -> {
                return result == null ? null : result.getMetaData();
            }
            case "getWarnings", "getGeneratedKeys" -> {
                return null;
            }
            case "clearWarnings", "setFetchSize", "setMaxRows", "setQueryTimeout", "setFetchDirection", "setEscapeProcessing",
                 "setPoolable", "setCursorName", "setLargeMaxRows", "closeOnCompletion" -> {
                return null;
            }
            case "getFetchSize", "getMaxRows", "getQueryTimeout" -> {
                return 0;
            }
            case "getResultSetType" -> {
                return ResultSet.TYPE_FORWARD_ONLY;
            }
            case "getResultSetConcurrency" -> {
                return ResultSet.CONCUR_READ_ONLY;
            }
            case "unwrap" -> {
                if (((Class<?>) args[0]).isInstance(proxy)) {
                    return proxy;
                }
                throw new SQLException("not a wrapper for " + args[0]);
            }
            case "isWrapperFor" -> {
                return ((Class<?>) args[0]).isInstance(proxy);
            }
            case "equals" -> {
                return proxy == args[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(proxy);
            }
            case "toString" -> {
                return "BallastSystemStatement[" + sql + "]";
            }
            default -> throw new SQLFeatureNotSupportedException("[cluster=" + plane.cluster() + "] " + name
                    + " is not supported on a statement over the system schema (" + sql + ")", "0A000");
        }
    }
}
