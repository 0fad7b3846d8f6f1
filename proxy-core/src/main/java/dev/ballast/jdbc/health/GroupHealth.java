package dev.ballast.jdbc.health;

import dev.ballast.replication.Position;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.ballast.rules.NodeAddress;

/**
 * One replica group as the latest probe round saw it. Immutable.
 *
 * @param group           the group's name
 * @param master          the master's position as last read (the empty position if never read)
 * @param masterReachable the master answered the latest attempt
 * @param replicas        every replica of the group, in config order
 */
public record GroupHealth(String group, Position master, boolean masterReachable, Map<NodeAddress, ReplicaStatus> replicas) {

    public GroupHealth {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(master, "master");
        replicas = Collections.unmodifiableMap(new LinkedHashMap<>(replicas));
    }

    /** The status of one replica of this group. */
    public ReplicaStatus replica(NodeAddress node) {
        ReplicaStatus status = replicas.get(node);
        if (status == null) {
            throw new IllegalArgumentException("[group=" + group + "] " + node + " is not a replica of this group; replicas are "
                    + replicas.keySet());
        }
        return status;
    }
}
