package dev.ballast.jdbc.internal;

/**
 * Ballast's SQL comment hints. A block comment whose words are {@code ballast : master} (any case, any whitespace
 * between and around them: {@code /*ballast:master*}{@code /}, {@code /* BALLAST:MASTER *}{@code /},
 * {@code /*  ballast : master *}{@code /}) anywhere in a statement sends it to the master. It becomes ShardingSphere's
 * own hint, which is only read at the very start of the text.
 *
 * <p>Only block comments are hints, as for MySQL's own optimizer hints: the same words inside a string literal, a
 * quoted name, a {@code --} or {@code #} comment, or a block comment that says anything more ({@code ballast:masters},
 * {@code /*! … *}{@code /}, {@code /*+ … *}{@code /}) are left alone. The driver and the proxy both decide through
 * {@link #hasMasterHint}.
 */
public final class SqlHints {

    /** The canonical spelling. */
    public static final String MASTER = "/* ballast:master */";
    private static final String SHARDINGSPHERE_WRITE_ROUTE = "/* SHARDINGSPHERE_HINT: WRITE_ROUTE_ONLY=true */ ";

    private static final java.util.regex.Pattern NO_CACHE =
            java.util.regex.Pattern.compile("/\\*!\\d*\\s*SQL_NO_CACHE\\s*\\*/");

    private static final java.util.regex.Pattern NO_CACHE_PLAIN =
            java.util.regex.Pattern.compile("^(\\s*SELECT\\s+)SQL_NO_CACHE\\b", java.util.regex.Pattern.CASE_INSENSITIVE);

    private SqlHints() {
    }

    /** Returns the text ShardingSphere should see; the same instance when there is no Ballast hint. */
    public static String rewrite(String sql) {
        if (sql != null && sql.indexOf("SQL_NO_CACHE") > 0) {
            // mariadb-dump's "SELECT /*!40001 SQL_NO_CACHE */ … FROM t" (the proxy unwraps the comment): ShardingSphere
            // joins the physical tables of one group with UNION ALL, where MariaDB refuses SQL_NO_CACHE (error 1234).
            // It is a query-cache hint only, and the query cache is off by default.
            sql = NO_CACHE_PLAIN.matcher(NO_CACHE.matcher(sql).replaceAll(" ")).replaceFirst("$1");
        }
        if (sql == null || sql.indexOf("/*") < 0) {
            return sql;
        }
        StringBuilder b = null;
        int copied = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            int end = skip(sql, i);
            if (end == i) {
                i++;
                continue;
            }
            if (end - i >= 4 && sql.startsWith("/*", i) && sql.startsWith("*/", end - 2) && isMasterHint(sql, i + 2, end - 2)) {
                if (b == null) {
                    b = new StringBuilder(SHARDINGSPHERE_WRITE_ROUTE.length() + n).append(SHARDINGSPHERE_WRITE_ROUTE);
                }
                b.append(sql, copied, i);
                // keep the tokens on either side apart: SELECT/*ballast:master*/1 is SELECT 1
                if (i > 0 && end < n && !Character.isWhitespace(sql.charAt(i - 1)) && !Character.isWhitespace(sql.charAt(end))) {
                    b.append(' ');
                }
                copied = end;
            }
            i = end;
        }
        return b == null ? sql : b.append(sql, copied, n).toString();
    }

    /** Whether {@code sql} carries the master hint in a block comment outside literals and other comments. */
    public static boolean hasMasterHint(String sql) {
        if (sql == null || sql.indexOf("/*") < 0) {
            return false;
        }
        int i = 0;
        int n = sql.length();
        while (i < n) {
            int end = skip(sql, i);
            if (end == i) {
                i++;
            } else if (end - i >= 4 && sql.startsWith("/*", i) && sql.startsWith("*/", end - 2)
                    && isMasterHint(sql, i + 2, end - 2)) {
                return true;
            } else {
                i = end;
            }
        }
        return false;
    }

    /**
     * Whether the body of a block comment, {@code sql[from, to)} (between {@code /*} and {@code *}{@code /}), is the master
     * hint: the words {@code ballast}, {@code :}, {@code master} in that order, case-insensitive, with any whitespace
     * between and around them and nothing else.
     */
    public static boolean isMasterHint(CharSequence sql, int from, int to) {
        int i = skipWhitespace(sql, from, to);
        i = word(sql, i, to, "ballast");
        if (i < 0) {
            return false;
        }
        i = skipWhitespace(sql, i, to);
        if (i >= to || sql.charAt(i) != ':') {
            return false;
        }
        i = word(sql, skipWhitespace(sql, i + 1, to), to, "master");
        return i >= 0 && skipWhitespace(sql, i, to) == to;
    }

    /** Where {@code word} ends when it starts at {@code i} (any case), or -1. */
    private static int word(CharSequence sql, int i, int to, String word) {
        int end = i + word.length();
        if (end > to) {
            return -1;
        }
        for (int k = 0; k < word.length(); k++) {
            if (Character.toLowerCase(sql.charAt(i + k)) != word.charAt(k)) {
                return -1;
            }
        }
        return end;
    }

    private static int skipWhitespace(CharSequence sql, int i, int to) {
        while (i < to && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i;
    }

    /**
     * Where the string literal, quoted name or comment starting at {@code i} ends (MySQL's rules: backslash escapes and
     * doubled quotes; {@code --} followed by whitespace and {@code #} run to the end of the line); {@code i} itself when
     * none starts there. An unterminated one runs to the end of the text.
     */
    private static int skip(String sql, int i) {
        int n = sql.length();
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
            int k = i + 1;
            while (k < n) {
                char d = sql.charAt(k);
                if (d == '\\' && c != '`') {
                    k += 2;
                } else if (d == c) {
                    if (k + 1 < n && sql.charAt(k + 1) == c) {
                        k += 2;
                    } else {
                        return k + 1;
                    }
                } else {
                    k++;
                }
            }
            return n;
        }
        if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
            int end = sql.indexOf("*/", i + 2);
            return end < 0 ? n : end + 2;
        }
        if (c == '#' || c == '-' && i + 2 < n && sql.charAt(i + 1) == '-' && Character.isWhitespace(sql.charAt(i + 2))) {
            int end = sql.indexOf('\n', i);
            return end < 0 ? n : end + 1;
        }
        return i;
    }
}
