package dev.ballast.schema;

/** A schema change was refused or failed; the message names the statement, table or node and the way out. */
public class SchemaException extends RuntimeException {

    public SchemaException(String message) {
        super(message);
    }

    public SchemaException(String message, Throwable cause) {
        super(message, cause);
    }
}
