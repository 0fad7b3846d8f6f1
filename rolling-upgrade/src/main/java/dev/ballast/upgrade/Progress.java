package dev.ballast.upgrade;

import java.io.PrintStream;

/**
 * What the {@link Runner} reports per step. {@link #plain} writes one line per finished step (logs, pipes);
 * {@link #terminal} redraws one progress line while a step runs and ends it with its outcome.
 */
public interface Progress {

    void started(Operation op, int index, Step step);

    void ended(Operation op, int index, Step step);

    static Progress none() {
        return new Progress() {
            public void started(Operation op, int index, Step step) {
            }

            public void ended(Operation op, int index, Step step) {
            }
        };
    }

    /** {@link #terminal} when the JVM has a console, {@link #plain} otherwise. */
    static Progress forStdout() {
        return System.console() != null ? terminal(System.out) : plain(System.out);
    }

    static Progress plain(PrintStream out) {
        return new Progress() {
            public void started(Operation op, int index, Step step) {
            }

            public void ended(Operation op, int index, Step step) {
                out.println(line(op, index, step));
                out.flush();
            }
        };
    }

    static Progress terminal(PrintStream out) {
        return new Progress() {
            public void started(Operation op, int index, Step step) {
                out.print("\r" + bar(index, op.steps().size()) + " " + (index + 1) + "/" + op.steps().size() + " "
                        + step.describe() + " ...");
                out.flush();
            }

            public void ended(Operation op, int index, Step step) {
                out.print("\r\033[K" + bar(index + 1, op.steps().size()) + " ");
                out.println(line(op, index, step));
                out.flush();
            }
        };
    }

    /** "op-1 2/5 g0 db2:3306 drain: DONE in 1.204 s (output)". */
    static String line(Operation op, int index, Step step) {
        StringBuilder b = new StringBuilder().append(op.id()).append(' ').append(index + 1).append('/')
                .append(op.steps().size()).append(' ').append(step.describe()).append(": ").append(step.state());
        if (step.startedAtMs() > 0 && step.endedAtMs() >= step.startedAtMs()) {
            b.append(String.format(java.util.Locale.ROOT, " in %.3f s", (step.endedAtMs() - step.startedAtMs()) / 1000.0));
        }
        String text = !step.error().isEmpty() ? step.error() : step.output();
        if (!text.isEmpty()) {
            b.append(" (").append(text.replace('\n', ' ').replace('\r', ' ')).append(')');
        }
        return b.toString();
    }

    static String bar(int done, int total) {
        int width = 20;
        int filled = total == 0 ? width : done * width / total;
        return "[" + "#".repeat(filled) + "-".repeat(width - filled) + "]";
    }
}
