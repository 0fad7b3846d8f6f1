package dev.ballast.jdbc.internal;

/**
 * Ballast's SQL comment hints. {@code /* ballast:master *}{@code /} anywhere in a statement sends it to
 * the master; it becomes ShardingSphere's own hint, which is only read at the very start of the text.
 */
public final class SqlHints {

    public static final String MASTER = "/* ballast:master */";
    private static final String MARKER = "ballast:master";
    private static final String SHARDINGSPHERE_WRITE_ROUTE = "/* SHARDINGSPHERE_HINT: WRITE_ROUTE_ONLY=true */ ";

    private SqlHints() {
    }

    /** Returns the text ShardingSphere should see; the same instance when there is no Ballast hint. */
    public static String rewrite(String sql) {
        if (sql == null || sql.indexOf(MARKER) < 0) {
            return sql;
        }
        int at = sql.indexOf(MASTER);
        if (at < 0) {
            return sql;
        }
        return SHARDINGSPHERE_WRITE_ROUTE + sql.substring(0, at) + sql.substring(at + MASTER.length());
    }
}
