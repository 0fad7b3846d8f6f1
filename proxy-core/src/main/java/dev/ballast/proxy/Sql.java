package dev.ballast.proxy;

import dev.ballast.jdbc.internal.SqlHints;

import java.util.Locale;

/** Just enough lexing of SQL text for the proxy: the leading keyword, placeholders, whether it names a table. */
final class Sql {

    private Sql() {
    }

    /** Index of the first character that is not whitespace or part of a comment ({@code /*…*}{@code /}, {@code -- }, {@code #}). */
    static int skipSpace(String sql, int i) {
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                if (i + 2 < n && (sql.charAt(i + 2) == '!' || end > 0 && SqlHints.isMasterHint(sql, i + 2, end))) {
                    return i; // a versioned comment or a Ballast hint is part of the statement
                }
                i = end < 0 ? n : end + 2;
            } else if (c == '#' || c == '-' && sql.startsWith("-- ", i)) {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else {
                return i;
            }
        }
        return n;
    }

    /** The first keyword, upper case ("" when none); a leading Ballast hint comment is skipped. */
    static String firstKeyword(String sql) {
        int i = skipSpace(sql, 0);
        if (sql.startsWith("/*", i)) {
            int end = sql.indexOf("*/", i);
            i = skipSpace(sql, end < 0 ? sql.length() : end + 2);
        }
        int start = i;
        while (i < sql.length() && (Character.isLetter(sql.charAt(i)) || sql.charAt(i) == '_')) {
            i++;
        }
        return sql.substring(start, i).toUpperCase(Locale.ROOT);
    }

    /**
     * Where the quoted string, backquoted name or comment starting at {@code i} ends; {@code i} itself when none
     * starts there.
     */
    static int skipQuotedOrComment(String sql, int i) {
        int n = sql.length();
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
            return endOfQuoted(sql, i);
        }
        if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
            int end = sql.indexOf("*/", i + 2);
            return end < 0 ? n : end + 2;
        }
        if (c == '#' || c == '-' && sql.startsWith("-- ", i)) {
            int end = sql.indexOf('\n', i);
            return end < 0 ? n : end + 1;
        }
        return i;
    }

    /** The words of the statement outside quotes, comments and backticks, upper case, for classification. */
    static java.util.List<String> words(String sql, int max) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n && out.size() < max) {
            int skipped = skipQuotedOrComment(sql, i);
            if (skipped != i) {
                i = skipped;
                continue;
            }
            char c = sql.charAt(i);
            if (Character.isLetter(c) || c == '_' || c == '@') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '@'
                        || sql.charAt(i) == '.' || sql.charAt(i) == '$')) {
                    i++;
                }
                out.add(sql.substring(start, i).toUpperCase(Locale.ROOT));
            } else {
                i++;
            }
        }
        return out;
    }

    /**
     * The statements of a multi-statement text (CLIENT_MULTI_STATEMENTS), split at each {@code ;} outside quotes,
     * backquotes and comments, without the {@code ;}; pieces holding nothing but space and comments are left out. A
     * statement that creates a stored program with a {@code BEGIN … END} body is not split further: the rest of the
     * text is that one statement, since its body's {@code ;} belong to it.
     */
    static java.util.List<String> statements(String sql) {
        java.util.List<String> out = new java.util.ArrayList<>();
        int n = sql.length();
        int start = 0;
        int i = 0;
        while (i <= n) {
            if (i < n) {
                int skipped = skipQuotedOrComment(sql, i);
                if (skipped != i) {
                    i = skipped;
                    continue;
                }
            }
            if (i == n || sql.charAt(i) == ';') {
                String piece = sql.substring(start, i);
                if (skipSpace(piece, 0) < piece.length()) {
                    if (isStoredProgram(piece) && i < n) {
                        out.add(sql.substring(start));
                        return out;
                    }
                    out.add(piece);
                }
                start = i + 1;
            }
            i++;
        }
        return out;
    }

    /** Whether {@code sql} is BEGIN (BEGIN WORK) or START TRANSACTION, alone (not several statements). */
    static boolean begins(String sql) {
        java.util.List<String> w = words(sql, 2);
        boolean begin = !w.isEmpty() && (w.get(0).equals("BEGIN") || w.get(0).equals("START") && w.size() > 1
                && w.get(1).equals("TRANSACTION"));
        return begin && !severalStatements(sql);
    }

    /** Whether the text may hold more than one statement: cheap, no lexing unless it has a {@code ;} before its end. */
    static boolean severalStatements(String sql) {
        int semicolon = sql.indexOf(';');
        return semicolon >= 0 && semicolon < sql.stripTrailing().length() - 1 && statements(sql).size() > 1;
    }

    private static boolean isStoredProgram(String statement) {
        java.util.List<String> w = words(statement, 64);
        if (w.isEmpty() || !w.get(0).equals("CREATE") || !w.contains("BEGIN")) {
            return false;
        }
        return w.contains("PROCEDURE") || w.contains("FUNCTION") || w.contains("TRIGGER") || w.contains("EVENT");
    }

    /** How many {@code ?} placeholders, outside quotes and comments. */
    static int placeholders(String sql) {
        int count = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            int skipped = skipQuotedOrComment(sql, i);
            if (skipped != i) {
                i = skipped;
                continue;
            }
            if (sql.charAt(i) == '?') {
                count++;
            }
            i++;
        }
        return count;
    }

    static int endOfQuoted(String sql, int i) {
        char q = sql.charAt(i);
        int n = sql.length();
        i++;
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\\' && q != '`') {
                i += 2;
            } else if (c == q) {
                if (i + 1 < n && sql.charAt(i + 1) == q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return n;
    }

    /** Replaces identifiers outside quotes and comments whose upper-case form is a key of {@code names}. */
    static String replaceIdentifiers(String sql, java.util.Map<String, String> names) {
        StringBuilder b = new StringBuilder(sql.length() + 16);
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int end = endOfQuoted(sql, i);
                b.append(sql, i, end);
                i = end;
            } else if (c == '`') {
                int end = endOfQuoted(sql, i);
                String inner = sql.substring(i + 1, Math.max(i + 1, end - 1));
                String to = names.get(inner.toUpperCase(Locale.ROOT));
                b.append(to == null ? sql.substring(i, end) : "`" + to + "`");
                i = end;
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '$')) {
                    i++;
                }
                String word = sql.substring(start, i);
                String to = names.get(word.toUpperCase(Locale.ROOT));
                b.append(to == null ? word : to); // a qualified column (t_order.id) is renamed with its table
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }
}
