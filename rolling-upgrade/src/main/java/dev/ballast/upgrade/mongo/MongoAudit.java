package dev.ballast.upgrade.mongo;

import dev.ballast.failover.AuditRecord;
import dev.ballast.mongo.MemberStatus;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.MongoSwitchover;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.Step;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What MongoDB changes leave in the cluster's audit log ({@code recoveries/}, beside the MySQL failovers and
 * switchovers, read by {@code ballast status}): kind {@code mongo-switchover} (written when the step-down starts and
 * rewritten with its outcome, so an interrupted one shows), {@code mongo-fcv} (a featureCompatibilityVersion change)
 * and {@code mongo-upgrade} (how each run of an upgrade operation ended). The record's {@code group} is the replica
 * set; {@code before}/{@code after} name the {@code primary}.
 *
 * <p>Refusals change nothing and are not recorded, as for MySQL.
 */
public final class MongoAudit {

    public static final String SWITCHOVER = "mongo-switchover";
    public static final String FCV = "mongo-fcv";
    public static final String UPGRADE = "mongo-upgrade";

    private MongoAudit() {
    }

    /**
     * A switchover of {@code rs} to {@code to} (or the best secondary) with its audit record: refusals are thrown
     * before the record is written; the record is {@code started} before the step-down, then {@code done},
     * {@code refused} (the target did not catch up: nothing changed) or {@code failed} with the reason.
     *
     * @param operation the upgrade operation that asked for it, empty for {@code ballast switchover}
     */
    public static MongoSwitchover.Result switchover(TopologyStore store, MongoReplicaSetConfig rs, ReplicaSetProbe probe,
                                                    String by, Optional<String> to, Optional<String> operation) {
        ReplicaSetStatus before = probe.probe();
        MemberStatus target = MongoSwitchover.choose(rs.name(), before, to); // refusals: nothing changed, no record
        MemberStatus primary = before.primary().orElseThrow();
        AuditRecord audit = new AuditRecord(SWITCHOVER, rs.name(), by).value("before", primaryDoc(primary.member(),
                before.term(), primary.electionId())).text("candidate", target.member());
        operation.ifPresent(id -> audit.text("operation", id));
        String path = store.appendRecovery(audit.toJson());
        MongoSwitchover.Result r;
        try {
            r = new MongoSwitchover(rs, probe).run(Optional.of(target.member()));
        } catch (MongoRefusedException e) {
            record(store, path, audit.state("refused").text("reason", e.getMessage()));
            throw e;
        } catch (RuntimeException e) {
            record(store, path, audit.state("failed").text("reason", e.getMessage() == null ? e.toString() : e.getMessage()));
            throw e;
        }
        record(store, path, audit.value("after", primaryDoc(r.to(), r.termAfter(), r.electionIdAfter()))
                .value("noPrimaryMs", r.noPrimaryMs()).step("switchover").state("done"));
        return r;
    }

    /** A featureCompatibilityVersion change that was tried: {@code done}, {@code unchanged} or {@code failed}. */
    public static void fcv(TopologyStore store, String replicaSet, String by, String primary, String requested,
                           String before, String after, String state, String reason) {
        AuditRecord audit = new AuditRecord(FCV, replicaSet, by).text("primary", primary).text("requested", requested)
                .text("fcvBefore", before).text("fcvAfter", after);
        if (!reason.isEmpty()) {
            audit.text("reason", reason);
        }
        store.appendRecovery(audit.state(state).toJson());
    }

    /**
     * How one run of upgrade operation {@code op} ended ({@code done}, {@code paused}, {@code aborted}), with the
     * members' versions as {@code now} saw them (empty when the set could not be probed).
     */
    public static void upgrade(TopologyStore store, Operation op, String by, Optional<ReplicaSetStatus> now) {
        String rs = op.groups().iterator().next();
        long done = op.steps().stream().filter(Step::finished).count();
        AuditRecord audit = new AuditRecord(UPGRADE, rs, by).text("operation", op.id())
                .text("target", op.steps().get(0).action().parameters().getOrDefault("version", ""))
                .text("steps", done + "/" + op.steps().size());
        if (!op.reason().isEmpty()) {
            audit.text("reason", op.reason());
        }
        now.ifPresent(s -> {
            Map<String, String> versions = new LinkedHashMap<>();
            s.members().forEach(m -> versions.put(m.member(), m.reachable() ? m.version() + " " + m.state() : "down"));
            audit.value("members", versions);
            s.primary().ifPresent(p -> audit.value("after", primaryDoc(p.member(), s.term(), p.electionId())));
        });
        store.appendRecovery(audit.state(op.state().name().toLowerCase(java.util.Locale.ROOT)).toJson());
    }

    private static Map<String, Object> primaryDoc(String primary, long term, String electionId) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("primary", primary);
        m.put("term", term);
        m.put("electionId", electionId);
        return m;
    }

    private static void record(TopologyStore store, String path, AuditRecord audit) {
        try {
            store.updateRecovery(path, audit.toJson());
        } catch (RuntimeException e) {
            // the change happened (or was refused) all the same; the record stays 'started' and says how far it got
        }
    }
}
