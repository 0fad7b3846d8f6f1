package dev.ballast.jdbc.internal;

import java.sql.SQLException;
import java.util.Collection;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Refuses queries whose scatter-gather result ShardingSphere 5.5.2 gets wrong, instead of returning a
 * wrong answer. Measured here: {@code SELECT COUNT(*), COUNT(DISTINCT id) FROM t_sharded} returns the
 * per-shard distinct count, not the total; a DISTINCT aggregate alone merges correctly. The check is a
 * conservative text test, made only when the text mentions DISTINCT and a table sharded over several
 * data nodes.
 */
public final class MergeGuard {

    private static final Pattern AGGREGATE = Pattern.compile("\\b(COUNT|SUM|AVG|MIN|MAX)\\s*\\(", Pattern.CASE_INSENSITIVE);
    private static final Pattern DISTINCT_AGGREGATE =
            Pattern.compile("\\b(COUNT|SUM|AVG)\\s*\\(\\s*DISTINCT\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern WORD = Pattern.compile("[A-Za-z0-9_$]+");

    private final Collection<String> shardedTables;

    /** @param shardedTables lower-case names of tables with more than one data node */
    public MergeGuard(Collection<String> shardedTables) {
        this.shardedTables = shardedTables;
    }

    /** @throws SQLException (SQLSTATE 0A000, feature not supported) when the query would be merged wrongly */
    public void check(String sql, String cluster) throws SQLException {
        if (sql == null || !containsIgnoreCase(sql, "distinct")) {
            return;
        }
        Matcher distinct = DISTINCT_AGGREGATE.matcher(sql);
        if (!distinct.find()) {
            return;
        }
        int aggregates = 0;
        Matcher any = AGGREGATE.matcher(sql);
        while (any.find()) {
            aggregates++;
        }
        if (aggregates < 2) {
            return;
        }
        String table = shardedTableIn(sql);
        if (table != null) {
            throw new SQLException("[cluster=" + cluster + "] refusing a query on sharded table " + table
                    + " that mixes a DISTINCT aggregate with other aggregates: ShardingSphere 5.5.2 merges it wrongly "
                    + "across shards. Run the DISTINCT aggregate as a query of its own.", "0A000");
        }
    }

    private String shardedTableIn(String sql) {
        Matcher m = WORD.matcher(sql);
        while (m.find()) {
            String word = m.group().toLowerCase(Locale.ROOT);
            if (shardedTables.contains(word)) {
                return word;
            }
        }
        return null;
    }

    private static boolean containsIgnoreCase(String text, String lowerNeedle) {
        int n = lowerNeedle.length();
        for (int i = 0; i + n <= text.length(); i++) {
            if (text.regionMatches(true, i, lowerNeedle, 0, n)) {
                return true;
            }
        }
        return false;
    }
}
