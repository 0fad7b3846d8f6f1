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

    /** {@code ballast status}, as text. */
    public static String status(dev.ballast.rules.ClusterConfig config, TopologyStore store) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        BallastCli.status(config, store, new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}
