package dev.ballast.jdbc.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one logical connection has written, for read-your-writes: per group, the GTID its last commit got
 * on the master (reported by the server in the OK packet, so it costs no round trip) and when it last
 * wrote. The logical connection makes itself {@link #current()} on the calling thread while a JDBC
 * call runs; routing and pool borrowing on that thread read it from there.
 */
public final class Session {

    private static final ThreadLocal<Session> CURRENT = new ThreadLocal<>();

    private final Map<String, String> lastGtid = new ConcurrentHashMap<>();
    private volatile long lastWriteNanos;
    private volatile boolean anyWrite;
    /** the replica the last read was routed to, so that a failed read can eject it and go elsewhere */
    private volatile NodeDataSource lastReplica;

    /** A new session: nothing written yet. */
    public Session() {
    }

    public static Session current() {
        return CURRENT.get();
    }

    /** Makes this session current; returns the previous one, to restore in a finally block. */
    Session enter() {
        Session previous = CURRENT.get();
        CURRENT.set(this);
        return previous;
    }

    static void restore(Session previous) {
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** Called from a master connection when the server reports the GTID of a commit. */
    public void committed(String group, String gtid) {
        lastGtid.put(group, gtid);
        wrote();
    }

    public void wrote() {
        anyWrite = true;
        lastWriteNanos = System.nanoTime();
    }

    /** The GTID of this connection's last commit on {@code group}'s master, or null. */
    public String lastGtid(String group) {
        return lastGtid.get(group);
    }

    /** Nanoseconds since this connection's last write, or Long.MAX_VALUE if it never wrote. */
    public long nanosSinceWrite() {
        return anyWrite ? System.nanoTime() - lastWriteNanos : Long.MAX_VALUE;
    }

    void routedTo(NodeDataSource replica) {
        lastReplica = replica;
    }

    /** The replica chosen since the last call, clearing it. */
    NodeDataSource takeLastReplica() {
        NodeDataSource r = lastReplica;
        lastReplica = null;
        return r;
    }
}
