package dev.ballast.jdbc.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SqlHintsTest {

    static final String WRITE_ROUTE = "/* SHARDINGSPHERE_HINT: WRITE_ROUTE_ONLY=true */ ";

    @Test
    void statementWithoutHintIsPassedAsTheSameInstance() {
        String sql = "SELECT * FROM t_order WHERE user_id = ?";
        assertSame(sql, SqlHints.rewrite(sql));
        assertSame(null, SqlHints.rewrite(null));
        assertFalse(SqlHints.hasMasterHint(null));
    }

    @Test
    void masterHintAnywhereBecomesShardingSphereWriteRouteHintAtTheStart() {
        assertEquals(WRITE_ROUTE + "SELECT 1 FROM t ", SqlHints.rewrite("SELECT 1 FROM t /* ballast:master */"));
        assertEquals(WRITE_ROUTE + " SELECT 1", SqlHints.rewrite("/* ballast:master */ SELECT 1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/*ballast:master*/ SELECT 1 FROM t",
            "/* BALLAST:MASTER */ SELECT 1 FROM t",
            "/*  ballast : master */ SELECT 1 FROM t",
            "/* Ballast:Master */ SELECT 1 FROM t",
            "/*\tballast\n:\r\nmaster\t*/ SELECT 1 FROM t",
            "/*ballast :master*/ SELECT 1 FROM t",
            "/*ballast: master*/ SELECT 1 FROM t",
            "SELECT 1 FROM t /*BALLAST:master*/",
            "SELECT /* ballast:master */ 1 FROM t",
            "SELECT 1 FROM t WHERE a = 'it''s' /* ballast:master */",
            "SELECT '/*' AS a /* ballast:master */ FROM t",
            "SELECT 1 FROM t /* other */ /* ballast:master */",
            "SELECT 1 FROM t -- a line comment\n /* ballast:master */",
            "SELECT 'a\\'' AS a /* ballast:master */ FROM t",
            "SELECT `a``b` /* ballast:master */ FROM t",
    })
    void theHintIsMatchedByItsWordsWhateverTheSpacingAndCase(String sql) {
        assertTrue(SqlHints.hasMasterHint(sql), sql);
        String rewritten = SqlHints.rewrite(sql);
        assertTrue(rewritten.startsWith(WRITE_ROUTE), rewritten);
        assertFalse(SqlHints.hasMasterHint(rewritten.substring(WRITE_ROUTE.length())), "the hint is removed: " + rewritten);
        assertTrue(rewritten.contains("SELECT"), rewritten);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/* ballast:masters */ SELECT 1 FROM t",
            "/* ballast:master please */ SELECT 1 FROM t",
            "/* please ballast:master */ SELECT 1 FROM t",
            "/* ballast master */ SELECT 1 FROM t",
            "/* ballast::master */ SELECT 1 FROM t",
            "/* ballast:replica */ SELECT 1 FROM t",
            "/* ballast: */ SELECT 1 FROM t",
            "/* ballastmaster */ SELECT 1 FROM t",
            "/*! ballast:master */ SELECT 1 FROM t",
            "/*+ ballast:master */ SELECT 1 FROM t",
            "/* ballast:master SELECT 1 FROM t",
            "SELECT '/* ballast:master */' FROM t",
            "SELECT \"/*ballast:master*/\" FROM t",
            "SELECT `/* ballast:master */` FROM t",
            "SELECT 'it\\'s /* ballast:master */' FROM t",
            "SELECT 'it''s /* ballast:master */' FROM t",
            "-- ballast:master\nSELECT 1 FROM t",
            "-- /* ballast:master */\nSELECT 1 FROM t",
            "# /* ballast:master */\nSELECT 1 FROM t",
            "SELECT 1 FROM t # ballast:master",
            "SELECT 'ballast:master' FROM t",
            "SELECT ballast:master FROM t",
    })
    void anythingElseIsLeftAlone(String sql) {
        assertFalse(SqlHints.hasMasterHint(sql), sql);
        assertSame(sql, SqlHints.rewrite(sql), sql);
    }

    @Test
    void theCommentBodyAloneIsJudgedByItsWords() {
        String text = "/*  BALLAST :\tMaster */";
        assertTrue(SqlHints.isMasterHint(text, 2, text.length() - 2));
        assertFalse(SqlHints.isMasterHint("ballast:master", 0, 13), "cut short");
        assertFalse(SqlHints.isMasterHint("", 0, 0));
    }

    @Test
    void tokensAroundARemovedHintStayApartAndEveryHintIsRemoved() {
        assertEquals(WRITE_ROUTE + "SELECT 1 FROM t", SqlHints.rewrite("SELECT/*ballast:master*/1 FROM t"));
        assertEquals(WRITE_ROUTE + "SELECT 1 FROM t ", SqlHints.rewrite("SELECT /*ballast:master*/1 FROM t /* BALLAST:MASTER */"));
        assertEquals(WRITE_ROUTE + "SELECT '/* ballast:master */' FROM t",
                SqlHints.rewrite("SELECT '/* ballast:master */' FROM t/*ballast:master*/"));
    }

    /** mariadb-dump's row query: ShardingSphere's UNION ALL of one group's physical tables refuses SQL_NO_CACHE. */
    @Test
    void queryCacheHintOfMariadbDumpIsDroppedInBothSpellings() {
        assertEquals("SELECT   `k`, `v` FROM `t_kv`", SqlHints.rewrite("SELECT /*!40001 SQL_NO_CACHE */ `k`, `v` FROM `t_kv`"));
        assertEquals("SELECT   `k`, `v` FROM `t_kv`", SqlHints.rewrite("SELECT  SQL_NO_CACHE `k`, `v` FROM `t_kv`"));
        assertEquals("SELECT 'SQL_NO_CACHE' FROM t", SqlHints.rewrite("SELECT 'SQL_NO_CACHE' FROM t"));
    }
}
