package dev.ballast.rules;

import java.util.List;

/**
 * A replica group: one master and its replicas, as the configuration names them at start. The live
 * topology (who is master now) may differ after a failover; that is kept by the topology store.
 */
public record GroupConfig(String name, NodeAddress master, List<NodeAddress> replicas, Flavour flavour) {

    public GroupConfig {
        replicas = List.copyOf(replicas);
    }
}
