package dev.ballast.mongo;

import java.util.List;
import java.util.Optional;

/**
 * A replica set at one moment: every configured member's {@link MemberStatus}, the primary if exactly one member says it
 * is, and the term ({@code replSetGetStatus.term}) of the member that answered it.
 */
public record ReplicaSetStatus(String name, List<MemberStatus> members, long term, long takenAtMillis) {

    public ReplicaSetStatus {
        members = List.copyOf(members);
    }

    public Optional<MemberStatus> primary() {
        List<MemberStatus> primaries = members.stream().filter(MemberStatus::isPrimary).toList();
        return primaries.size() == 1 ? Optional.of(primaries.get(0)) : Optional.empty();
    }

    public Optional<MemberStatus> member(String hostPort) {
        return members.stream().filter(m -> m.member().equals(hostPort)).findFirst();
    }
}
