package dev.ballast.failover.model;

import dev.ballast.rules.NodeAddress;

/** One replica's place in a recovery plan, and why. */
public record Verdict(NodeAddress node, Standing standing, String reason) {

    public enum Standing {
        /** The one to promote. */
        CANDIDATE,
        /** As advanced as the candidate, not chosen (rule or order). */
        EQUAL,
        /** Less advanced than the candidate: repointed, it fetches the rest from the new master. */
        BEHIND,
        /** Cannot be promoted nor safely repointed (unreachable, errant transactions, must_not, ahead-but-excluded...). */
        UNUSABLE
    }
}
