package dev.ballast.rules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML mapping with its key path, so that every error names where it is. Strings get
 * {@code ${ENV}} / {@code ${ENV:-default}} substitution when read.
 */
final class ConfigNode {

    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");

    private final String path;
    private final Map<String, Object> values;
    private final Function<String, String> env;

    private ConfigNode(String path, Map<String, Object> values, Function<String, String> env) {
        this.path = path;
        this.values = values;
        this.env = env;
    }

    static ConfigNode root(Object document, Function<String, String> env) {
        if (!(document instanceof Map<?, ?>)) {
            throw new ConfigException("", "the cluster config must be a YAML mapping at top level, found "
                    + describe(document));
        }
        return new ConfigNode("", stringKeys("", (Map<?, ?>) document), env);
    }

    String path() {
        return path;
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    Set<String> keys() {
        return values.keySet();
    }

    boolean has(String key) {
        return values.containsKey(key) && values.get(key) != null;
    }

    /** Fails when {@code key} is written without a value ({@code key:}): a setting left empty is not taken as its default. */
    private void refuseEmpty(String key, String expected) {
        if (values.containsKey(key)) {
            throw new ConfigException(pathOf(key), "has no value; write " + expected);
        }
    }

    /** Fails on any key not in {@code allowed}, naming the allowed ones. */
    void onlyKeys(Set<String> allowed) {
        for (String key : values.keySet()) {
            if (!allowed.contains(key)) {
                throw new ConfigException(pathOf(key), "unknown key; expected one of " + String.join(", ", sorted(allowed)));
            }
        }
    }

    ConfigNode child(String key) {
        Object value = required(key);
        if (!(value instanceof Map<?, ?> map)) {
            throw new ConfigException(pathOf(key), "expected a mapping, found " + describe(value));
        }
        return new ConfigNode(pathOf(key), stringKeys(pathOf(key), map), env);
    }

    ConfigNode optionalChild(String key) {
        return has(key) ? child(key) : new ConfigNode(pathOf(key), new LinkedHashMap<>(), env);
    }

    List<Object> list(String key) {
        Object value = required(key);
        if (value instanceof List<?> list) {
            return new ArrayList<>(list);
        }
        throw new ConfigException(pathOf(key), "expected a list, found " + describe(value));
    }

    String string(String key) {
        Object value = required(key);
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            throw new ConfigException(pathOf(key), "expected a single value, found " + describe(value));
        }
        if (value instanceof java.util.Date date) {
            // YAML reads an unquoted 2026-01-01 as a UTC timestamp; give the text back as it was written.
            java.time.LocalDateTime t = java.time.LocalDateTime.ofInstant(date.toInstant(), java.time.ZoneOffset.UTC);
            return t.toLocalTime().equals(java.time.LocalTime.MIDNIGHT) ? t.toLocalDate().toString() : t.toString();
        }
        return substitute(pathOf(key), String.valueOf(value));
    }

    String string(String key, String defaultValue) {
        return has(key) ? string(key) : defaultValue;
    }

    long number(String key, long min, long max, long defaultValue) {
        if (!has(key)) {
            refuseEmpty(key, "a whole number from " + min + " to " + max + " (or leave the key out for " + defaultValue + ")");
            return defaultValue;
        }
        String text = string(key).trim();
        long value;
        try {
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new ConfigException(pathOf(key), "'" + text + "' is not a whole number");
        }
        if (value < min || value > max) {
            throw new ConfigException(pathOf(key), value + " is out of range; expected " + min + ".." + max);
        }
        return value;
    }

    boolean bool(String key, boolean defaultValue) {
        if (!has(key)) {
            refuseEmpty(key, "true or false (or leave the key out for " + defaultValue + ")");
            return defaultValue;
        }
        String text = string(key).trim();
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new ConfigException(pathOf(key), "'" + text + "' is not true or false");
        };
    }

    /**
     * The text of a single value as written, without substitution: a secret that only some processes resolve
     * (see {@link Secret}).
     */
    Secret secret(String key) {
        Object value = required(key);
        if (value instanceof Map<?, ?> || value instanceof List<?>) {
            throw new ConfigException(pathOf(key), "expected a single value, found " + describe(value));
        }
        return new Secret(pathOf(key), String.valueOf(value), env);
    }

    /** Substitutes {@code ${VAR}} and {@code ${VAR:-default}}; an unset variable without default is an error. */
    String substitute(String keyPath, String text) {
        return substitute(keyPath, text, env);
    }

    static String substitute(String keyPath, String text, Function<String, String> env) {
        Matcher m = ENV.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null) {
                if (m.group(2) == null) {
                    throw new ConfigException(keyPath, "environment variable " + m.group(1)
                            + " is not set; set it or write ${" + m.group(1) + ":-default}");
                }
                value = m.group(2);
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    private Object required(String key) {
        Object value = values.get(key);
        if (value == null) {
            throw new ConfigException(pathOf(key), "missing; this key is required");
        }
        return value;
    }

    private static Map<String, Object> stringKeys(String path, Map<?, ?> map) {
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new ConfigException(path, "key " + e.getKey() + " is not a string");
            }
            result.put(key, e.getValue());
        }
        return result;
    }

    static String describe(Object value) {
        if (value == null) {
            return "nothing";
        }
        if (value instanceof Map<?, ?>) {
            return "a mapping";
        }
        if (value instanceof List<?>) {
            return "a list";
        }
        return "'" + value + "'";
    }

    private static List<String> sorted(Set<String> keys) {
        return keys.stream().sorted().toList();
    }
}
