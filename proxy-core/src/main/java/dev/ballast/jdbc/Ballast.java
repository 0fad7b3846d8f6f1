package dev.ballast.jdbc;

import org.apache.shardingsphere.infra.hint.HintManager;

/**
 * Routing hints for the current thread. Use with try-with-resources:
 * <pre>{@code
 * try (Ballast.Hint hint = Ballast.forceMaster()) {
 *     // every statement on this thread reads from the master until close()
 * }
 * }</pre>
 * The SQL form {@code /* ballast:master *}{@code /} does the same for one statement.
 */
public final class Ballast {

    private Ballast() {
    }

    /** Sends every statement of this thread to the master of its group until the hint is closed. */
    public static Hint forceMaster() {
        HintManager manager = HintManager.getInstance();
        manager.setWriteRouteOnly();
        return new Hint(manager);
    }

    /** An active hint; closing it clears it. Not shareable across threads. */
    public static final class Hint implements AutoCloseable {
        private final HintManager manager;

        private Hint(HintManager manager) {
            this.manager = manager;
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}
