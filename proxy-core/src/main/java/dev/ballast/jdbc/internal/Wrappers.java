package dev.ballast.jdbc.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Thin wrappers around ShardingSphere's connection and statements: they rewrite Ballast SQL hints
 * and pass every SQLException through {@link Errors#translate} so that failures name the cluster,
 * group and node. Everything else is delegated unchanged.
 */
public final class Wrappers {

    private Wrappers() {
    }

    public static Connection connection(Connection target, String cluster, MergeGuard guard) {
        return (Connection) Proxy.newProxyInstance(Wrappers.class.getClassLoader(), new Class<?>[]{Connection.class},
                new ConnectionHandler(target, cluster, guard));
    }

    private static final class ConnectionHandler implements InvocationHandler {
        private final Connection target;
        private final String cluster;
        private final MergeGuard guard;

        ConnectionHandler(Connection target, String cluster, MergeGuard guard) {
            this.target = target;
            this.cluster = cluster;
            this.guard = guard;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
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
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "BallastConnection[cluster=" + cluster + ", " + target + "]";
                case "prepareStatement":
                case "prepareCall":
                    guard.check((String) args[0], cluster);
                    args[0] = SqlHints.rewrite((String) args[0]);
                    break;
                case "nativeSQL":
                    args[0] = SqlHints.rewrite((String) args[0]);
                    break;
                default:
                    break;
            }
            Object result = call(target, method, args, cluster);
            if (result instanceof Statement statement && !(result instanceof PreparedStatement)
                    && !(result instanceof CallableStatement)) {
                return Proxy.newProxyInstance(Wrappers.class.getClassLoader(), new Class<?>[]{Statement.class},
                        new StatementHandler(statement, (Connection) proxy, cluster, guard));
            }
            if (result instanceof PreparedStatement ps && !(result instanceof CallableStatement)) {
                return Proxy.newProxyInstance(Wrappers.class.getClassLoader(), new Class<?>[]{PreparedStatement.class},
                        new StatementHandler(ps, (Connection) proxy, cluster, guard));
            }
            return result;
        }
    }

    private static final class StatementHandler implements InvocationHandler {
        private final Statement target;
        private final Connection connection;
        private final String cluster;
        private final MergeGuard guard;

        StatementHandler(Statement target, Connection connection, String cluster, MergeGuard guard) {
            this.target = target;
            this.connection = connection;
            this.cluster = cluster;
            this.guard = guard;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            switch (name) {
                case "getConnection":
                    return connection;
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
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "BallastStatement[" + target + "]";
                default:
                    if (args != null && args.length > 0 && args[0] instanceof String sql
                            && (name.startsWith("execute") || name.equals("addBatch"))) {
                        guard.check(sql, cluster);
                        args[0] = SqlHints.rewrite(sql);
                    }
                    break;
            }
            return call(target, method, args, cluster);
        }
    }

    private static Object call(Object target, Method method, Object[] args, String cluster) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw Errors.translate(sql, cluster);
            }
            if (cause instanceof RuntimeException runtime) {
                throw Errors.translate(runtime, cluster);
            }
            throw cause;
        }
    }
}
