package dev.ballast.mongo;

import java.util.Optional;

/**
 * One member of a replica set as one look at it saw it (its own {@code hello} and {@code buildInfo}, its entry in
 * {@code replSetGetConfig}). Immutable; written to ZooKeeper as JSON by the watcher.
 *
 * @param member        host:port as configured
 * @param reachable     it answered {@code hello}
 * @param state         {@code PRIMARY}, {@code SECONDARY}, {@code ARBITER}, {@code OTHER} (recovering, startup...) or
 *                      {@code DOWN} when unreachable
 * @param optimeSeconds seconds of its last applied optime ({@code hello.lastWrite.opTime.ts}); -1 when unknown
 * @param optimeInc     increment of that timestamp
 * @param lagMs         how far its last write is behind the primary's ({@code lastWriteDate} difference); -1 unknown
 * @param pingMs        round trip of the {@code hello}; -1 when unreachable
 * @param configVersion replica set config version it runs ({@code hello.setVersion}); -1 unknown
 * @param electionId    the primary's electionId (hex), empty on other members
 * @param priority      election priority from the set's config; 0 = never primary
 * @param hidden        hidden from clients (never primary)
 * @param arbiter       votes, holds no data
 * @param version       binary version ({@code buildInfo.version}); empty when unknown
 * @param error         why it was not reachable, empty when it was
 */
public record MemberStatus(String member, boolean reachable, String state, long optimeSeconds, int optimeInc, long lagMs,
                           long pingMs, int configVersion, String electionId, double priority, boolean hidden,
                           boolean arbiter, String version, String error) {

    public boolean isPrimary() {
        return "PRIMARY".equals(state);
    }

    public boolean isSecondary() {
        return "SECONDARY".equals(state);
    }

    /** Compares optimes; a member with an unknown optime is behind every known one. */
    public int compareOptime(MemberStatus other) {
        int c = Long.compare(optimeSeconds, other.optimeSeconds);
        return c != 0 ? c : Integer.compare(optimeInc, other.optimeInc);
    }

    public Optional<String> versionIfKnown() {
        return version.isEmpty() ? Optional.empty() : Optional.of(version);
    }
}
