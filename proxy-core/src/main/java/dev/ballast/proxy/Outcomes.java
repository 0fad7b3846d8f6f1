package dev.ballast.proxy;

/**
 * What the client is told when a relayed command meets trouble: one pure function per kind of trouble, from what had
 * happened (the command's {@link Mode}, whether it reads, whether the execute reached the server, whether any reply byte
 * reached the client) to an {@link Outcome}. The relay acts on the outcome; nothing here touches a connection.
 *
 * <p>The rule behind the table: a command may be run again elsewhere (the JDBC path) only while nothing it did can have
 * taken effect and the client has seen nothing of it. A write or COMMIT whose execute reached a server that then went
 * silent may have been committed: SQLSTATE 08007 (outcome unknown), never sent twice. Inside a transaction there is no
 * "elsewhere": its connection held its locks and its snapshot, so a broken connection loses the transaction (40001).
 */
final class Outcomes {

    private Outcomes() {
    }

    /** What a relayed command does to the client's session and the server connection when it ends. */
    enum Mode {
        /** an autocommit statement: the connection goes back to the pool */
        SINGLE,
        /** a statement inside a relayed transaction: the connection stays with the client */
        IN_TRANSACTION,
        /** COMMIT or ROLLBACK of a relayed transaction: the connection goes back to the pool */
        END,
        /** SET autocommit = 1 ending a relayed transaction: COMMIT, then autocommit mode */
        END_AUTOCOMMIT
    }

    enum Outcome {
        /** nothing reached the client and nothing can have taken effect: the JDBC path runs the command */
        FALL_BACK,
        /** as FALL_BACK, for a read whose server failed: that replica gets no reads until its next healthy probe */
        EJECT_AND_FALL_BACK,
        /** the client gets the server's own reply (an error included) as it is */
        PASS_ON,
        /** error 1105 SQLSTATE 08007: a write or COMMIT may or may not have been committed; check before retrying */
        OUTCOME_UNKNOWN,
        /** error 1180 SQLSTATE 40001: the transaction is lost (rolled back by the server); start it again */
        TRANSACTION_LOST,
        /** error 2013: the connection broke while the reply was being relayed (the client has part of it) */
        CONNECTION_LOST,
        /** OK: a ROLLBACK whose connection broke; the server rolls back a transaction whose connection closes */
        ROLLED_BACK,
        /** the client is gone: end the command, tell nobody */
        NOTHING
    }

    /** What had happened when the relayed command's server connection broke (or its login or prepare failed). */
    record Failure(Mode mode, boolean read, boolean executeSent, boolean forwarded, boolean startedTransaction,
                   boolean rollback, boolean clientGone) {
    }

    /** The server connection broke (closed, timed out, could not connect) while the command was in flight. */
    static Outcome connectionBroke(Failure f) {
        if (f.clientGone()) {
            return Outcome.NOTHING;
        }
        if (f.mode() == Mode.SINGLE) {
            if (f.forwarded()) {
                return Outcome.CONNECTION_LOST;
            }
            if (f.read()) {
                return Outcome.EJECT_AND_FALL_BACK;
            }
            return f.executeSent() ? Outcome.OUTCOME_UNKNOWN : Outcome.FALL_BACK;
        }
        if (f.startedTransaction() && !f.executeSent() && !f.forwarded()) {
            return Outcome.FALL_BACK; // broke before the transaction's first statement ran: nothing to lose yet
        }
        if (f.mode() == Mode.END || f.mode() == Mode.END_AUTOCOMMIT) {
            return f.rollback() ? Outcome.ROLLED_BACK : Outcome.OUTCOME_UNKNOWN;
        }
        return f.forwarded() ? Outcome.CONNECTION_LOST : Outcome.TRANSACTION_LOST;
    }

    /**
     * The server answered with an error. Only a write refused as read-only (1290) before any byte reached the client,
     * in autocommit mode, goes again: a switchover fenced the master, nothing was written, and the JDBC path waits for
     * the new master.
     */
    static Outcome serverError(Mode mode, boolean read, boolean forwarded, int code) {
        return code == 1290 && !read && !forwarded && mode == Mode.SINGLE ? Outcome.FALL_BACK : Outcome.PASS_ON;
    }

    /**
     * The server could not prepare the statement. In autocommit mode the JDBC path runs it and reports the error with the
     * node's name (or finds another way); inside a relayed transaction the client gets the server's error.
     */
    static Outcome prepareFailed(Mode mode, boolean clientGone) {
        if (clientGone) {
            return Outcome.NOTHING;
        }
        return mode == Mode.SINGLE ? Outcome.FALL_BACK : Outcome.PASS_ON;
    }

    /**
     * A statement arrives after the relayed transaction's connection broke, before the client ended that transaction.
     * {@code first} is its first keyword (COMMIT for SET autocommit = 1).
     */
    static Outcome afterLostTransaction(String first) {
        return switch (first) {
            case "ROLLBACK" -> Outcome.ROLLED_BACK;
            default -> Outcome.TRANSACTION_LOST;
        };
    }
}
