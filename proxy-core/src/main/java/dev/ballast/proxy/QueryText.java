package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The text of a COM_QUERY. Statements are text (utf8mb4), except that clients put raw bytes inside {@code _binary'…'}
 * literals (client-side prepared statements with a byte[] parameter). Those bytes would not survive decoding as UTF-8
 * and encoding again towards the server, so such literals become hex literals {@code X'…'} first.
 */
final class QueryText {

    private QueryText() {
    }

    static String decode(ByteBuf p) {
        byte[] bytes = new byte[p.readableBytes()];
        p.readBytes(bytes);
        String sql = indexOfBinary(bytes, 0) < 0 ? new String(bytes, StandardCharsets.UTF_8)
                : new String(rewriteBinaryLiterals(bytes), StandardCharsets.UTF_8);
        return sql.contains("/*!") ? unwrapVersionedComments(sql) : sql;
    }

    /**
     * {@code /*!40101 SET …*}{@code /} and {@code /*! ENGINE = innodb *}{@code /} are executed by MySQL and MariaDB (they are
     * how dump tools and sysbench write server-specific clauses); ShardingSphere's parser does not know them, so
     * their content becomes plain SQL.
     */
    static String unwrapVersionedComments(String sql) {
        StringBuilder b = new StringBuilder(sql.length());
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"' || c == '`') {
                int end = Sql.endOfQuoted(sql, i);
                b.append(sql, i, end);
                i = end;
            } else if (c == '/' && sql.startsWith("/*!", i)) {
                int end = sql.indexOf("*/", i + 3);
                if (end < 0) {
                    b.append(sql, i, n);
                    break;
                }
                int start = i + 3;
                if (start < end && sql.charAt(start) == 'M' && start + 1 < end && sql.charAt(start + 1) == '!') {
                    start += 2; // /*M!100000 ...*/: MariaDB-only
                }
                while (start < end && Character.isDigit(sql.charAt(start))) {
                    start++;
                }
                b.append(' ').append(sql, start, end).append(' ');
                i = end + 2;
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }

    private static int indexOfBinary(byte[] b, int from) {
        outer:
        for (int i = from; i + 8 <= b.length; i++) {
            String word = "_binary";
            for (int k = 0; k < word.length(); k++) {
                if (Character.toLowerCase((char) (b[i + k] & 0xff)) != word.charAt(k)) {
                    continue outer;
                }
            }
            int j = i + word.length();
            while (j < b.length && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r')) {
                j++;
            }
            if (j < b.length && (b[j] == '\'' || b[j] == '"')) {
                return i;
            }
        }
        return -1;
    }

    static byte[] rewriteBinaryLiterals(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length * 2);
        int i = 0;
        boolean inString = false;
        byte quote = 0;
        while (i < b.length) {
            byte c = b[i];
            if (inString) {
                out.write(c);
                if (c == '\\' && i + 1 < b.length) {
                    out.write(b[i + 1]);
                    i += 2;
                    continue;
                }
                if (c == quote) {
                    inString = false;
                }
                i++;
                continue;
            }
            if ((c == '\'' || c == '"') ) {
                inString = true;
                quote = c;
                out.write(c);
                i++;
                continue;
            }
            if ((c == '_' ) && indexOfBinary(b, i) == i) {
                int j = i + 7;
                while (b[j] != '\'' && b[j] != '"') {
                    j++;
                }
                byte q = b[j];
                j++;
                ByteArrayOutputStream value = new ByteArrayOutputStream();
                while (j < b.length) {
                    byte v = b[j];
                    if (v == '\\' && j + 1 < b.length) {
                        value.write(unescape(b[j + 1]));
                        j += 2;
                    } else if (v == q && j + 1 < b.length && b[j + 1] == q) {
                        value.write(q);
                        j += 2;
                    } else if (v == q) {
                        j++;
                        break;
                    } else {
                        value.write(v);
                        j++;
                    }
                }
                out.writeBytes(("X'" + java.util.HexFormat.of().formatHex(value.toByteArray()) + "'").getBytes(StandardCharsets.US_ASCII));
                i = j;
                continue;
            }
            out.write(c);
            i++;
        }
        return out.toByteArray();
    }

    private static int unescape(byte e) {
        return switch (e) {
            case '0' -> 0;
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'b' -> '\b';
            case 'Z' -> 26;
            default -> e;
        };
    }
}
