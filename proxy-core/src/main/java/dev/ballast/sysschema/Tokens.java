package dev.ballast.sysschema;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tokens of one statement with their positions, enough to find what a statement asks of the system schema and
 * to replace a view reference in place. Comments are skipped; a versioned comment ({@code /*!40101 … *}{@code /}) is
 * read as the SQL it holds, as the server does.
 */
final class Tokens {

    enum Kind { WORD, QUOTED, STRING, NUMBER, SYMBOL }

    /** {@code text} is upper case for words, unquoted for quoted identifiers and strings, as written otherwise. */
    record Token(Kind kind, String text, int start, int end) {
        boolean is(String upperWord) {
            return kind == Kind.WORD && text.equals(upperWord);
        }

        boolean isSymbol(String s) {
            return kind == Kind.SYMBOL && text.equals(s);
        }

        /** A name: a word or a back-quoted identifier. */
        boolean isName() {
            return kind == Kind.WORD || kind == Kind.QUOTED;
        }

        /** The identifier as the server compares it for table and schema names (case-insensitive here). */
        String name() {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    private Tokens() {
    }

    static List<Token> of(String sql) {
        List<Token> out = new ArrayList<>();
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '/' && i + 2 < n && sql.charAt(i + 1) == '*' && sql.charAt(i + 2) == '!') {
                i += 3;
                while (i < n && Character.isDigit(sql.charAt(i))) {
                    i++;
                }
            } else if (c == '*' && i + 1 < n && sql.charAt(i + 1) == '/') {
                i += 2; // the end of a versioned comment
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '#' || c == '-' && i + 2 < n && sql.charAt(i + 1) == '-' && Character.isWhitespace(sql.charAt(i + 2))) {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '\'' || c == '"' || c == '`') {
                StringBuilder text = new StringBuilder();
                int j = i + 1;
                while (j < n) {
                    char d = sql.charAt(j);
                    if (d == '\\' && c != '`' && j + 1 < n) {
                        text.append(sql.charAt(j + 1));
                        j += 2;
                    } else if (d == c) {
                        if (j + 1 < n && sql.charAt(j + 1) == c) {
                            text.append(c);
                            j += 2;
                        } else {
                            j++;
                            break;
                        }
                    } else {
                        text.append(d);
                        j++;
                    }
                }
                out.add(new Token(c == '`' ? Kind.QUOTED : Kind.STRING, text.toString(), i, j));
                i = j;
            } else if (Character.isLetter(c) || c == '_' || c == '$' || c == '@') {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$'
                        || sql.charAt(j) == '@')) {
                    j++;
                }
                out.add(new Token(Kind.WORD, sql.substring(i, j).toUpperCase(Locale.ROOT), i, j));
                i = j;
            } else if (Character.isDigit(c)) {
                int j = i + 1;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '.')) {
                    j++;
                }
                out.add(new Token(Kind.NUMBER, sql.substring(i, j), i, j));
                i = j;
            } else {
                out.add(new Token(Kind.SYMBOL, String.valueOf(c), i, i + 1));
                i++;
            }
        }
        return out;
    }
}
