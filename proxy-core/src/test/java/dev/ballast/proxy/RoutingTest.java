package dev.ballast.proxy;

import dev.ballast.proxy.Routing.Executor;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The routing function, row by row: the client's packet (decoded on EmbeddedChannel) and its session → the executor. */
class RoutingTest {

    private static Command decode(ByteBuf wire) {
        EmbeddedChannel ch = new EmbeddedChannel(new PacketDecoder(1 << 20, null));
        ch.writeInbound(wire);
        Command c = Command.decode(ch.readInbound());
        ch.finishAndReleaseAll();
        return c;
    }

    private static Command command(String kind, int sequence) {
        ByteBufAllocator a = ByteBufAllocator.DEFAULT;
        ByteBuf wire = switch (kind) {
            case "execute" -> {
                ByteBuf p = Unpooled.buffer().writeByte(Command.COM_STMT_EXECUTE).writeIntLE(1).writeByte(0).writeIntLE(1);
                ByteBuf w = Unpooled.buffer();
                Codec.frame(w, sequence, p);
                yield w;
            }
            case "query" -> Codec.command(a, Command.COM_QUERY, "SELECT 1");
            case "begin" -> Codec.command(a, Command.COM_QUERY, "BEGIN");
            case "start" -> Codec.command(a, Command.COM_QUERY, "start  transaction");
            case "begin-and-more" -> Codec.command(a, Command.COM_QUERY, "BEGIN; SELECT 1");
            case "prepare" -> Codec.command(a, Command.COM_STMT_PREPARE, "SELECT ?");
            case "ping" -> Codec.command(a, Command.COM_PING, "");
            case "reset" -> Codec.command(a, Command.COM_RESET_CONNECTION, "");
            case "quit" -> Codec.command(a, Command.COM_QUIT, "");
            default -> throw new IllegalArgumentException(kind);
        };
        wire.setByte(3, sequence);
        return decode(wire);
    }

    private static SessionState session(String name) {
        SessionState s = new SessionState();
        Consumer<SessionState> change = switch (name) {
            case "autocommit" -> x -> { };
            case "begun" -> SessionState::begun;
            case "autocommit-off" -> x -> x.autocommit(false);
            case "sharded-open" -> x -> {
                x.begun();
                x.shardedStarted(new ShardedTransaction(null, null, null, 0, "c", "db", 1000));
            };
            case "prepared-begin" -> x -> x.addPrepared("BEGIN", 0, new Columns.Column[0]); // statement id 1
            case "relayed-lost" -> x -> {
                x.begun();
                x.relayedTransactionLost("server gone");
            };
            default -> throw new IllegalArgumentException(name);
        };
        change.accept(s);
        return s;
    }

    @ParameterizedTest(name = "{0} (seq {1}) in a session {2}, relay={3} transactions={4} -> {5}")
    @CsvSource({
            "execute, 0, autocommit,     true,  false, RELAY_STATEMENT",
            "execute, 0, autocommit,     true,  true,  RELAY_STATEMENT",
            "execute, 0, autocommit,     false, false, JDBC",
            "execute, 3, autocommit,     true,  true,  JDBC",
            "query,   0, autocommit,     true,  true,  JDBC",
            "prepare, 0, autocommit,     true,  true,  JDBC",
            "ping,    0, autocommit,     true,  true,  JDBC",
            "execute, 0, begun,          true,  false, JDBC",
            "execute, 0, begun,          true,  true,  RELAY_TRANSACTION",
            "query,   0, begun,          true,  true,  RELAY_TRANSACTION",
            "query,   0, autocommit-off, true,  true,  RELAY_TRANSACTION",
            "query,   0, autocommit-off, true,  false, JDBC",
            "prepare, 0, begun,          true,  true,  JDBC",
            "ping,    0, begun,          true,  true,  JDBC",
            "reset,   0, relayed-lost,   true,  true,  RELAY_TRANSACTION",
            "quit,    0, relayed-lost,   true,  true,  RELAY_TRANSACTION",
            "reset,   0, autocommit,     true,  true,  JDBC",
            "execute, 0, relayed-lost,   true,  true,  RELAY_TRANSACTION",
            "execute, 0, relayed-lost,   true,  false, JDBC",
            "query,   0, relayed-lost,   true,  true,  RELAY_TRANSACTION",
            "begin,   0, autocommit,     true,  true,  BEGIN",
            "begin,   0, begun,          true,  true,  BEGIN",
            "start,   0, autocommit-off, true,  true,  BEGIN",
            "execute, 0, prepared-begin, true,  true,  BEGIN",
            "execute, 0, prepared-begin, true,  false, RELAY_STATEMENT",
            "begin,   0, autocommit,     true,  false, JDBC",
            "begin,   0, autocommit,     false, true,  JDBC",
            "begin,   3, autocommit,     true,  true,  JDBC",
            "begin,   0, relayed-lost,   true,  true,  RELAY_TRANSACTION",
            "begin-and-more, 0, autocommit, true, true, JDBC",
    })
    void theExecutorForACommand(String kind, int sequence, String session, boolean relay, boolean transactions,
                                Executor expected) {
        Command c = command(kind, sequence);
        try {
            assertEquals(expected, Routing.route(c, session(session), relay, transactions));
        } finally {
            c.release();
        }
    }

