package dev.ballast.jdbc.internal;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MergeGuardTest {

    final MergeGuard guard = new MergeGuard(Set.of("t_order"));

    @Test
    void distinctAggregateMixedWithOthersOnAShardedTableIsRefused() {
        SQLException e = assertThrows(SQLException.class,
                () -> guard.check("select count(*), count( distinct user_id ) from T_ORDER", "shop"));
        assertEquals("0A000", e.getSQLState());
        assertEquals("[cluster=shop] refusing a query on sharded table t_order that mixes a DISTINCT aggregate with "
                + "other aggregates: ShardingSphere 5.5.2 merges it wrongly across shards. Run the DISTINCT aggregate "
                + "as a query of its own.", e.getMessage());
        assertThrows(SQLException.class, () -> guard.check("SELECT SUM(DISTINCT a), MAX(b) FROM t_order", "shop"));
    }

    @Test
    void queriesThatMergeCorrectlyPass() {
        assertDoesNotThrow(() -> guard.check("SELECT COUNT(DISTINCT user_id) FROM t_order", "shop"));
        assertDoesNotThrow(() -> guard.check("SELECT COUNT(*), SUM(amount) FROM t_order", "shop"));
        assertDoesNotThrow(() -> guard.check("SELECT DISTINCT user_id, COUNT(*) FROM t_order GROUP BY user_id", "shop"));
        assertDoesNotThrow(() -> guard.check("SELECT COUNT(*), COUNT(DISTINCT id) FROM t_user", "shop"));
        assertDoesNotThrow(() -> guard.check(null, "shop"));
    }
}
