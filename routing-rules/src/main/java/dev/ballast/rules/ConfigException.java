package dev.ballast.rules;

/** A cluster configuration that cannot be used. The message names the key path, the bad value and what is expected. */
public final class ConfigException extends RuntimeException {

    private final String keyPath;

    public ConfigException(String keyPath, String message) {
        super(keyPath.isEmpty() ? message : keyPath + ": " + message);
        this.keyPath = keyPath;
    }

    /** The dotted path of the offending key, e.g. {@code tables.t_order.algorithm.type}; empty for the whole file. */
    public String keyPath() {
        return keyPath;
    }
}
