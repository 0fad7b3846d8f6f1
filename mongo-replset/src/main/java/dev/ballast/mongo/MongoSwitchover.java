package dev.ballast.mongo;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoSocketException;
import dev.ballast.rules.MongoReplicaSetConfig;
import org.bson.Document;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Planned change of a replica set's primary: check the target ({@link #choose}), freeze every other electable secondary
 * ({@code replSetFreeze stepDownSecs}) so that only the target can win, step the primary down with a catch-up period
 * ({@code replSetStepDown stepDownSecs, secondaryCatchUpPeriodSecs catchUpSecs}), confirm the target is primary under a
 * new term and electionId, and unfreeze the others (also when a step fails). Refusals ({@link MongoRefusedException})
 * happen before anything changes: a target that is not a member, is the primary, is down, an arbiter, hidden, has
 * priority 0, or does not catch up with the primary within {@code catchUpSecs}.
 *
 * <p>Not guaranteed: writes acknowledged with a write concern below majority may be rolled back by a real replica set if
 * the old primary had them alone; clients with retryable writes see a pause (no primary) of about one election, not an
 * error.
 */
public final class MongoSwitchover {

    /** What happened, with the pause between the step-down and the new primary confirmed. */
    public record Result(String replicaSet, String from, String to, long termBefore, long termAfter,
                         String electionIdBefore, String electionIdAfter, long noPrimaryMs, long totalMs) {
    }

    /** A step failed after something changed (the message says what was undone). */
    public static final class MongoSwitchoverException extends RuntimeException {
        public MongoSwitchoverException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final MongoReplicaSetConfig rs;
    private final ReplicaSetProbe probe;
    private final long confirmTimeoutMs;

    public MongoSwitchover(MongoReplicaSetConfig rs, ReplicaSetProbe probe) {
        this(rs, probe, 30_000);
    }

    public MongoSwitchover(MongoReplicaSetConfig rs, ReplicaSetProbe probe, long confirmTimeoutMs) {
        this.rs = rs;
        this.probe = probe;
        this.confirmTimeoutMs = confirmTimeoutMs;
    }

    /**
     * The member to promote, or the refusal: a pure function of one look at the set. Without {@code to}: the electable
     * secondary with the highest priority, then the newest optime.
     */
    public static MemberStatus choose(String replicaSet, ReplicaSetStatus status, Optional<String> to) {
        MemberStatus primary = status.primary().orElseThrow(() -> new MongoRefusedException("[replicaSet=" + replicaSet
                + "] no primary now (states: " + states(status) + "); a switchover needs one: wait for the election, "
                + "see 'ballast status'"));
        if (to.isPresent()) {
            MemberStatus t = status.member(to.get()).orElseThrow(() -> new MongoRefusedException("[replicaSet=" + replicaSet
                    + "] " + to.get() + " is not a member; members are "
                    + status.members().stream().map(MemberStatus::member).toList()));
            refusal(replicaSet, t, primary).ifPresent(reason -> {
                throw new MongoRefusedException(reason);
            });
            return t;
        }
        List<String> reasons = new ArrayList<>();
        MemberStatus best = null;
        for (MemberStatus m : status.members()) {
            if (m == primary) {
                continue;
            }
            Optional<String> r = refusal(replicaSet, m, primary);
            if (r.isPresent()) {
                reasons.add(r.get());
            } else if (best == null || m.priority() > best.priority()
                    || m.priority() == best.priority() && m.compareOptime(best) > 0) {
                best = m;
            }
        }
        if (best == null) {
            throw new MongoRefusedException("[replicaSet=" + replicaSet + "] no secondary can become primary: "
                    + String.join("; ", reasons));
        }
        return best;
    }

    private static Optional<String> refusal(String replicaSet, MemberStatus t, MemberStatus primary) {
        String at = "[replicaSet=" + replicaSet + " member=" + t.member() + "] refusing switchover: ";
        if (t.member().equals(primary.member())) {
            return Optional.of(at + "it is already the primary; name a secondary with --to");
        }
        if (!t.reachable()) {
            return Optional.of(at + "it does not answer (" + t.error() + "); start it or choose another member");
        }
        if (t.arbiter()) {
            return Optional.of(at + "it is an arbiter and holds no data; choose a data-bearing secondary");
        }
        if (t.hidden()) {
            return Optional.of(at + "it is hidden, and a hidden member can never be primary; unhide it "
                    + "(rs.reconfig) or choose another member");
        }
        if (t.priority() <= 0) {
            return Optional.of(at + "it has priority 0, and can never be primary; raise its priority (rs.reconfig) or "
                    + "choose another member");
        }
        if (!t.isSecondary()) {
            return Optional.of(at + "its state is " + t.state() + ", not SECONDARY; wait until it is");
        }
        return Optional.empty();
    }

