package dev.ballast.upgrade;

/** An operation could not be created, changed or run; the message names the cluster, group or step and the way out. */
public class OperationException extends RuntimeException {

    public OperationException(String message) {
        super(message);
    }

    public OperationException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Another writer changed the operation since it was read: nothing was overwritten. */
    public static final class ConcurrentUpdate extends OperationException {
        public ConcurrentUpdate(String message) {
            super(message);
        }
    }

    /** A group already has an active operation: the new one was not created. */
    public static final class GroupBusy extends OperationException {
        private final String running;

        public GroupBusy(String message, String running) {
            super(message);
            this.running = running;
        }

        /** The id of the operation that holds the group. */
        public String running() {
            return running;
        }
    }
}
