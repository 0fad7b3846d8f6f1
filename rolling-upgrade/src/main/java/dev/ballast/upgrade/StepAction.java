package dev.ballast.upgrade;

/**
 * Carries out the steps whose {@link Action#name()} it is registered under in the {@link Runner}.
 *
 * <p>Contract: {@link #act} must be idempotent. The runner may call it again for a step that already acted (the
 * process died after acting but before the step was marked done); it always calls {@link #check} first, and a check
 * that sees the work done ({@link Check#alreadyDone}) spares the second call. Neither method may assume it runs in
 * the process that ran the step before.
 */
public interface StepAction {

    /** Re-checks the step's precondition against the live system, right before acting (and again after a crash). */
    Check check(Operation operation, Step step) throws Exception;

    /**
     * Does the step; returns a short output for the record. Throws with a message naming what failed and the fix: the
     * operation pauses with that message and {@code resume} retries the step.
     */
    String act(Operation operation, Step step) throws Exception;

    /**
     * True (the default) when the runner holds the group's lock around {@link #check} and {@link #act}. An action that
     * takes the group's lock itself (a planned switchover) answers false, because a second holder in the same process
     * would wait for the first.
     */
    default boolean underGroupLock() {
        return true;
    }

    /** The verdict of {@link #check}. */
    record Check(Verdict verdict, String reason) {

        public enum Verdict { READY, ALREADY_DONE, SKIP, NOT_READY }

        public Check {
            reason = reason == null ? "" : reason;
        }

        public static Check ready() {
            return new Check(Verdict.READY, "");
        }

        public static Check alreadyDone(String why) {
            return new Check(Verdict.ALREADY_DONE, why);
        }

        public static Check skip(String why) {
            return new Check(Verdict.SKIP, why);
        }

        public static Check notReady(String why) {
            return new Check(Verdict.NOT_READY, why);
        }
    }
}
