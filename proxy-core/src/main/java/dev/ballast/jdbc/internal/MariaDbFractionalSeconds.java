package dev.ballast.jdbc.internal;

import com.mysql.cj.MysqlConnection;
import com.mysql.cj.ServerVersion;
import com.mysql.cj.jdbc.interceptors.ConnectionLifecycleInterceptor;
import com.mysql.cj.log.Log;
import com.mysql.cj.protocol.ServerCapabilities;
import com.mysql.cj.protocol.ServerSession;
import com.mysql.cj.protocol.a.NativeCapabilities;
import com.mysql.cj.protocol.a.NativePacketPayload;

import java.sql.Savepoint;
import java.util.Locale;
import java.util.Properties;

/**
 * Keeps the fraction of a second of TIMESTAMP, DATETIME and TIME parameters that the data plane's Connector/J connections
 * send to MariaDB 10.x.
 *
 * <p>MariaDB before 11 opens every connection with the version "5.5.5-10.11.x-MariaDB" (the prefix is for old
 * replication clients). Connector/J reads the leading 5.5.5, decides once per connection that the server predates
 * fractional seconds (MySQL 5.6.4) and from then on truncates every temporal parameter to whole seconds, silently: a
 * {@code LocalDateTime} of 09:30:01.250 is stored as 09:30:01. MariaDB has had microseconds since 5.3. This Connector/J
 * connection lifecycle interceptor (its documented extension point, run once the handshake is done) gives such a
 * connection capabilities that say what the server can do; every other connection is left as it is.
 */
public final class MariaDbFractionalSeconds implements ConnectionLifecycleInterceptor {

    /** The Connector/J property value that installs this interceptor. */
    public static final String PROPERTY = "connectionLifecycleInterceptors";

    @Override
    public ConnectionLifecycleInterceptor init(MysqlConnection conn, Properties props, Log log) {
        ServerSession server = conn.getSession().getServerSession();
        ServerCapabilities c = server.getCapabilities();
        if (c instanceof NativeCapabilities n && !n.serverSupportsFracSecs() && isMariaDb(n.getServerVersion())) {
            server.setCapabilities(Capabilities.of(n));
        }
        return this;
    }

    /** Whether the handshake's version is MariaDB's ("5.5.5-10.11.6-MariaDB-0+deb12u1"), which has fractional seconds. */
    static boolean isMariaDb(ServerVersion v) {
        return v != null && v.toString().toLowerCase(Locale.ROOT).contains("mariadb");
    }

    /** The same handshake read again, with fractional seconds supported. */
    private static final class Capabilities extends NativeCapabilities {

        private Capabilities(NativePacketPayload handshake) {
            super(handshake);
        }

        static Capabilities of(NativeCapabilities original) {
            NativePacketPayload handshake = original.getInitialHandshakePacket();
            int position = handshake.getPosition();
            handshake.setPosition(0);
            Capabilities c;
            try {
                c = new Capabilities(handshake);
            } finally {
                handshake.setPosition(position);
            }
            // what the connection negotiated after the handshake was read
            c.setCapabilityFlags(original.getCapabilityFlags());
            c.setThreadId(original.getThreadId());
            return c;
        }

        @Override
        public boolean serverSupportsFracSecs() {
            return true;
        }
    }

    // ---- the rest of the lifecycle: nothing to do ---------------------------------------------------------

    @Override
    public void destroy() {
    }

    @Override
    public void close() {
    }

    @Override
    public boolean commit() {
        return true;
    }

    @Override
    public boolean rollback() {
        return true;
    }

    @Override
    public boolean rollback(Savepoint savepoint) {
        return true;
    }

    @Override
    public boolean setAutoCommit(boolean autoCommit) {
        return true;
    }

    @Override
    public boolean setDatabase(String db) {
        return true;
    }

    @Override
    public boolean transactionBegun() {
        return true;
    }

    @Override
    public boolean transactionCompleted() {
        return true;
    }
}
