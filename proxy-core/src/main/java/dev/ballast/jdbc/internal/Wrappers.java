package dev.ballast.jdbc.internal;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;

/**
 * Thin wrappers around ShardingSphere's connection and statements. They make the connection's
 * {@link Session} current while a call runs (routing and read-your-writes read it), rewrite Ballast SQL
 * hints, refuse queries ShardingSphere would merge wrongly, retry once elsewhere a read whose replica
 * failed before returning rows, and pass every failure through {@link Errors#translate}.
 */
public final class Wrappers {

    /** What every wrapper of one data source shares. */
    public record Plane(String cluster, MergeGuard guard, ReadRouter router, Templates templates,
                        javax.sql.DataSource shardingSphere, java.util.concurrent.atomic.AtomicInteger open,
                        dev.ballast.sysschema.SystemSchema system, Deadlocks deadlocks) {
        /** @param deadlocks the check transactions over several groups register with, or null when it is off */
        public Plane(dev.ballast.rules.ClusterConfig config, MergeGuard guard, ReadRouter router,
                     javax.sql.DataSource shardingSphere, dev.ballast.sysschema.SystemSchema system, Deadlocks deadlocks) {
            this(config.name(), guard, router, new Templates(config), shardingSphere,
                    new java.util.concurrent.atomic.AtomicInteger(), system, deadlocks);
        }
    }

    private Wrappers() {
    }

    private static final java.lang.reflect.Constructor<?> CONNECTION = proxyConstructor(Connection.class);
    private static final java.lang.reflect.Constructor<?> STATEMENT = proxyConstructor(Statement.class);
    private static final java.lang.reflect.Constructor<?> PREPARED = proxyConstructor(PreparedStatement.class);

