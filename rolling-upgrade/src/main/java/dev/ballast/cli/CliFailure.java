package dev.ballast.cli;

/**
 * The operation was tried and failed (exit 1). The message is the one line the operator sees: what failed, where, and
 * what to check.
 */
public final class CliFailure extends RuntimeException {
    public CliFailure(String message) {
        super(message);
    }

    public CliFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