    private static String states(ReplicaSetStatus s) {
        return String.join(", ", s.members().stream().map(m -> m.member() + " " + m.state()).toList());
    }

    /** Moves the primary to {@code to} (or the best secondary). */
    public Result run(Optional<String> to) {
        long start = System.nanoTime();
        ReplicaSetStatus before = probe.probe();
        MemberStatus target = choose(rs.name(), before, to);
        MemberStatus primary = before.primary().orElseThrow();
        awaitCaughtUp(target, primary);

        List<String> frozen = new ArrayList<>();
        try {
            for (MemberStatus m : before.members()) {
                if (m.reachable() && m.isSecondary() && !m.member().equals(target.member())) {
                    probe.command(m.member(), new Document("replSetFreeze", rs.stepDownSecs()));
                    frozen.add(m.member());
                }
            }
            long stepDownAt = System.nanoTime();
            try {
                probe.command(primary.member(), new Document("replSetStepDown", rs.stepDownSecs())
                        .append("secondaryCatchUpPeriodSecs", rs.catchUpSecs()));
            } catch (MongoSocketException e) {
                // servers before 4.2 close every connection when they step down: the confirmation below tells
            } catch (MongoCommandException e) {
                throw new MongoSwitchoverException("[replicaSet=" + rs.name() + " member=" + primary.member()
                        + "] replSetStepDown failed: " + e.getErrorMessage() + " (code " + e.getErrorCode()
                        + "); the primary did not step down, nothing moved" + unfreezeNote(frozen), e);
            }
            ReplicaSetStatus after = awaitNewPrimary(before, target.member());
            long confirmed = System.nanoTime();
            MemberStatus now = after.primary().orElseThrow();
            return new Result(rs.name(), primary.member(), now.member(), before.term(), after.term(),
                    primary.electionId(), now.electionId(), TimeUnit.NANOSECONDS.toMillis(confirmed - stepDownAt),
                    TimeUnit.NANOSECONDS.toMillis(confirmed - start));
        } finally {
            for (String m : frozen) {
                try {
                    probe.command(m, new Document("replSetFreeze", 0));
                } catch (RuntimeException e) {
                    // a member that went away is unfrozen by its restart; the freeze also ends by itself
                }
            }
        }
    }

    private String unfreezeNote(List<String> frozen) {
        return frozen.isEmpty() ? "" : "; " + frozen + " are unfrozen again";
    }

    /** The target must reach the primary's optime within catchUpSecs, else the switchover is refused (nothing changed). */
    private void awaitCaughtUp(MemberStatus target, MemberStatus primary) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(rs.catchUpSecs());
        MemberStatus t = target;
        while (true) {
            if (t.compareOptime(primary) >= 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new MongoRefusedException("[replicaSet=" + rs.name() + " member=" + target.member()
                        + "] refusing switchover: it lags; its optime " + t.optimeSeconds() + "." + t.optimeInc()
                        + " is behind the primary's " + primary.optimeSeconds() + "." + primary.optimeInc()
                        + " (lag " + t.lagMs() + " ms) after catchUpSecs " + rs.catchUpSecs()
                        + "; wait until it catches up (ballast status) or choose another member");
            }
            sleep(100);
            t = probe.probe().member(target.member()).orElse(t);
        }
    }

    private ReplicaSetStatus awaitNewPrimary(ReplicaSetStatus before, String target) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(confirmTimeoutMs);
        String oldElection = before.primary().map(MemberStatus::electionId).orElse("");
        ReplicaSetStatus s = before;
        while (System.nanoTime() < deadline) {
            s = probe.probe();
            Optional<MemberStatus> p = s.primary();
            if (p.isPresent() && !p.get().electionId().equals(oldElection) && s.term() > before.term()) {
                if (!p.get().member().equals(target)) {
                    throw new MongoSwitchoverException("[replicaSet=" + rs.name() + "] " + p.get().member()
                            + " was elected instead of " + target + " (term " + s.term() + "); the set has a primary, "
                            + "run the switchover again to move it", null);
                }
                return s;
            }
            sleep(20);
        }
        throw new MongoSwitchoverException("[replicaSet=" + rs.name() + "] no new primary within " + confirmTimeoutMs
                + " ms after the step-down (states: " + states(s) + "); the old primary may be re-elected after "
                + "stepDownSecs " + rs.stepDownSecs() + "; check 'ballast status'", null);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MongoSwitchoverException("interrupted", e);
        }
    }

    static Comparator<MemberStatus> byOptime() {
        return MemberStatus::compareOptime;
    }
}
