package dev.ballast.failover.model;

import dev.ballast.replication.Position;
import dev.ballast.rules.NodeAddress;

import java.util.List;
import java.util.Optional;

/**
 * What a recovery will do: the replica to promote (none when nobody may be), the position it must have applied before
 * promotion (what it received), and the verdict on every replica.
 */
public record Plan(String group, Optional<NodeAddress> candidate, Position mustApply, List<Verdict> verdicts) {

    public Plan {
        verdicts = List.copyOf(verdicts);
    }

    public List<NodeAddress> withStanding(Verdict.Standing standing) {
        return verdicts.stream().filter(v -> v.standing() == standing).map(Verdict::node).toList();
    }
}
