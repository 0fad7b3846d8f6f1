package dev.ballast.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Draws a {@link StatusView} as a tree per group, for a human; ANSI colours only when asked. */
final class StatusTree {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
    private static final Set<String> GOOD = Set.of("writable", "replicating");
    private static final Set<String> WARN = Set.of("lagging", "connecting", "read-only", "disputed", "not-replicating");

    private final boolean colour;

    StatusTree(boolean colour) {
        this.colour = colour;
    }

    String render(StatusView v) {
        StringBuilder b = new StringBuilder();
        b.append(bold("cluster " + v.cluster())).append("  ZooKeeper ").append(v.zookeeper()).append("  monitors: ")
                .append(v.monitors().isEmpty() ? paint("none publishing", "31") : String.join(", ", v.monitors()))
                .append('\n');
        for (StatusView.GroupView g : v.groups()) {
            b.append('\n').append(bold("group " + g.group()));
            if (g.epoch() == null) {
                b.append("  no topology in ZooKeeper yet (a monitor writes the config's at its start)\n");
            } else {
                b.append("  epoch ").append(g.epoch()).append("  ").append(g.phase().toLowerCase(java.util.Locale.ROOT)).append('\n');
            }
            int width = g.nodes().stream().mapToInt(n -> n.address().length()).max().orElse(0);
            for (int i = 0; i < g.nodes().size(); i++) {
                StatusView.NodeView n = g.nodes().get(i);
                boolean last = i == g.nodes().size() - 1;
                b.append(last ? "└─ " : "├─ ").append(pad(n.role(), 8)).append(pad(n.address(), width + 2))
                        .append(facts(n.state(), n.lagMs(), n.caughtUp(), n.gtid(), n.received(), n.detail())).append('\n');
                if (n.disputed()) {
                    List<Map.Entry<String, StatusView.ProbeView>> views = new ArrayList<>(n.monitors().entrySet());
                    for (int j = 0; j < views.size(); j++) {
                        StatusView.ProbeView p = views.get(j).getValue();
                        b.append(last ? "   " : "│  ").append(j == views.size() - 1 ? "└─ " : "├─ ").append("seen by ")
                                .append(views.get(j).getKey()).append(": ")
                                .append(facts(p.state(), p.lagMs(), p.caughtUp(), p.gtid(), p.received(), p.detail())).append('\n');
                    }
                }
            }
        }
        for (StatusView.ReplicaSetView rs : v.replicaSets()) {
            b.append('\n').append(bold("replica set " + rs.replicaSet())).append("  term ")
                    .append(rs.term() == null ? "?" : rs.term()).append("  primary ")
                    .append(rs.primary() == null ? paint("none", "31") : rs.primary()).append('\n');
            int width = rs.members().stream().mapToInt(m -> m.address().length()).max().orElse(0);
            for (int i = 0; i < rs.members().size(); i++) {
                StatusView.MemberView m = rs.members().get(i);
                boolean last = i == rs.members().size() - 1;
                StringBuilder f = new StringBuilder(paint(pad(m.state(), 11), Set.of("primary", "secondary", "arbiter")
                        .contains(m.state()) ? "32" : WARN.contains(m.state()) || m.state().equals("other") ? "33" : "31"));
                if (m.lagMs() != null) {
                    f.append(" lag ").append(m.lagMs()).append(" ms");
                }
                if (m.pingMs() != null) {
                    f.append(" ping ").append(m.pingMs()).append(" ms");
                }
                if (m.configVersion() != null) {
                    f.append(" config v").append(m.configVersion());
                }
                if (m.version() != null) {
                    f.append(" mongod ").append(m.version());
                }
                if (m.detail() != null && !m.detail().isEmpty()) {
                    f.append(" — ").append(m.detail());
                }
                if (m.disputed()) {
                    f.append(" (monitors: ").append(m.monitors()).append(')');
                }
                b.append(last ? "└─ " : "├─ ").append(pad(m.address(), width + 2)).append(f.toString().stripTrailing())
                        .append('\n');
            }
        }
        if (!v.maintenance().isEmpty()) {
            b.append('\n').append(bold("under maintenance")).append(" (no new reads; not failed over for being down)\n");
            for (StatusView.MaintenanceView m : v.maintenance()) {
                b.append("  ").append(m.node()).append("  since ").append(m.since() > 0 ? TIME.format(Instant.ofEpochMilli(m.since())) : "?")
                        .append("  ").append(m.reason()).append(m.by().isEmpty() ? "" : "  by " + m.by()).append('\n');
            }
        }
        if (!v.operations().isEmpty()) {
            b.append('\n').append(bold("active operations")).append('\n');
            for (StatusView.OperationView o : v.operations()) {
                b.append("  group ").append(o.group()).append("  ").append(o.id()).append("  ").append(o.kind()).append("  ")
                        .append(o.state()).append(o.reason().isEmpty() ? "" : "  (" + o.reason().replace('\n', ' ') + ")")
                        .append('\n');
            }
        }
        if (!v.dataPlanes().isEmpty()) {
            b.append('\n').append(bold("data planes")).append(" (schema version ").append(v.schemaVersion()).append(")\n");
            for (StatusView.DataPlaneView d : v.dataPlanes()) {
                boolean behind = d.schemaVersion() < v.schemaVersion();
                b.append("  ").append(d.name()).append("  ").append(d.process())
                        .append(d.main().isEmpty() ? "" : "  " + d.main()).append("  schema version ").append(d.schemaVersion())
                        .append(behind ? "  " + paint("BEHIND", "31") : "")
                        .append(d.failure().isEmpty() ? "" : "  (" + d.failure().replace('\n', ' ') + ")").append('\n');
            }
        }
        b.append('\n').append(bold("last recoveries")).append(v.recoveries().isEmpty() ? "  none\n" : " (oldest first)\n");
        for (StatusView.RecoveryView r : v.recoveries()) {
            b.append("  ").append(r.id()).append("  ").append(r.startedAt() == null ? "?" : TIME.format(Instant.ofEpochMilli(r.startedAt())))
                    .append("  ").append(pad(r.kind(), 10)).append(' ').append(r.group()).append("  ");
            if (r.beforeMaster() != null || r.afterMaster() != null) {
                // a switchover that did not finish names the replica it was promoting
                b.append(r.beforeMaster()).append(" → ").append(r.afterMaster() != null ? r.afterMaster()
                        : r.candidate() != null ? "? (candidate " + r.candidate() + ")" : "?");
            } else if (r.node() != null) {
                b.append("node ").append(r.node());
            }
            b.append("  ").append(r.state());
            if ("failover".equals(r.kind())) {
                b.append(Boolean.TRUE.equals(r.acknowledged()) ? "  acknowledged" : paint("  not acknowledged", "33"));
            }
            b.append("  by ").append(r.by());
            if (r.reason() != null) {
                b.append("  (").append(r.reason()).append(')');
            }
            b.append('\n');
        }
        return b.toString();
    }

    private String facts(String state, Long lagMs, Boolean caughtUp, String gtid, String received, String detail) {
        StringBuilder b = new StringBuilder(paint(pad(state, 15), GOOD.contains(state) ? "32" : WARN.contains(state) ? "33" : "31"));
        if (lagMs != null) {
            b.append(" lag ").append(lagMs).append(" ms").append(lagMs == 0 && Boolean.FALSE.equals(caughtUp) ? " (behind < 1 s)" : "");
        }
        if (lagMs == null && Boolean.FALSE.equals(caughtUp)) {
            b.append(" behind the master");
        }
        if (gtid != null) {
            b.append(" gtid ").append(gtid.isEmpty() ? "(empty)" : gtid);
        }
        if (received != null && !received.equals(gtid)) {
            b.append(" received ").append(received);
        }
        if (detail != null && !detail.isEmpty()) {
            b.append(" — ").append(detail);
        }
        return b.toString().stripTrailing();
    }

    private static String pad(String s, int width) {
        s = s == null ? "?" : s;
        return s.length() >= width ? s + " " : s + " ".repeat(width - s.length());
    }

    private String paint(String s, String code) {
        return colour ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
    }

    private String bold(String s) {
        return paint(s, "1");
    }
}
