package dev.ballast.failover.model;

import dev.ballast.rules.NodeAddress;

/**
 * A named problem the analysis found in one group.
 *
 * @param kind   what is wrong
 * @param group  the replica group
 * @param node   the node it is about (the master for master problems)
 * @param detail the evidence, for logs and the audit record
 */
public record Problem(Kind kind, String group, NodeAddress node, String detail) {

    public enum Kind {
        /**
         * The master is unreachable from every monitor that reported, and no reachable replica still hears from it
         * (receiver connected and something received, heartbeats included, within a few heartbeat periods): recover.
         */
        DEAD_MASTER(true),
        /** The master and some replicas are dead, at least one replica is alive: recover with what is left. */
        DEAD_MASTER_AND_SOME_REPLICAS(true),
        /** Some monitors cannot reach the master but others can, or replicas still hear from it: do nothing. */
        UNREACHABLE_MASTER(false),
        /** Master and every replica unreachable: nothing to promote. */
        DEAD_MASTER_AND_REPLICAS(false),
        /** A reachable replica's IO or SQL thread is stopped or failing. */
        REPLICATION_STOPPED(false),
        /** A replica's lag is above the limit. */
        LAGGING_REPLICA(false),
        /** A replica cannot be reached. */
        DEAD_REPLICA(false),
        /** A node other than the topology's master is writable. */
        TWO_WRITABLE_NODES(false),
        /** A replica has transactions the master does not have. */
        ERRANT_TRANSACTIONS(false),
        /** A replica replicates from a node other than the topology's master. */
        WRONG_MASTER(false),
        /**
         * A replica's heartbeat period is off or longer than {@code failover.heartbeatPeriodMs}: if its master hangs, it
         * is noticed only when that replica's receiver gives up ({@code slave_net_timeout}).
         */
        SLOW_HEARTBEAT(false);

        private final boolean needsFailover;

        Kind(boolean needsFailover) {
            this.needsFailover = needsFailover;
        }

        /** Whether the monitor answers this problem with a promotion. */
        public boolean needsFailover() {
            return needsFailover;
        }
    }
}
