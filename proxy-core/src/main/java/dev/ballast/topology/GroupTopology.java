package dev.ballast.topology;

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

    public String toJson() {
        StringBuilder b = new StringBuilder("{\"group\":\"").append(group).append("\",\"master\":\"").append(master)
                .append("\",\"replicas\":[");
        for (int i = 0; i < replicas.size(); i++) {
            b.append(i == 0 ? "" : ",").append('"').append(replicas.get(i)).append('"');
        }
        return b.append("],\"epoch\":").append(epoch).append(",\"phase\":\"").append(phase).append("\"}").toString();
    }

    /**
     * Reads what {@link #toJson()} writes (keys in any order, whitespace allowed).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static GroupTopology fromJson(String json) {
        Json.Obj o = Json.parseObject(json);
        List<NodeAddress> replicas = new ArrayList<>();
        for (String r : o.strings("replicas")) {
            replicas.add(NodeAddress.parse(r));
        }
        String phase = o.has("phase") ? o.string("phase") : Phase.SERVING.name();
        return new GroupTopology(o.string("group"), NodeAddress.parse(o.string("master")), replicas, o.number("epoch"),
                Phase.valueOf(phase));
    }

    @Override
    public String toString() {
        return toJson();
    }
}
