package dev.ballast.rules;

import java.util.Map;

/**
 * Connection pool settings, applied to the pool of every physical server.
 *
 * @param maxPoolSize         connections per server, at most
 * @param minIdle             idle connections kept per server
 * @param connectionTimeoutMs how long a statement waits for a pooled connection
 * @param idleTimeoutMs       idle connections above minIdle are closed after this
 * @param maxLifetimeMs       a connection is retired after this
 * @param connectTimeoutMs    TCP connect and handshake timeout (a hung server must not hang clients)
 * @param socketTimeoutMs     read timeout on an open connection; 0 = none
 * @param jdbcProperties      extra Connector/J properties, passed as they are
 */
public record PoolSettings(int maxPoolSize, int minIdle, long connectionTimeoutMs, long idleTimeoutMs,
                           long maxLifetimeMs, int connectTimeoutMs, int socketTimeoutMs,
                           Map<String, String> jdbcProperties) {

    public static final PoolSettings DEFAULTS =
            new PoolSettings(10, 2, 3_000, 600_000, 1_800_000, 2_000, 30_000, Map.of());

    public PoolSettings {
        jdbcProperties = Map.copyOf(jdbcProperties);
    }
}
