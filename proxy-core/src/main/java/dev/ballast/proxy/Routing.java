package dev.ballast.proxy;

/**
 * The one routing function: which executor runs a client's command. The relay sends bytes to one server on the
 * client's event loop; the JDBC path runs the command on a worker thread through the Ballast data plane (ShardingSphere,
 * the fast path, the read router) and answers everything else. A relay executor that cannot take the command after all
 * (no idle server connection, no single-node route, long data …) hands it to the JDBC path, so the choice here is
 * where to try first. A new executor (an answerer of its own, say) is one more {@link Executor} and one more line here.
 */
final class Routing {

    private Routing() {
    }

    enum Executor {
        /** an autocommit prepared statement on one data node: relayed to that node's server */
        RELAY_STATEMENT,
        /** a statement of a transaction the relay carries (or is to start, or lost) */
        RELAY_TRANSACTION,
        /** a statement of a transaction over several groups the relay carries (or is to start, or lost) */
        RELAY_SHARDED_TRANSACTION,
        /**
         * BEGIN or START TRANSACTION while no transaction has started, where transactions are relayed (they start with
         * their first statement): the session notes it and answers on the event loop
         */
        BEGIN,
        /** the JDBC data plane on a worker thread */
        JDBC
    }

    /**
     * @param relay             proxy.relay is on
     * @param relayTransactions whole transactions are relayed (see {@code ProxyServer.relaysTransactions})
     */
    static Executor route(Command c, SessionState s, boolean relay, boolean relayTransactions) {
        return route(c, s, relay, relayTransactions, false);
    }

    /** @param relayShardedTransactions transactions over several groups are relayed ({@code ProxyServer.relaysShardedTransactions}) */
    static Executor route(Command c, SessionState s, boolean relay, boolean relayTransactions, boolean relayShardedTransactions) {
        if (!relay || c.sequence() != 0) {
            return Executor.JDBC;
        }
        if ((relayTransactions || relayShardedTransactions) && s.nothingStarted() && begins(c, s)) {
            return Executor.BEGIN;
        }
        if (relayShardedTransactions && (s.sharded() != null || s.transactionWanted())
                && (c instanceof Command.Query || c instanceof Command.Execute || c instanceof Command.ResetConnection
                || c instanceof Command.Quit)) {
            return Executor.RELAY_SHARDED_TRANSACTION;
        }
        if (relayTransactions && (s.relayedTransactionOpen() || s.transactionWanted())
                && (c instanceof Command.Query || c instanceof Command.Execute || c instanceof Command.ResetConnection
                || c instanceof Command.Quit)) {
            return Executor.RELAY_TRANSACTION;
        }
        if (c instanceof Command.Execute && s.autocommitStatement()) {
            return Executor.RELAY_STATEMENT;
        }
        return Executor.JDBC;
    }

    /** Whether the command is a BEGIN: a query of its own, or the execute of a prepared one. */
    private static boolean begins(Command c, SessionState s) {
        if (c instanceof Command.Execute x) {
            SessionState.Prepared p = s.prepared(x.statementId());
            return p != null && p.begins;
        }
        return c instanceof Command.Query q && Sql.begins(q.sql());
    }
}
