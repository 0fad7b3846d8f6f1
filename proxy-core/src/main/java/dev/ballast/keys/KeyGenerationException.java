package dev.ballast.keys;

/**
 * No key could be generated (no worker id held, or the clock stayed behind). Nothing was inserted; the statement may be
 * retried once the cause is gone. ShardingSphere hands it to the application as an {@link java.sql.SQLException}.
 */
public final class KeyGenerationException extends RuntimeException {

    public KeyGenerationException(String message) {
        super(message);
    }

    public KeyGenerationException(String message, Throwable cause) {
        super(message, cause);
    }
}
