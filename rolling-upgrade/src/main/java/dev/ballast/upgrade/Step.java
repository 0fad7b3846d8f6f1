package dev.ballast.upgrade;

/**
 * One step of an {@link Operation}: an action on a group (and on one node of it, or on the whole group when
 * {@code node} is empty), the precondition it re-checks before acting, and where it stands. Times are epoch
 * milliseconds, 0 when not yet reached; {@code output} and {@code error} are empty when there is none.
 */
public record Step(String group, String node, Action action, String precondition, State state,
                   long startedAtMs, long endedAtMs, String output, String error) {

    public enum State { PENDING, RUNNING, DONE, FAILED, SKIPPED }

    public Step {
        if (group == null || group.isBlank()) {
            throw new IllegalArgumentException("a step needs a group, got '" + group + "'");
        }
        if (action == null) {
            throw new IllegalArgumentException("step on group " + group + " has no action");
        }
        node = node == null ? "" : node;
        precondition = precondition == null ? "" : precondition;
        state = state == null ? State.PENDING : state;
        output = output == null ? "" : output;
        error = error == null ? "" : error;
    }

    /** A step not started yet. */
    public static Step pending(String group, String node, Action action, String precondition) {
        return new Step(group, node, action, precondition, State.PENDING, 0, 0, "", "");
    }

    /** True when the step needs no more work ({@code DONE} or {@code SKIPPED}). */
    public boolean finished() {
        return state == State.DONE || state == State.SKIPPED;
    }

    public Step running(long now) {
        return new Step(group, node, action, precondition, State.RUNNING, now, 0, "", "");
    }

    public Step ended(State end, long startedAt, long now, String out, String err) {
        return new Step(group, node, action, precondition, end, startedAt, now, out, err);
    }

    /** "g0 10.0.0.7:3306 drain" or "g0 switchover": how the step is named in messages and progress lines. */
    public String describe() {
        return group + (node.isEmpty() ? "" : " " + node) + " " + action.name();
    }
}
