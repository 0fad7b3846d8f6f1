package dev.ballast.rules;

import java.util.Map;
import java.util.Optional;

/**
 * The {@code proxy:} section: the MySQL-protocol frontend ({@code bin/ballast-proxy}).
 *
 * @param listen          where clients connect, default {@code 127.0.0.1:3307}
 * @param health          the HTTP health endpoint ({@code GET /health}), default {@code 127.0.0.1:3308}; empty = off
 * @param maxConnections  client connections at most; one more is refused with error 1040, default 2000
 * @param idleTimeoutMs   an idle client connection is closed after this long, default 28800000 (8 h, as
 *                        {@code wait_timeout})
 * @param maxPacketBytes  the largest command a client may send, default 67108864 (64 MiB, as {@code max_allowed_packet})
 * @param workerThreads   threads that run statements (each running statement holds one), default 64
 * @param users           who may log in, by user name; passwords are stored as hashes only
 * @param tls             TLS towards clients, off when empty
 * @param relay           relay single-node prepared statements in autocommit mode to their server over the proxy's own
 *                        protocol connections, without decoding their results, default true; false sends every
 *                        statement through the JDBC data plane
 * @param relayConnections the relay's connections per server and event loop at most (a relayed statement holds one while
 *                        it runs; with none free it takes the JDBC path), default 32
 * @param drainTimeoutMs  on SIGTERM the proxy drains: {@code GET /health} answers 404, no new client is accepted, and it
 *                        waits this long at most for its clients to close their connections (running statements and open
 *                        transactions finish) before it closes the rest and exits, default 60000; 0 = close at once
 * @param relayShardedTransactions with several groups (or renamed tables), relay a transaction's single-node statements
 *                        on one pinned server connection per group, and run its other statements through ShardingSphere
 *                        on those same connections, default true; false runs such transactions on the JDBC path
 * @param relayMerge      in such a relayed transaction, a SELECT on one sharded table that needs every data node and a
 *                        plain merge (rows in node order, ORDER BY columns, DISTINCT over them, LIMIT, COUNT/SUM/MIN/MAX
 *                        without GROUP BY) is sent to each node on the pinned connections and merged by the proxy,
 *                        default true; false runs it through ShardingSphere (on the same connections)
 */
public record ProxySettings(Endpoint listen, Optional<Endpoint> health, int maxConnections, long idleTimeoutMs,
                            int maxPacketBytes, int workerThreads, Map<String, ProxyUser> users, Optional<Tls> tls,
                            boolean relay, int relayConnections, long drainTimeoutMs, boolean relayShardedTransactions,
                            boolean relayMerge) {

    /**
     * TLS for clients: a PEM certificate (chain) and its PEM private key (PKCS#8, unencrypted); with {@code required},
     * a client that does not switch to TLS is refused.
     */
    public record Tls(java.nio.file.Path certificate, java.nio.file.Path privateKey, boolean required) {
    }

    public static final ProxySettings DEFAULTS = new ProxySettings(new Endpoint("127.0.0.1", 3307),
            Optional.of(new Endpoint("127.0.0.1", 3308)), 2000, 28_800_000L, 64 << 20, 64, Map.of(), Optional.empty(), true, 32,
            60_000L, true, true);

    public ProxySettings {
        users = Map.copyOf(users);
    }

    /** An address to listen on; port 0 lets the system choose a free one. */
    public record Endpoint(String host, int port) {
        public Endpoint {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("host must not be empty");
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is not in 0..65535");
            }
        }

        public static Endpoint parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || colon == text.length() - 1) {
                throw new IllegalArgumentException("'" + text + "' is not host:port");
            }
            try {
                return new Endpoint(text.substring(0, colon), Integer.parseInt(text.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is not host:port (port is not a number)");
            }
        }

        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /**
     * A proxy user: {@code nativeHash} is MySQL's {@code mysql_native_password} hash ({@code *} + hex of
     * SHA1(SHA1(password)), what {@code PASSWORD()} returns); {@code sha2Hash} is the hex of SHA256(SHA256(password)),
     * what {@code caching_sha2_password}'s fast authentication checks against. {@code ballast hash-password} prints both.
     */
    public record ProxyUser(String name, Optional<String> nativeHash, Optional<String> sha2Hash) {
        @Override
        public String toString() {
            return "ProxyUser[" + name + "]";
        }
    }
}
