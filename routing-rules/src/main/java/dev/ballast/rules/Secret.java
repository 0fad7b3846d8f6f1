package dev.ballast.rules;

import java.util.Objects;
import java.util.function.Function;

/**
 * A secret of the config, kept as written ({@code ${VAR}}, {@code ${VAR:-default}} or literal text) and resolved only
 * when a process needs it, so that a process that does not use a secret does not need its variable: a data plane's
 * host holds the reader's ZooKeeper password, not the admin's. An unset variable is then a {@link ConfigException}
 * naming the key and the variable. {@link #toString()} never shows the value.
 */
public final class Secret {

    private final String keyPath;
    private final String template;
    private final Function<String, String> env; // null: template is the value itself

    Secret(String keyPath, String template, Function<String, String> env) {
        this.keyPath = keyPath;
        this.template = template;
        this.env = env;
    }

    /** A value given as is (no {@code ${VAR}} substitution). */
    public static Secret literal(String keyPath, String value) {
        return new Secret(keyPath, value, null);
    }

    /** The dotted key path, e.g. {@code failover.acl.admin.password}. */
    public String keyPath() {
        return keyPath;
    }

    /**
     * The value, with {@code ${VAR}} taken from the environment the config was loaded with.
     *
     * @throws ConfigException naming the key and the variable when the variable is not set, or when the value is empty
     */
    public String reveal() {
        String value = env == null ? template : ConfigNode.substitute(keyPath, template, env);
        if (value.isEmpty()) {
            throw new ConfigException(keyPath, "is empty; expected a password, e.g. from the environment: ${VARIABLE}");
        }
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret s && s.keyPath.equals(keyPath) && s.template.equals(template) && (s.env == null) == (env == null);
    }

    @Override
    public int hashCode() {
        return Objects.hash(keyPath, template);
    }

    @Override
    public String toString() {
        return "Secret[" + keyPath + "]";
    }
}
