package dev.ballast.jdbc.internal;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The fast path leaves every spelling of the master hint to ShardingSphere (which sends it to the master). */
class TemplatesTest {

    static final ClusterConfig CONFIG = ClusterConfigLoader.parse("""
            name: t
            database: d
            credentials: {user: app}
            groups:
              g0: {master: 127.0.0.1:1}
              g1: {master: 127.0.0.1:2}
            tables:
              t_order:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
            """, Map.<String, String>of()::get);

    @ParameterizedTest
    @ValueSource(strings = {
            "/*ballast:master*/ SELECT id FROM t_order WHERE user_id = ?",
            "/* BALLAST:MASTER */ SELECT id FROM t_order WHERE user_id = ?",
            "/*  ballast : master */ SELECT id FROM t_order WHERE user_id = ?",
            "SELECT id FROM t_order WHERE user_id = ? /*Ballast:Master*/",
    })
    void hintedStatementsHaveNoTemplate(String sql) {
        Templates templates = new Templates(CONFIG);
        assertNull(templates.of(sql), sql);
        assertNull(templates.of(sql), "cached: " + sql);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT id FROM t_order WHERE user_id = ?",
            "SELECT id FROM t_order WHERE user_id = ? AND pad = '/* ballast:master */'",
    })
    void statementsWithoutTheHintKeepTheirTemplate(String sql) {
        assertNotNull(new Templates(CONFIG).of(sql), sql);
    }
}
