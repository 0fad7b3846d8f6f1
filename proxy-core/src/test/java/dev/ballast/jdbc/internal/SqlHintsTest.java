package dev.ballast.jdbc.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class SqlHintsTest {

    @Test
    void statementWithoutHintIsPassedAsTheSameInstance() {
        String sql = "SELECT * FROM t_order WHERE user_id = ?";
        assertSame(sql, SqlHints.rewrite(sql));
        assertSame(null, SqlHints.rewrite(null));
    }

    @Test
    void masterHintAnywhereBecomesShardingSphereWriteRouteHintAtTheStart() {
        assertEquals("/* SHARDINGSPHERE_HINT: WRITE_ROUTE_ONLY=true */ SELECT 1 FROM t ",
                SqlHints.rewrite("SELECT 1 FROM t /* ballast:master */"));
        assertEquals("/* SHARDINGSPHERE_HINT: WRITE_ROUTE_ONLY=true */  SELECT 1",
                SqlHints.rewrite("/* ballast:master */ SELECT 1"));
    }

    @Test
    void otherCommentsMentioningTheMarkerAreLeftAlone() {
        String sql = "SELECT 'ballast:master' FROM t";
        assertSame(sql, SqlHints.rewrite(sql));
    }
}
