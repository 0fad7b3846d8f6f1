package dev.ballast.replication;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * Who serves a replica group now: its master, its replicas, and the epoch, which rises with every change of
 * master. Stored as JSON at {@code /ballast/<cluster>/topology/<group>}; without ZooKeeper it is the config's
 * (epoch 0). {@code phase} is {@link Phase#SWITCHING} while a planned switchover moves the master: writers then
 * hold new writes until the next epoch (bounded) instead of failing them.
 */
public record GroupTopology(String group, NodeAddress master, List<NodeAddress> replicas, long epoch, Phase phase) {

    public enum Phase { SERVING, SWITCHING }

    public GroupTopology {
        replicas = List.copyOf(replicas);
        if (replicas.contains(master)) {
            throw new IllegalArgumentException("group " + group + ": " + master + " is both master and replica");
        }
    }

    /** The topology a config describes, epoch 0. */
    public static GroupTopology of(GroupConfig config) {
        return new GroupTopology(config.name(), config.master(), config.replicas(), 0, Phase.SERVING);
    }

    /** Every server of the group, master first. */
    public List<NodeAddress> servers() {
        List<NodeAddress> all = new ArrayList<>(replicas.size() + 1);
        all.add(master);
        all.addAll(replicas);
        return all;
    }

    /** The topology after {@code newMaster} took over: the next epoch, the old master dropped (it rejoins later). */
    public GroupTopology promoted(NodeAddress newMaster) {
        if (!replicas.contains(newMaster)) {
            throw new IllegalArgumentException("group " + group + ": " + newMaster + " is not a replica of " + this);
        }
        List<NodeAddress> rest = new ArrayList<>(replicas);
        rest.remove(newMaster);
        return new GroupTopology(group, newMaster, rest, epoch + 1, Phase.SERVING);
    }

    public GroupTopology withPhase(Phase newPhase) {
        return new GroupTopology(group, master, replicas, epoch, newPhase);
    }

    /** The same epoch with one more replica (an old master that rejoined). */
    public GroupTopology withReplica(NodeAddress node) {
        if (node.equals(master) || replicas.contains(node)) {
            return this;
        }
        List<NodeAddress> more = new ArrayList<>(replicas);
        more.add(node);
        return new GroupTopology(group, master, more, epoch, phase);
    }

    /** The document stored at {@code topology/<group>}. */
    public ObjectNode toDocument() {
        ObjectNode o = Documents.object();
        o.put("group", group).put("master", master.toString());
        ArrayNode r = o.putArray("replicas");
        replicas.forEach(n -> r.add(n.toString()));
        return o.put("epoch", epoch).put("phase", phase.name());
    }

    public String toJson() {
        return Documents.write(toDocument());
    }

    /**
     * Reads what {@link #toJson()} writes (keys in any order, unknown keys ignored; a missing phase is SERVING).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static GroupTopology fromJson(String json) {
        return fromDocument(Documents.readObject(json, "topology"));
    }

    /** Reads a topology document (also one nested in an audit record). */
    public static GroupTopology fromDocument(JsonNode o) {
        String what = "topology";
        String group = Documents.text(o, "group", what);
        what = "topology of group " + group;
        List<NodeAddress> replicas = new ArrayList<>();
        JsonNode r = Documents.required(o, "replicas", what);
        if (!r.isArray()) {
            throw new IllegalArgumentException(what + ": 'replicas' is not a list: " + r);
        }
        for (JsonNode n : r) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException(what + ": a replica is not host:port text: " + n);
            }
            replicas.add(NodeAddress.parse(n.asText()));
        }
        long epoch = Documents.integer(o, "epoch", what);
        JsonNode phase = o.get("phase");
        return new GroupTopology(group, NodeAddress.parse(Documents.text(o, "master", what)), replicas, epoch,
                phase == null || phase.isNull() ? Phase.SERVING : Phase.valueOf(phase.asText()));
    }


    @Override
    public String toString() {
        return toJson();
    }
}
