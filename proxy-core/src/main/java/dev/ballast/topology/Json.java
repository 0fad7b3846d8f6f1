package dev.ballast.topology;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough JSON for the topology store's small documents: objects of strings, integers, booleans, nested objects
 * and arrays of those. Writing is done by the documents themselves with {@link #quote(String)}.
 */
public final class Json {

    private Json() {
    }

    /** A parsed object; getters throw {@link IllegalArgumentException} naming the key when it is missing or of another type. */
    public record Obj(Map<String, Object> fields) {
        public boolean has(String key) {
            return fields.containsKey(key) && fields.get(key) != null;
        }

        public String string(String key) {
            Object v = require(key);
            if (!(v instanceof String s)) {
                throw new IllegalArgumentException("'" + key + "' is not a string: " + v);
            }
            return s;
        }

        public long number(String key) {
            Object v = require(key);
            if (!(v instanceof Long n)) {
                throw new IllegalArgumentException("'" + key + "' is not an integer: " + v);
            }
            return n;
        }

        public List<String> strings(String key) {
            Object v = require(key);
            if (!(v instanceof List<?> list)) {
                throw new IllegalArgumentException("'" + key + "' is not an array: " + v);
            }
            List<String> out = new ArrayList<>();
            for (Object e : list) {
                if (!(e instanceof String s)) {
                    throw new IllegalArgumentException("'" + key + "' holds a non-string: " + e);
                }
                out.add(s);
            }
            return out;
        }

        private Object require(String key) {
            if (!fields.containsKey(key)) {
                throw new IllegalArgumentException("missing '" + key + "' in " + fields.keySet());
            }
            return fields.get(key);
        }
    }

    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    public static Obj parseObject(String text) {
        Parser p = new Parser(text);
        p.ws();
        Object v = p.value();
        p.ws();
        if (p.i != text.length()) {
            throw p.error("trailing characters");
        }
        if (!(v instanceof Obj o)) {
            throw new IllegalArgumentException("not a JSON object: " + text);
        }
        return o;
    }

    private static final class Parser {
        final String s;
        int i;

        Parser(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("bad JSON at " + i + " (" + what + "): " + s);
        }

        void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        char peek() {
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            return s.charAt(i);
        }

        void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        Object value() {
            char c = peek();
            if (c == '{') {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (peek() == '}') {
                    i++;
                    return new Obj(m);
                }
                while (true) {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    ws();
                    m.put(k, value());
                    ws();
                    if (peek() == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return new Obj(m);
                }
            }
            if (c == '[') {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (peek() == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    ws();
                    l.add(value());
                    ws();
                    if (peek() == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            if (c == '"') {
                return string();
            }
            if (s.startsWith("true", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("false", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            if (s.startsWith("null", i)) {
                i += 4;
                return null;
            }
            int start = i;
            if (c == '-') {
                i++;
            }
            while (i < s.length() && Character.isDigit(s.charAt(i))) {
                i++;
            }
            if (start == i || (i == start + 1 && c == '-')) {
                throw error("unexpected character");
            }
            return Long.parseLong(s.substring(start, i));
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = peek();
                i++;
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = peek();
                    i++;
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 'r' -> b.append('\r');
                        case 't' -> b.append('\t');
                        case 'u' -> {
                            if (i + 4 > s.length()) {
                                throw error("short \\u escape");
                            }
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }
    }
}
