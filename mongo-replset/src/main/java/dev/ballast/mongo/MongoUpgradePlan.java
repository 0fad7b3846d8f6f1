package dev.ballast.mongo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The plan of a rolling binary upgrade of one replica set, a pure function of one look at it ({@link #plan}): every
 * secondary (and arbiter) not yet on the target version, one at a time — stop, install, start with the user's
 * commands, then wait until it is SECONDARY (ARBITER), runs the target version and has caught up with the primary —
 * then the primary steps down to an upgraded electable secondary, then the old primary the same way. Members already on
 * the target version get no step, so planning again after an interruption plans only what is left.
 *
 * <p>Refused (before anything changes): no primary, a member down or of unknown version, a target older than a member
 * (a downgrade), a jump of more than one release series (MongoDB upgrades one major release at a time, with the
 * featureCompatibilityVersion of the old one), or no electable secondary to hand the primary to. Raising
 * featureCompatibilityVersion is its own step ({@link #checkFeatureCompatibility}); an upgrade into a newer series is
 * refused while the FCV is below the series the members leave, when the caller knows it.
 *
 * <p>The target is written as the operator means it: a member is at {@code 7.0} when its version starts with those
 * numbers ({@code 7.0.14} is at {@code 7.0}, and so is not a downgrade), at {@code 7.0.14} only when it is that release
 * ({@link #compareToTarget}).
 */
public final class MongoUpgradePlan {

    public static final String STOP = "mongo-stop";
    public static final String INSTALL = "mongo-install";
    public static final String START = "mongo-start";
    public static final String AWAIT = "mongo-await-secondary";
    public static final String STEP_DOWN = "mongo-step-down";

    /** One step as plain data; the rolling-upgrade module turns it into an engine step. */
    public record PlannedStep(String replicaSet, String member, String action, Map<String, String> parameters,
                              String precondition) {
        public PlannedStep {
            parameters = Map.copyOf(parameters);
        }
    }

    private MongoUpgradePlan() {
    }

    public static List<PlannedStep> plan(ReplicaSetStatus status, String targetVersion) {
        return plan(status, targetVersion, Optional.empty());
    }

    /**
     * Like {@link #plan(ReplicaSetStatus, String)}, and when the set's featureCompatibilityVersion is known: an upgrade
     * into a newer release series is refused unless the FCV is at the series the members leave (MongoDB's
     * prerequisite: a 7.0 binary starts on data of FCV 6.0, not 5.0).
     */
    public static List<PlannedStep> plan(ReplicaSetStatus status, String targetVersion, Optional<String> fcv) {
        List<PlannedStep> steps = planMembers(status, targetVersion);
        if (fcv.isPresent() && !steps.isEmpty()) {
            for (MemberStatus m : status.members()) {
                String leaves = majorMinor(m.version());
                if (series(leaves) < series(targetVersion) && compareVersions(fcv.get(), leaves) < 0) {
                    throw new MongoRefusedException("[replicaSet=" + status.name() + "] refusing upgrade to " + targetVersion
                            + ": its featureCompatibilityVersion is " + fcv.get() + ", and member " + m.member() + " leaves "
                            + m.version() + ": MongoDB starts a binary of the next release series only on data of FCV "
                            + leaves + "; set it first ('ballast upgrade fcv --group " + status.name() + " --version "
                            + leaves + "') and plan again");
                }
            }
        }
        return steps;
    }

    private static List<PlannedStep> planMembers(ReplicaSetStatus status, String targetVersion) {
        String rs = status.name();
        String at = "[replicaSet=" + rs + "] refusing upgrade to " + targetVersion + ": ";
        MemberStatus primary = status.primary().orElseThrow(() -> new MongoRefusedException(at + "no primary now; wait for "
                + "the election (ballast status)"));
        for (MemberStatus m : status.members()) {
            if (!m.reachable()) {
                throw new MongoRefusedException(at + "member " + m.member() + " is down (" + m.error() + "); an upgrade "
                        + "takes one member down at a time, so every member must be up first");
            }
            if (m.version().isEmpty()) {
                throw new MongoRefusedException(at + "member " + m.member() + " did not report its version (buildInfo); "
                        + "check that the configured user may run buildInfo there, and plan again");
            }
            int c = compareToTarget(m.version(), targetVersion);
            if (c > 0) {
                throw new MongoRefusedException(at + "member " + m.member() + " runs " + m.version() + ", newer than the "
                        + "target: downgrades are not planned; choose a target of at least " + m.version());
            }
            if (c < 0 && series(targetVersion) - series(m.version()) > 1) {
                throw new MongoRefusedException(at + "member " + m.member() + " runs " + m.version() + "; MongoDB upgrades "
                        + "one release series at a time: upgrade to " + nextSeries(m.version()) + " first");
            }
        }
        List<MemberStatus> secondaries = status.members().stream()
                .filter(m -> !m.isPrimary() && compareToTarget(m.version(), targetVersion) < 0).toList();
        List<PlannedStep> steps = new ArrayList<>();
        for (MemberStatus m : secondaries) {
            member(steps, rs, m, targetVersion);
        }
        if (compareToTarget(primary.version(), targetVersion) < 0) {
            Optional<MemberStatus> heir = status.members().stream()
                    .filter(m -> !m.isPrimary() && !m.arbiter() && !m.hidden() && m.priority() > 0)
                    .max((a, b) -> Double.compare(a.priority(), b.priority()));
            if (heir.isEmpty()) {
                throw new MongoRefusedException(at + "no secondary can take over from the primary " + primary.member()
                        + " (arbiters, hidden and priority-0 members cannot be primary); add an electable member first");
            }
            steps.add(new PlannedStep(rs, heir.get().member(), STEP_DOWN, Map.of("from", primary.member(),
                    "to", heir.get().member()), heir.get().member() + " is an upgraded SECONDARY caught up with the primary "
                    + primary.member()));
            member(steps, rs, primary, targetVersion);
        }
        return steps;
    }

    private static void member(List<PlannedStep> steps, String rs, MemberStatus m, String version) {
        Map<String, String> p = Map.of("version", version);
        String state = m.arbiter() ? "ARBITER" : "SECONDARY";
        steps.add(new PlannedStep(rs, m.member(), STOP, p, m.member() + " is not the primary; the others are up"));
        steps.add(new PlannedStep(rs, m.member(), INSTALL, p, m.member() + " is stopped"));
        steps.add(new PlannedStep(rs, m.member(), START, p, m.member() + " has " + version + " installed"));
        steps.add(new PlannedStep(rs, m.member(), AWAIT, Map.of("version", version, "state", state), m.member()
                + " answers as " + state + " on " + version + (m.arbiter() ? "" : ", caught up with the primary")));
    }

    /**
     * Raising featureCompatibilityVersion to {@code fcv}: refused while any member runs binaries older than it (or is down:
     * its version is unknown).
     */
    public static void checkFeatureCompatibility(ReplicaSetStatus status, String fcv) {
        for (MemberStatus m : status.members()) {
            if (!m.reachable() || m.version().isEmpty()) {
                throw new MongoRefusedException("[replicaSet=" + status.name() + " member=" + m.member() + "] refusing "
                        + "featureCompatibilityVersion " + fcv + ": its binary version is unknown (it is down); start it");
            }
            if (compareVersions(majorMinor(m.version()), fcv) < 0) {
                throw new MongoRefusedException("[replicaSet=" + status.name() + " member=" + m.member() + "] refusing "
                        + "featureCompatibilityVersion " + fcv + ": it runs " + m.version() + "; finish the rolling upgrade "
                        + "of every member first");
            }
        }
    }

    static String majorMinor(String version) {
        String[] p = version.split("\\.");
        return p.length >= 2 ? p[0] + "." + p[1] : version;
    }

    /** Release series in order: 4.0, 4.2, 4.4, 5.0, 6.0, 7.0, 8.0 ... as one number each (x.y -> 10x + y/2 roughly). */
    static int series(String version) {
        String[] p = version.split("\\.");
        int major = Integer.parseInt(p[0].replaceAll("\\D.*", ""));
        int minor = p.length > 1 ? Integer.parseInt(p[1].replaceAll("\\D.*", "")) : 0;
        // since 5.0 one series per major version; before, 4.0, 4.2, 4.4 were three
        return major >= 5 ? 3 * 4 + (major - 5) + 1 + 2 : major * 3 + minor / 2;
    }

    static String nextSeries(String version) {
        String[] p = version.split("\\.");
        int major = Integer.parseInt(p[0].replaceAll("\\D.*", ""));
        int minor = p.length > 1 ? Integer.parseInt(p[1].replaceAll("\\D.*", "")) : 0;
        if (major == 4 && minor < 4) {
            return "4." + (minor + 2);
        }
        return major == 4 ? "5.0" : (major + 1) + ".0";
    }

    /**
     * Compares {@code version} with {@code target} on the target's numbers only: negative older, 0 at the target,
     * positive newer. {@code 7.0.14} is at {@code 7.0} and at {@code 7}; it is newer than {@code 7.0.2}.
     */
    public static int compareToTarget(String version, String target) {
        String[] x = version.split("\\.");
        String[] y = target.split("\\.");
        for (int i = 0; i < y.length; i++) {
            int p = i < x.length ? leadingNumber(x[i]) : 0;
            int q = leadingNumber(y[i]);
            if (p != q) {
                return Integer.compare(p, q);
            }
        }
        return 0;
    }

    /** The digits a version part starts with ({@code "14-rc1"} is 14), 0 when none. */
    private static int leadingNumber(String part) {
        String digits = part.replaceAll("\\D.*", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits);
    }

    /** True when {@code version} is at {@code target} ({@link #compareToTarget} is 0). */
    public static boolean reaches(String version, String target) {
        return !version.isEmpty() && compareToTarget(version, target) == 0;
    }

    /** Compares dotted versions numerically (7.0.14 > 7.0.9). */
    public static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int p = i < x.length ? leadingNumber(x[i]) : 0;
            int q = i < y.length ? leadingNumber(y[i]) : 0;
            if (p != q) {
                return Integer.compare(p, q);
            }
        }
        return 0;
    }
}
