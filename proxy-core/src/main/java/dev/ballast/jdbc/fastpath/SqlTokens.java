package dev.ballast.jdbc.fastpath;

import java.util.ArrayList;
import java.util.List;

/** A small MySQL tokenizer: enough to find tables, placeholders and top-level predicates of simple statements. */
final class SqlTokens {

    enum Kind { WORD, QUOTED_NAME, NUMBER, STRING, PARAM, SYMBOL, SYSTEM_VARIABLE }

    /** One token; {@code start}/{@code end} index the original text. */
    record Token(Kind kind, String text, int start, int end, int depth) {
        boolean is(String word) {
            return kind == Kind.WORD && text.equalsIgnoreCase(word);
        }

        boolean isSymbol(String symbol) {
            return kind == Kind.SYMBOL && text.equals(symbol);
        }

        /** The identifier this token names (backquotes removed), or null. */
        String name() {
            return kind == Kind.WORD || kind == Kind.QUOTED_NAME ? text : null;
        }
    }

    private SqlTokens() {
    }

    /** Tokens of {@code sql}, or null when the text has something this tokenizer does not handle (comments, odd quoting). */
    static List<Token> tokenize(String sql) {
        List<Token> tokens = new ArrayList<>();
        int depth = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-' || c == '#' || c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                return null; // comments may carry hints: leave such statements to ShardingSphere
            } else if (Character.isLetter(c) || c == '_' || c == '$') {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '$')) {
                    i++;
                }
                tokens.add(new Token(Kind.WORD, sql.substring(start, i), start, i, depth));
            } else if (Character.isDigit(c)) {
                int start = i;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
                    i++;
                }
                tokens.add(new Token(Kind.NUMBER, sql.substring(start, i), start, i, depth));
            } else if (c == '`') {
                int end = sql.indexOf('`', i + 1);
                if (end < 0) {
                    return null;
                }
                tokens.add(new Token(Kind.QUOTED_NAME, sql.substring(i + 1, end), i, end + 1, depth));
                i = end + 1;
            } else if (c == '\'' || c == '"') {
                StringBuilder value = new StringBuilder();
                int start = i;
                i++;
                while (true) {
                    if (i >= n) {
                        return null;
                    }
                    char d = sql.charAt(i);
                    if (d == '\\') {
                        return null; // escapes: leave to ShardingSphere
                    }
                    if (d == c) {
                        if (i + 1 < n && sql.charAt(i + 1) == c) {
                            value.append(c);
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    value.append(d);
                    i++;
                }
                tokens.add(new Token(Kind.STRING, value.toString(), start, i, depth));
            } else if (c == '@' && i + 2 < n && sql.charAt(i + 1) == '@' && Character.isLetter(sql.charAt(i + 2))) {
                int start = i;
                i += 2;
                while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '.')) {
                    i++;
                }
                tokens.add(new Token(Kind.SYSTEM_VARIABLE, sql.substring(start, i), start, i, depth));
            } else if (c == '?') {
                tokens.add(new Token(Kind.PARAM, "?", i, i + 1, depth));
                i++;
            } else {
                if (c == '(') {
                    depth++;
                } else if (c == ')') {
                    depth--;
                    if (depth < 0) {
                        return null;
                    }
                }
                int len = i + 1 < n && "<=>=!=<>".contains(sql.substring(i, Math.min(n, i + 2))) && isTwoCharOp(sql, i) ? 2 : 1;
                tokens.add(new Token(Kind.SYMBOL, sql.substring(i, i + len), i, i + len, c == '(' ? depth - 1 : depth));
                i += len;
            }
        }
        return depth == 0 ? tokens : null;
    }

    private static boolean isTwoCharOp(String sql, int i) {
        String two = sql.substring(i, i + 2);
        return two.equals("<=") || two.equals(">=") || two.equals("!=") || two.equals("<>");
    }
}