    @ParameterizedTest(name = "{0} (seq {1}) in a session {2}, relay={3}, sharded transactions={4} -> {5}")
    @CsvSource({
            "execute, 0, autocommit,     true,  true,  RELAY_STATEMENT",
            "execute, 0, begun,          true,  true,  RELAY_SHARDED_TRANSACTION",
            "execute, 0, begun,          true,  false, JDBC",
            "execute, 3, begun,          true,  true,  JDBC",
            "query,   0, autocommit-off, true,  true,  RELAY_SHARDED_TRANSACTION",
            "query,   0, autocommit,     true,  true,  JDBC",
            "prepare, 0, begun,          true,  true,  JDBC",
            "ping,    0, sharded-open,   true,  true,  JDBC",
            "execute, 0, sharded-open,   true,  true,  RELAY_SHARDED_TRANSACTION",
            "query,   0, sharded-open,   true,  true,  RELAY_SHARDED_TRANSACTION",
            "reset,   0, sharded-open,   true,  true,  RELAY_SHARDED_TRANSACTION",
            "quit,    0, sharded-open,   true,  true,  RELAY_SHARDED_TRANSACTION",
            "query,   0, sharded-open,   false, true,  JDBC",
            "begin,   0, autocommit,     true,  true,  BEGIN",
            "begin,   0, sharded-open,   true,  true,  RELAY_SHARDED_TRANSACTION",
            "execute, 0, prepared-begin, true,  true,  BEGIN",
    })
    void theExecutorForACommandWithTransactionsOverSeveralGroups(String kind, int sequence, String session, boolean relay,
                                                                 boolean sharded, Executor expected) {
        Command c = command(kind, sequence);
        try {
            assertEquals(expected, Routing.route(c, session(session), relay, false, sharded));
        } finally {
            c.release();
        }
    }

    @Test
    void aTransactionOverSeveralGroupsIsPartOfTheSession() {
        SessionState s = new SessionState();
        s.autocommit(false);
        s.shardedStarted(new ShardedTransaction(null, null, null, 0, "c", "db", 1000));
        assertEquals(SessionState.STATUS_IN_TRANS, s.status());
        assertFalse(s.transactionWanted(), "it has started");
        assertFalse(s.autocommitStatement());
        s.shardedEnded(Boolean.TRUE);
        assertEquals(null, s.sharded());
        assertTrue(s.autocommitStatement(), "SET autocommit=1 ended it");
    }

    @Test
    void theSessionOwnsTheTransactionState() {
        SessionState s = new SessionState();
        assertTrue(s.autocommitStatement());
        assertEquals(SessionState.STATUS_AUTOCOMMIT, s.status());
        s.begun();
        assertFalse(s.autocommitStatement());
        assertTrue(s.transactionWanted());
        assertEquals(SessionState.STATUS_AUTOCOMMIT | SessionState.STATUS_IN_TRANS, s.status());
        s.relayedTransactionLost("gone");
        assertTrue(s.relayedTransactionOpen());
        s.relayedTransactionEnded(null);
        assertFalse(s.relayedTransactionOpen());
        assertTrue(s.autocommitStatement(), "ending the relayed transaction ends the BEGIN too");
        s.autocommit(false);
        assertEquals(0, s.status(), "autocommit off and nothing run yet: not in a transaction");
        s.relayedTransactionEnded(Boolean.TRUE);
        assertTrue(s.autocommit(), "SET autocommit=1 ended it");
        SessionState.Prepared p = s.addPrepared("SELECT ?", 1, new Columns.Column[0]);
        assertEquals(p, s.prepared(p.id));
        s.reset();
        assertEquals(null, s.prepared(p.id));
    }
}
