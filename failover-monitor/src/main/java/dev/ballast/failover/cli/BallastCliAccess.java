package dev.ballast.failover.cli;

import dev.ballast.topology.TopologyStore;

/** What the CLI does, callable from code (tests, embedding tools) without going through {@code main}. */
public final class BallastCliAccess {

    private BallastCliAccess() {
    }

    /** {@code ballast ack}: acknowledges the group's latest failover. */
    public static String ack(TopologyStore store, String group) {
        return BallastCli.acknowledge(store, group);
    }
}
