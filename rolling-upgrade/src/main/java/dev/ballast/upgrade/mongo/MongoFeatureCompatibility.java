package dev.ballast.upgrade.mongo;

import com.mongodb.MongoCommandException;
import dev.ballast.mongo.MemberStatus;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.MongoUpgradePlan;
import dev.ballast.mongo.ReplicaSetProbe;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.topology.TopologyStore;
import org.bson.Document;

import java.util.Optional;

/**
 * Sets a replica set's featureCompatibilityVersion, the last step of a MongoDB upgrade (and the first of a downgrade):
 * refused ({@link MongoRefusedException}, nothing changed) while any member runs binaries older than the requested
 * version or does not answer ({@link MongoUpgradePlan#checkFeatureCompatibility}); otherwise
 * {@code setFeatureCompatibilityVersion} on the primary, with {@code confirm: true} when the primary runs 7.0 or later
 * (7.0 made it required; older servers do not know the field), and the value read back with {@code getParameter}.
 *
 * <p>Every attempt past the refusals is recorded in the audit log when a store is given ({@link MongoAudit#fcv}).
 * Not guaranteed: the server, not Ballast, decides which values it accepts (its own series or the one before); its
 * refusal is passed on as a failure with its message.
 */
public final class MongoFeatureCompatibility {

    /** What happened: the primary it was run on, the value before and after, whether it changed. */
    public record Result(String replicaSet, String primary, String before, String after, boolean changed,
                         boolean confirmed) {
    }

    private final ReplicaSetProbe probe;
    private final Optional<TopologyStore> audit;
    private final String by;

    public MongoFeatureCompatibility(ReplicaSetProbe probe, Optional<TopologyStore> audit, String by) {
        this.probe = probe;
        this.audit = audit;
        this.by = by;
    }

    /**
     * @throws IllegalArgumentException when {@code fcv} is not MAJOR.MINOR
     * @throws MongoRefusedException    naming the member whose binaries are older (or that is down) and the way out
     * @throws IllegalStateException    when the server refused the change (its message and code)
     */
    public Result set(String fcv) {
        if (fcv == null || !fcv.matches("\\d{1,3}\\.\\d{1,3}")) {
            throw new IllegalArgumentException("'" + fcv + "' is not a featureCompatibilityVersion such as 7.0");
        }
        String name = probe.config().name();
        ReplicaSetStatus s = probe.probe();
        MongoUpgradePlan.checkFeatureCompatibility(s, fcv);
        MemberStatus primary = s.primary().orElseThrow(() -> new MongoRefusedException("[replicaSet=" + name
                + "] refusing featureCompatibilityVersion " + fcv + ": no primary now; wait for the election"
                + " ('ballast status') and run it again"));
        String before = read(primary.member());
        if (before.equals(fcv)) {
            audit.ifPresent(a -> MongoAudit.fcv(a, name, by, primary.member(), fcv, before, before, "unchanged", ""));
            return new Result(name, primary.member(), before, before, false, false);
        }
        boolean confirm = MongoUpgradePlan.compareVersions(primary.version(), "7.0") >= 0;
        Document command = new Document("setFeatureCompatibilityVersion", fcv);
        if (confirm) {
            command.append("confirm", true);
        }
        try {
            probe.command(primary.member(), command);
        } catch (MongoCommandException e) {
            String why = "[replicaSet=" + name + " member=" + primary.member() + "] setFeatureCompatibilityVersion " + fcv
                    + " failed: " + e.getErrorMessage() + " (code " + e.getErrorCode() + "); it is still " + before;
            audit.ifPresent(a -> MongoAudit.fcv(a, name, by, primary.member(), fcv, before, before, "failed", why));
            throw new IllegalStateException(why, e);
        }
        String after = read(primary.member());
        audit.ifPresent(a -> MongoAudit.fcv(a, name, by, primary.member(), fcv, before, after,
                after.equals(fcv) ? "done" : "failed", after.equals(fcv) ? "" : "read back " + after));
        return new Result(name, primary.member(), before, after, !after.equals(before), confirm);
    }

    private String read(String member) {
        return read(probe, member);
    }

    /** The member's featureCompatibilityVersion ({@code getParameter}); during a change, "6.0 (changing to 7.0)". */
    public static String read(ReplicaSetProbe probe, String member) {
        Document reply = probe.command(member, new Document("getParameter", 1).append("featureCompatibilityVersion", 1));
        Document fcv = reply.get("featureCompatibilityVersion", Document.class);
        if (fcv == null || fcv.getString("version") == null) {
            throw new IllegalStateException("[replicaSet=" + probe.config().name() + " member=" + member + "] getParameter"
                    + " did not return featureCompatibilityVersion.version: " + reply.toJson());
        }
        String target = fcv.getString("targetVersion");
        return fcv.getString("version") + (target == null ? "" : " (changing to " + target + ")");
    }
}
