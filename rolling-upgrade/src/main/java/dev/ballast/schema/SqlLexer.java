package dev.ballast.schema;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits MariaDB/MySQL text into tokens: words (identifiers and keywords), back-quoted names, string literals, numbers
 * and single-character symbols, each with its place in the text. Comments ({@code -- }, {@code #}, C-style) and white
 * space are skipped. Enough for the DDL forms {@link DdlParser} accepts; not a general SQL lexer.
 */
final class SqlLexer {

    enum Kind { WORD, QUOTED_NAME, STRING, NUMBER, SYMBOL }

    record Token(Kind kind, String text, int start, int end) {
        /** A word or back-quoted name, unquoted. */
        String name() {
            return kind == Kind.QUOTED_NAME ? text.substring(1, text.length() - 1).replace("``", "`") : text;
        }

        boolean is(String keyword) {
            return kind == Kind.WORD && text.equalsIgnoreCase(keyword);
        }

        boolean isSymbol(char c) {
            return kind == Kind.SYMBOL && text.charAt(0) == c;
        }

        boolean isName() {
            return kind == Kind.WORD || kind == Kind.QUOTED_NAME;
        }
    }

    private SqlLexer() {
    }

    /** The tokens of {@code sql}; throws naming the offset for an unterminated quote or comment. */
    static List<Token> tokens(String sql) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#' || c == '-' && i + 2 <= n && sql.startsWith("--", i)
                    && (i + 2 == n || Character.isWhitespace(sql.charAt(i + 2)))) {
                while (i < n && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                if (end < 0) {
                    throw new SchemaException("unterminated comment starting at offset " + i);
                }
                i = end + 2;
            } else if (c == '`' || c == '\'' || c == '"') {
                int j = i + 1;
                while (true) {
                    if (j >= n) {
                        throw new SchemaException("unterminated " + (c == '`' ? "quoted name" : "string") + " starting at offset " + i);
                    }
                    char d = sql.charAt(j);
                    if (d == '\\' && c != '`') {
                        j += 2;
                    } else if (d == c) {
                        if (j + 1 < n && sql.charAt(j + 1) == c) {
                            j += 2;
                        } else {
                            break;
                        }
                    } else {
                        j++;
                    }
                }
                out.add(new Token(c == '`' ? Kind.QUOTED_NAME : Kind.STRING, sql.substring(i, j + 1), i, j + 1));
                i = j + 1;
            } else if (Character.isDigit(c)) {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.' || sql.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Token(Kind.NUMBER, sql.substring(i, j), i, j));
                i = j;
            } else if (Character.isLetter(c) || c == '_' || c == '$' || c == '@') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$'
                        || sql.charAt(j) == '@')) {
                    j++;
                }
                out.add(new Token(Kind.WORD, sql.substring(i, j), i, j));
                i = j;
            } else {
                out.add(new Token(Kind.SYMBOL, String.valueOf(c), i, i + 1));
                i++;
            }
        }
        return out;
    }

    /** The statements of a script, split at {@code ;} outside quotes and comments; empty ones dropped, comments around each cut. */
    static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (Token t : tokens(script)) {
            if (t.isSymbol(';')) {
                add(out, script.substring(from, t.start()));
                from = t.end();
            }
        }
        add(out, script.substring(from));
        return out;
    }

    /** Keeps a statement from its first token to its last: no comment before or after it (one after it would swallow
     * the clause Ballast appends). */
    private static void add(List<String> out, String text) {
        List<Token> t = tokens(text);
        if (!t.isEmpty()) {
            out.add(text.substring(t.get(0).start(), t.get(t.size() - 1).end()));
        }
    }
}