    /** Proxy.newProxyInstance looks its class up on every call; statements are created often enough to keep it. */
    private static java.lang.reflect.Constructor<?> proxyConstructor(Class<?> type) {
        try {
            return Proxy.newProxyInstance(Wrappers.class.getClassLoader(), new Class<?>[]{type}, (p, m, a) -> null)
                    .getClass().getConstructor(InvocationHandler.class);
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unchecked")
    static <T> T proxy(Class<T> type, InvocationHandler handler) {
        java.lang.reflect.Constructor<?> c = type == Connection.class ? CONNECTION : type == PreparedStatement.class ? PREPARED : STATEMENT;
        try {
            return (T) c.newInstance(handler);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Connection connection(Connection target, Plane plane) {
        plane.open().incrementAndGet(); // a plane replaced by a pushed config closes after its last connection
        return proxy(Connection.class, new ConnectionHandler(target, plane, new Session()));
    }

    /** A logical connection that shares {@code session}'s read-your-writes state with others made the same way. */
    /**
     * A connection whose masters are the given server connections ({@code masters}: group → connection), not the pools':
     * the proxy's relayed transactions over several groups run their multi-node statements on the server sessions the
     * relay pinned for them.
     */
    public static Connection connection(Plane plane, Session session, java.util.function.Function<String, Connection> masters) {
        ConnectionHandler h = new ConnectionHandler(null, plane, session);
        h.masters = masters;
        return proxy(Connection.class, h);
    }

    /**
     * The transaction of a connection made by {@link #connection(Plane, Session, java.util.function.Function)} ended
     * elsewhere (the proxy's relay committed or rolled back its server connections): forget its master connections, so
     * that the next transaction takes new ones from {@code masters}, and keep the rest (ShardingSphere's connection and
     * the statements prepared on it) for the next.
     */
    public static void transactionEndedElsewhere(Connection logical) {
        ConnectionHandler h = (ConnectionHandler) Proxy.getInvocationHandler(logical);
        synchronized (h) {
            h.inTransaction.clear();
            h.pins.keySet().removeIf(n -> NodeDataSource.MASTER.equals(n.role()));
        }
    }

    public static Connection connection(Connection target, Plane plane, Session session) {
        plane.open().incrementAndGet();
        return proxy(Connection.class, new ConnectionHandler(target, plane, session));
    }

    /** The logical connection whose call runs on this thread: ShardingSphere's master connections are its own. */
    private static final ThreadLocal<ConnectionHandler> OWNER = new ThreadLocal<>();

    /** The logical connection whose call is running on this thread, or null. */
    static ConnectionHandler owner() {
        return OWNER.get();
    }

    abstract static class Handler implements InvocationHandler {
        final Plane plane;
        final Session session;

        /** The logical connection this handler belongs to. */
        abstract ConnectionHandler connectionHandler();

        Handler(Plane plane, Session session) {
            this.plane = plane;
            this.session = session;
        }

        /** Answers the Object and Wrapper methods for the proxy itself; null when the call is for the target. */
        Object own(Object proxy, String name, Object[] args, String kind) {
            return switch (name) {
                case "unwrap" -> ((Class<?>) args[0]).isInstance(proxy) ? proxy : null;
                case "isWrapperFor" -> ((Class<?>) args[0]).isInstance(proxy) ? Boolean.TRUE : null;
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                case "toString" -> kind + "[cluster=" + plane.cluster() + "]";
                default -> null;
            };
        }

        Object call(Object target, Method method, Object[] args) throws Throwable {
            Session previous = session.enter();
            ConnectionHandler previousOwner = OWNER.get();
            ConnectionHandler owner = connectionHandler();
            OWNER.set(owner);
            // a statement of a transaction: a deadlock ends the whole transaction, checked or not; the check sees it run
            boolean inTransaction = !owner.autoCommit() && method.getName().startsWith("execute");
            boolean marked = inTransaction && owner.statementStarts();
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                SQLException deadlock = inTransaction ? owner.deadlockOutcome(cause) : null;
                if (deadlock != null) {
                    plane.router().metrics().error(dev.ballast.metrics.DataPlaneMetrics.SHARDING_SPHERE, deadlock.getSQLState());
                    throw deadlock;
                }
                SQLException shown;
                if (cause instanceof SQLException sql) {
                    shown = Errors.translate(sql, plane.cluster());
                } else if (cause instanceof RuntimeException runtime) {
                    shown = Errors.translate(runtime, plane.cluster());
                } else {
                    throw cause;
                }
                if (method.getName().startsWith("execute")) {
                    plane.router().metrics().error(dev.ballast.metrics.DataPlaneMetrics.SHARDING_SPHERE, shown.getSQLState());
                }
                throw shown;
            } finally {
                if (marked) {
                    owner.statementEnded();
                }
                Session.restore(previous);
                if (previousOwner == null) {
                    OWNER.remove();
                } else {
                    OWNER.set(previousOwner);
                }
            }
        }
    }

    static final class ConnectionHandler extends Handler implements Deadlocks.Transaction {
        private static final java.util.Set<String> SESSION_SETTINGS = java.util.Set.of("setCatalog", "setSchema",
                "setTransactionIsolation", "setReadOnly", "setHoldability", "setNetworkTimeout", "setClientInfo", "setTypeMap");
        /** ShardingSphere's logical connection, made on first need (a fast-path-only connection never needs one) */
        private Connection target;
        /** ShardingSphere connections replaced after a topology change; closed with this connection */
        private final java.util.List<Connection> retired = new java.util.ArrayList<>();
        private long topologyVersion;
        /**
         * physical connections this logical connection keeps, one per server (guarded by this handler: ShardingSphere may
         * reach a master's through {@link SharedMaster} from its executor threads)
         */
        private final java.util.Map<NodeDataSource, Connection> pins = new java.util.IdentityHashMap<>();
        private boolean autoCommit = true;
        /** where master connections come from instead of the router's pools (see {@link #connection(Plane, Session, java.util.function.Function)}) */
        private java.util.function.Function<String, Connection> masters;
        private boolean sessionSettingsChanged;
        private boolean closed;

        /** masters written or read inside the current transaction: COMMIT and ROLLBACK go to their pinned connections */
        private final java.util.Set<NodeDataSource> inTransaction = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        /** what ShardingSphere gets for each group's master unit: this connection's own pinned master connection */
        private final java.util.Map<String, Connection> sharedMasters = new java.util.HashMap<>();

        ConnectionHandler(Connection target, Plane plane, Session session) {
            super(plane, session);
            this.target = target;
            this.topologyVersion = plane.router().topology().version();
        }

        // ---- the deadlock check across groups (Deadlocks): read from its thread ----

        /** when the transaction took its first master connection (System.nanoTime) */
        private volatile long startedNanos;
        /** when the statement running in the transaction started (System.nanoTime), 0 while none is */
        private volatile long busySinceNanos;
        /** the transaction's master connections, as the servers name them */
        private volatile java.util.List<Deadlocks.Held> held = java.util.List.of();
        /** why the deadlock check chose this transaction to roll back, until the transaction ends; else null */
        private volatile String victim;

        @Override
        public long startedNanos() {
            return startedNanos;
        }

        @Override
        public long busySinceNanos() {
            return busySinceNanos;
        }

        @Override
        public java.util.List<Deadlocks.Held> held() {
            return held;
        }

        @Override
        public void victim(String why) {
            victim = why;
        }

        /** Whether the check watches this connection: its transactions are its own (not the proxy's pinned views). */
        private boolean watched() {
            return plane.deadlocks() != null && masters == null;
        }

        /**
         * A statement of the transaction starts (true: the deadlock check watches this connection and no statement of it
         * runs already; {@link #statementEnded} must follow).
         */
        boolean statementStarts() {
            if (busySinceNanos != 0 || !watched()) {
                return false;
            }
            busySinceNanos = System.nanoTime() | 1;
            return true;
        }

        void statementEnded() {
            busySinceNanos = 0;
        }

        /**
         * What a statement of the transaction fails with when it met a deadlock: a server's own (1213: it rolled back its
         * part, whether or not the check runs) or this transaction chosen by the check as the victim of one across groups
         * (its statement interrupted, 1317). Either way the whole transaction is rolled back now, on every master, which also releases the locks the
         * others wait for, and the error is 1213, SQLSTATE 40001. Null for any other failure.
         */
        SQLException deadlockOutcome(Throwable failure) {
            int code = 0;
            String message = null;
            for (Throwable t = failure; t != null && code == 0; t = t.getCause()) {
                if (t instanceof SQLException e && (e.getErrorCode() == 1213 || e.getErrorCode() == 1317)) {
                    code = e.getErrorCode();
                    message = e.getMessage();
                }
            }
            String why = victim;
            if (code == 0 || code == 1317 && why == null) {
                return null;
            }
            String text = code == 1213 ? "[cluster=" + plane.cluster() + "] " + message
                    + " (Ballast rolled the transaction back on every group)" : why;
            SQLException shown = new java.sql.SQLTransactionRollbackException(text, "40001", 1213, failure);
            try {
                if (target != null) {
                    target.rollback(); // ShardingSphere's own state (its master connections are shared: no-ops)
                }
            } catch (SQLException e) {
                shown.addSuppressed(e);
            }
            try {
                endTransaction(false);
            } catch (SQLException e) {
                shown.addSuppressed(e);
            }
            return shown;
        }

        /** The transaction's masters changed: what the deadlock check sees. */
        private void transactionHolds() {
            if (!watched()) {
                return;
            }
            if (inTransaction.isEmpty()) {
                plane.deadlocks().unregister(this);
                held = java.util.List.of();
                victim = null;
                return;
            }
            java.util.List<Deadlocks.Held> now = new java.util.ArrayList<>();
            for (NodeDataSource master : inTransaction) {
                Connection c = pins.get(master);
                if (c != null) {
                    try {
                        now.add(new Deadlocks.Held(master, c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getSession().getThreadId()));
                    } catch (SQLException | RuntimeException e) {
                        // not a Connector/J connection: the check cannot name it
                    }
                }
            }
            held = java.util.List.copyOf(now);
        }

        @Override
        ConnectionHandler connectionHandler() {
            return this;
        }

        boolean autoCommit() {
            return autoCommit;
        }

        /**
         * The physical connection to {@code group}'s current master that this logical connection uses for everything:
         * the fast path's statements and ShardingSphere's (through {@link #sharedMaster}), so that a transaction is one
         * transaction on each master whichever path runs its statements. Its autocommit mode follows this connection's.
         */
        synchronized Connection masterPin(String group) throws SQLException {
            NodeDataSource master = plane.router().master(group);
            Connection c = pins.get(master);
            if ((c == null || c.isClosed()) && !autoCommit && inTransaction.contains(master)) {
                throw new java.sql.SQLTransactionRollbackException("[cluster=" + plane.cluster() + " group=" + group
                        + "] this transaction's connection to " + master.address() + " was lost; roll back and start again",
                        "40001");
            }
            c = pin(master);
            if (c.getAutoCommit() != autoCommit) {
                c.setAutoCommit(autoCommit);
            }
            if (!autoCommit && inTransaction.add(master)) {
                if (inTransaction.size() == 1 && watched()) {
                    startedNanos = System.nanoTime();
                    victim = null;
                    plane.deadlocks().register(this);
                }
                transactionHolds();
            }
            return c;
        }

        /** The connection ShardingSphere gets for {@code group}'s master unit while this connection's call runs. */
        synchronized Connection sharedMaster(String group) {
            return sharedMasters.computeIfAbsent(group, g -> proxy(Connection.class, new SharedMaster(this, g)));
        }

        /** Commits or rolls back the transaction on every master it touched, one after the other (no XA). */
        private synchronized void endTransaction(boolean commit) throws SQLException {
            SQLException first = null;
            for (NodeDataSource master : java.util.List.copyOf(inTransaction)) {
                Connection c = pins.get(master);
                if (c == null || c.isClosed()) {
                    if (commit && first == null) {
                        first = new java.sql.SQLTransactionRollbackException("[cluster=" + plane.cluster() + "] the "
                                + "transaction's connection to " + master.describe() + " was lost: its part was rolled back",
                                "40001");
                    }
                    continue;
                }
                Session previous = session.enter();
                try {
                    if (commit) {
                        c.commit();
                    } else {
                        c.rollback();
                    }
                } catch (SQLException e) {
                    if (isConnectionFailure(e)) {
                        unpin(master);
                    }
                    SQLException shown = commit ? Errors.inDoubt(Errors.onNode(master, e), plane.cluster(), "COMMIT")
                            : Errors.onNode(master, e);
                    if (first == null) {
                        first = shown;
                    }
                } finally {
                    Session.restore(previous);
                }
            }
            inTransaction.clear();
            transactionHolds();
            if (first != null) {
                throw first;
            }
        }

        /**
         * ShardingSphere keeps the physical connections of a logical one for its whole life. After the topology
         * changed, an autocommit connection gets a fresh ShardingSphere connection for its next statement, so that it
         * writes to the new master instead of the old one (whose pool is being closed).
         */
        private void followTopology() throws SQLException {
            long v = plane.router().topology().version();
            if (v == topologyVersion || !autoCommit || closed) {
                return;
            }
            topologyVersion = v;
            if (target == null) {
                return;
            }
            retired.add(target);
            target = plane.shardingSphere().getConnection();
            if (sessionSettingsChanged) {
                org.slf4j.LoggerFactory.getLogger(Wrappers.class).warn("[cluster={}] a connection with changed session "
                        + "settings moved to a new topology; the settings apply to the old servers only", plane.cluster());
            }
        }

        /** ShardingSphere's connection for this logical one, made now if it was not needed before. */
        private Connection target() throws SQLException {
            if (target == null) {
                if (closed) {
                    throw new SQLException("[cluster=" + plane.cluster() + "] connection closed", "08003");
                }
                target = plane.shardingSphere().getConnection();
                if (!autoCommit) {
                    target.setAutoCommit(false);
                }
            }
            return target;
        }

        /** The fast path runs statements of a connection with default session settings, in a transaction or not. */
        boolean closed() {
            return closed;
        }

        boolean fastPathAllowed() {
            return !sessionSettingsChanged && !closed;
        }

        synchronized Connection pin(NodeDataSource node) throws SQLException {
            Connection c = pins.get(node);
            if (c == null || c.isClosed()) {
                // A master's connection comes through the router: it waits out a change of master instead of failing.
                c = !NodeDataSource.MASTER.equals(node.role()) ? node.getConnectionNoFallback()
                        : masters != null ? masters.apply(node.group()) : plane.router().masterConnection(node.group());
                pins.put(node, c);
            }
            return c;
        }

        synchronized void unpin(NodeDataSource node) {
            Connection c = pins.remove(node);
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // the pool discards a broken connection
                }
            }
        }

        /** ShardingSphere's metadata, with tables, columns, indexes and keys answered for logical tables. */
        private java.sql.DatabaseMetaData metaData(java.sql.DatabaseMetaData target, Connection connection) {
            return (java.sql.DatabaseMetaData) Proxy.newProxyInstance(Wrappers.class.getClassLoader(),
                    new Class<?>[]{java.sql.DatabaseMetaData.class}, (p, m, a) -> {
                        String name = m.getName();
                        if (name.equals("getConnection")) {
                            return connection;
                        }
                        if (dev.ballast.sysschema.SystemSchema.answersMetaData(name)) {
                            return plane.system().metaData(name, a);
                        }
                        Object own = own(p, name, a, "BallastDatabaseMetaData");
                        if (own != null) {
                            return own;
                        }
                        try {
                            return m.invoke(target, a);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        Object prepareThroughShardingSphere(Connection proxy, String sql) throws Throwable {
            Connection t = target();
            Object ps = call(t, Connection.class.getMethod("prepareStatement", String.class), new Object[]{SqlHints.rewrite(sql)});
            return proxy(PreparedStatement.class, new StatementHandler((Statement) ps, proxy, t, plane, session, this));
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            Object own = own(proxy, name, args, "BallastConnection");
            if (own != null) {
                return own;
            }
            if (name.equals("prepareStatement") || name.equals("prepareCall") || name.equals("createStatement")) {
                followTopology();
            }
            if (name.equals("prepareStatement") && args[0] instanceof String sql
                    && dev.ballast.sysschema.SystemSchema.handles(sql)) {
                // information_schema, SHOW about tables: answered for the logical tables, not by ShardingSphere
                return proxy(PreparedStatement.class, new SystemStatement(sql, plane, (Connection) proxy));
            }
            if (name.equals("prepareStatement") || name.equals("prepareCall")) {
                if (args.length == 1 && name.equals("prepareStatement")) {
                    dev.ballast.jdbc.fastpath.RouteTemplate template = plane.templates().of((String) args[0]);
                    if (template != null) {
                        // One data node: nothing to merge, so the merge guard has nothing to refuse.
                        return proxy(PreparedStatement.class, new FastStatement(template, (String) args[0], this, (Connection) proxy));
                    }
                }
                plane.guard().check((String) args[0], plane.cluster());
                args[0] = SqlHints.rewrite((String) args[0]);
            } else if (name.equals("nativeSQL")) {
                args[0] = SqlHints.rewrite((String) args[0]);
            } else if (name.equals("setAutoCommit")) {
                boolean on = (Boolean) args[0];
                Object r = target == null ? null : call(target, method, args);
                if (on && !autoCommit) {
                    endTransaction(true); // JDBC: switching autocommit on commits the transaction
                }
                autoCommit = on;
                return r;
            } else if (!autoCommit && (name.equals("commit") || name.equals("rollback") && (args == null || args.length == 0))) {
                if (closed) {
                    throw new SQLException("[cluster=" + plane.cluster() + "] connection closed", "08003");
                }
                boolean commit = name.equals("commit");
                try {
                    if (target != null) {
                        call(target, method, args); // ShardingSphere's own connections (its master ones are shared: no-ops)
                    }
                } catch (SQLException e) {
                    inTransaction.clear();
                    transactionHolds();
                    throw commit ? Errors.inDoubt(e, plane.cluster(), "COMMIT") : e;
                }
                endTransaction(commit);
                return null;
            } else if (target == null && (name.equals("getAutoCommit") || name.equals("isClosed") || name.equals("commit")
                    || name.equals("rollback") && (args == null || args.length == 0))) {
                // nothing went through ShardingSphere on this connection: answer without making its connection
                return switch (name) {
                    case "getAutoCommit" -> autoCommit;
                    case "isClosed" -> closed;
                    default -> {
                        if (closed) {
                            throw new SQLException("[cluster=" + plane.cluster() + "] connection closed", "08003");
                        }
                        yield null;
                    }
                };
            } else if (SESSION_SETTINGS.contains(name)) {
                sessionSettingsChanged = true;
            } else if (name.equals("close")) {
                if (!closed) {
                    plane.open().decrementAndGet();
                }
                closed = true; // fast statements of this connection now hand over to ShardingSphere, which reports it closed
                if (watched()) {
                    plane.deadlocks().unregister(this);
                }
                java.util.List<NodeDataSource> pinned;
                synchronized (this) {
                    pinned = java.util.List.copyOf(pins.keySet());
                }
                for (NodeDataSource node : pinned) {
                    unpin(node);
                }
                for (Connection old : retired) {
                    try {
                        old.close();
                    } catch (SQLException ignored) {
                        // its servers are gone; nothing to release
                    }
                }
                retired.clear();
                if (target == null) {
                    return null;
                }
            } else if (name.equals("commit")) {
                try {
                    return call(target, method, args);
                } catch (SQLException e) {
                    throw Errors.inDoubt(e, plane.cluster(), "COMMIT");
                }
            }
            Connection t = target();
            Object result = call(t, method, args);
            if (result instanceof java.sql.DatabaseMetaData md) {
                return metaData(md, (Connection) proxy);
            }
            if (result instanceof CallableStatement) {
                return result;
            }
            if (result instanceof Statement statement) {
                StatementHandler handler = new StatementHandler(statement, (Connection) proxy, t, plane, session, this);
                return result instanceof PreparedStatement ? proxy(PreparedStatement.class, handler) : proxy(Statement.class, handler);
            }
            return result;
        }
    }

    private static final class StatementHandler extends Handler {
        private final Statement target;
        private final Connection proxyConnection;
        private final Connection connection;
        private final ConnectionHandler owner;

        StatementHandler(Statement target, Connection proxyConnection, Connection connection, Plane plane, Session session,
                         ConnectionHandler owner) {
            super(plane, session);
            this.target = target;
            this.proxyConnection = proxyConnection;
            this.connection = connection;
            this.owner = owner;
        }

        @Override
        ConnectionHandler connectionHandler() {
            return owner;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("getConnection")) {
                return proxyConnection;
            }
            Object own = own(proxy, name, args, "BallastStatement");
            if (own != null) {
                return own;
            }
            if (system != null || name.startsWith("execute") && args != null && args.length > 0 && args[0] instanceof String text
                    && dev.ballast.sysschema.SystemSchema.handles(text)) {
                Object answered = systemCall(name, args);
                if (answered != NOT_SYSTEM) {
                    return answered;
                }
            }
            if (args != null && args.length > 0 && args[0] instanceof String sql
                    && (name.startsWith("execute") || name.equals("addBatch"))) {
                plane.guard().check(sql, plane.cluster());
                args[0] = SqlHints.rewrite(sql);
            }
            if (name.equals("executeQuery")) {
                return query(method, args);
            }
            Object result;
            try {
                result = call(target, method, args);
            } catch (SQLException e) {
                if (name.startsWith("execute") && connection.getAutoCommit()) {
                    throw Errors.inDoubt(e, plane.cluster(), "an autocommit statement");
                }
                throw e;
            }
            if (name.startsWith("executeUpdate") || name.startsWith("executeLargeUpdate") || name.contains("Batch")
                    && name.startsWith("execute") || name.equals("execute") && Boolean.FALSE.equals(result)) {
                session.wrote();
            }
            return result;
        }

        /** the answer of the last system-schema statement this statement ran, until the next one runs */
        private java.sql.ResultSet system;
        private static final Object NOT_SYSTEM = new Object();

        /** The calls of a system-schema statement (and the result calls after it); NOT_SYSTEM for the target's. */
        private Object systemCall(String name, Object[] args) throws SQLException {
            if (name.startsWith("execute") && args != null && args.length > 0 && args[0] instanceof String sql
                    && dev.ballast.sysschema.SystemSchema.handles(sql)) {
                system = plane.system().answer(sql, java.util.List.of());
                return switch (name) {
                    case "executeQuery" -> system;
                    case "execute" -> Boolean.TRUE;
                    default -> throw new SQLException("[cluster=" + plane.cluster() + "] " + name
                            + " cannot run a query of the system schema; use executeQuery or execute: " + sql, "42000");
                };
            }
            switch (name) {
                case "getResultSet" -> {
                    return system;
                }
                case "getUpdateCount" -> {
                    return -1;
                }
                case "getLargeUpdateCount" -> {
                    return -1L;
                }
                case "getMoreResults" -> {
                    system = null;
                    return false;
                }
                default -> {
                    if (name.startsWith("execute") || name.equals("close")) {
                        system = null; // the target's own statement from here on
                    }
                    return NOT_SYSTEM;
                }
            }
        }

        /** A read whose replica failed before any row came back is retried once; the replica is ejected first. */
        private Object query(Method method, Object[] args) throws Throwable {
            session.takeLastReplica();
            try {
                return call(target, method, args);
            } catch (SQLException e) {
                NodeDataSource replica = session.takeLastReplica();
                if (replica == null || !isConnectionFailure(e) || !connection.getAutoCommit()) {
                    throw e;
                }
                plane.router().readFailedOn(replica, e);
                return call(target, method, args);
            }
        }
    }

    /**
     * What ShardingSphere holds for a master storage unit of one logical connection: every call goes to that
     * connection's pinned master connection ({@link ConnectionHandler#masterPin}), looked up when it is made, so it
     * follows a new master; closing, committing and rolling back are the logical connection's to do.
     */
    private static final class SharedMaster implements InvocationHandler {
        private final ConnectionHandler owner;
        private final String group;

        SharedMaster(ConnectionHandler owner, String group) {
            this.owner = owner;
            this.group = group;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close", "commit", "setAutoCommit" -> {
                    return null;
                }
                case "rollback" -> {
                    if (args == null || args.length == 0) {
                        return null; // a savepoint's rollback goes through
                    }
                }
                case "isClosed" -> {
                    return owner.closed;
                }
                case "getAutoCommit" -> {
                    return owner.autoCommit;
                }
                case "unwrap" -> {
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                }
                case "isWrapperFor" -> {
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return true;
                    }
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "toString" -> {
                    return "BallastSharedMaster[" + group + "]";
                }
                default -> {
                }
            }
            try {
                return method.invoke(owner.masterPin(group), args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    static boolean isConnectionFailure(Throwable e) {
        // ShardingSphere reports a failed commit as an empty SQLException with the real ones chained as "next".
        if (e instanceof SQLException s && s.getNextException() != null && s.getNextException() != s
                && isConnectionFailure(s.getNextException())) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
                return true;
            }
            if (t.getClass().getSimpleName().equals("CommunicationsException")) {
                return true;
            }
        }
        return false;
    }
}
