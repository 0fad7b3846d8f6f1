package dev.ballast.mongo;

/**
 * A MongoDB operation refused for safety before it changed anything; the message names the replica set, the member, the
 * reason and the way out. The CLI turns it into its refusal (exit 3).
 */
public final class MongoRefusedException extends RuntimeException {
    public MongoRefusedException(String message) {
        super(message);
    }
}
