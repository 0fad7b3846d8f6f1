package dev.ballast.failover;

/**
 * An operation refused for safety before it changed anything: the message names the node, the reason and the way out
 * (for example a {@code --to} node that must not be promoted, lags, or has errant transactions). The CLI exits with 3
 * for it, apart from the failures of an operation that was attempted (exit 1).
 */
public final class RefusedException extends Switchover.SwitchoverException {
    public RefusedException(String message) {
        super(message);
    }
}
