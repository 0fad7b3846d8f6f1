package dev.ballast.schema;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.NodeAddress;
import dev.ballast.upgrade.Action;
import dev.ballast.upgrade.Step;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * From the config, the parsed statements, what the servers said ({@link ServerFacts}) and the masters of the live
 * topology to a {@link SchemaPlan}: a pure function. Every statement gets a strategy with its reason; a strategy that
 * cannot do a statement (forced or not) refuses the whole plan with the reason, before anything runs.
 *
 * <p>Choice without {@code --strategy}: CREATE and DROP TABLE are instant (no rows move). An ALTER is instant when every
 * master accepted it with ALGORITHM=INSTANT, else online when every master accepted LOCK=NONE, else rolling when row
 * replication from the old definition survives it, else refused.
 */
public final class SchemaPlanner {

    public static final String DDL = "schema-ddl";
    public static final String SYNC = "schema-sync";
    public static final String REPLICA_DDL = "schema-replica-ddl";
    public static final String SWITCHOVER = "schema-switchover";
    /** The maintenance-mark actions of 'ballast upgrade' (dev.ballast.upgrade.server), reused as they are. */
    public static final String DRAIN = dev.ballast.upgrade.server.UpgradePlan.DRAIN;
    public static final String UNDRAIN = dev.ballast.upgrade.server.UpgradePlan.UNDRAIN;

    private SchemaPlanner() {
    }

    /**
     * @param masters  the current master of every group
     * @param replicas the current replicas of every group
     * @param forced  the strategy given with {@code --strategy}, if any
     * @param maxLagMs {@code schema.maxLagMs}, shown in the reasons (0 = no throttle)
     */
    public static SchemaPlan plan(ClusterConfig config, List<Ddl> ddls, ServerFacts facts, Map<String, NodeAddress> masters,
                                  Map<String, List<NodeAddress>> replicas, Optional<Strategy> forced, long maxLagMs) {
        List<SchemaPlan.Planned> planned = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (Ddl d : ddls) {
            try {
                planned.add(choose(d, facts, forced, maxLagMs));
            } catch (SchemaException e) {
                refused.add(d.describe() + ": " + e.getMessage());
            }
        }
        if (!refused.isEmpty()) {
            throw new SchemaException("refused " + refused.size() + " of " + ddls.size() + " statements, nothing was"
                    + " changed:\n  " + String.join("\n  ", refused));
        }
        List<Step> steps = new ArrayList<>();
        for (SchemaPlan.Planned p : planned) {
            Ddl d = p.ddl();
            List<DataNode> nodes = config.table(d.table()).orElseThrow().dataNodes();
            Set<String> groups = new LinkedHashSet<>();
            for (DataNode n : nodes) {
                groups.add(n.group());
                if (masters.get(n.group()) == null) {
                    throw new SchemaException("[cluster=" + config.name() + " group=" + n.group() + "] no master known;"
                            + " check 'ballast status'");
                }
            }
            if (p.strategy() == Strategy.ROLLING) {
                rollingSteps(d, nodes, groups, masters, replicas, steps);
            } else {
                for (DataNode n : nodes) {
                    NodeAddress master = masters.get(n.group());
                    Map<String, String> params = ddlParams(d, n.table(), p.strategy());
                    params.put("twoPhase", Boolean.toString(p.strategy() == Strategy.ONLINE && facts.twoPhase()));
                    String when = p.strategy() == Strategy.ONLINE && maxLagMs > 0
                            ? "no other ALTER of " + n.table() + " running on the master; every replica of " + n.group()
                            + " within schema.maxLagMs=" + maxLagMs + " ms"
                            : "no other ALTER of " + n.table() + " running on the master";
                    steps.add(Step.pending(n.group(), master.toString(), new Action(DDL, params), when));
                }
            }
            Map<String, String> sync = new LinkedHashMap<>();
            sync.put("statement", Integer.toString(d.number()));
            sync.put("table", d.table());
            sync.put("groups", String.join(",", groups));
            steps.add(Step.pending(groups.iterator().next(), "", new Action(SYNC, sync),
                    "every replica of " + String.join(", ", groups) + " has applied statement #" + d.number()
                            + "; then the schema version rises"));
        }
        return new SchemaPlan(planned, steps);
    }

    private static Map<String, String> ddlParams(Ddl d, String physical, Strategy strategy) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("statement", Integer.toString(d.number()));
        params.put("table", d.table());
        params.put("physical", physical);
        params.put("strategy", strategy.configName());
        params.put("sql", withClause(d.sqlFor(physical), d, strategy));
        params.put("expect", d.expectation());
        return params;
    }

    /**
     * Per group: each replica drained from reads and changed with {@code sql_log_bin=0}, then undrained; a planned
     * switchover to an altered replica; the old master (now a replica) changed the same way.
     */
    private static void rollingSteps(Ddl d, List<DataNode> nodes, Set<String> groups, Map<String, NodeAddress> masters,
                                     Map<String, List<NodeAddress>> replicas, List<Step> steps) {
        for (String g : groups) {
            List<NodeAddress> order = new ArrayList<>(replicas.getOrDefault(g, List.of()));
            if (order.isEmpty()) {
                throw new SchemaException(d.describe() + ": strategy rolling needs a replica in group " + g
                        + " to switch over to; it has none");
            }
            order.add(masters.get(g));
            List<String> physical = nodes.stream().filter(n -> n.group().equals(g)).map(DataNode::table).toList();
            for (int i = 0; i < order.size(); i++) {
                NodeAddress node = order.get(i);
                if (i == order.size() - 1) {
                    Map<String, String> sw = new LinkedHashMap<>();
                    sw.put("statement", Integer.toString(d.number()));
                    sw.put("physical", String.join(",", physical));
                    sw.put("expect", d.expectation());
                    steps.add(Step.pending(g, "", new Action(SWITCHOVER, sw), "every replica of " + g + " has the change;"
                            + " planned switchover to one of them (new writes held, no client error)"));
                }
                steps.add(Step.pending(g, node.toString(), new Action(DRAIN, Map.of("to", "schema change #" + d.number())),
                        node + " is a replica of " + g));
                for (String t : physical) {
                    steps.add(Step.pending(g, node.toString(), new Action(REPLICA_DDL, ddlParams(d, t, Strategy.ROLLING)),
                            node + " is a replica of " + g + ", drained from reads; the change runs with sql_log_bin=0"));
                }
                steps.add(Step.pending(g, node.toString(), Action.of(UNDRAIN), node + " has the change"));
            }
        }
    }

    static SchemaPlan.Planned choose(Ddl d, ServerFacts facts, Optional<Strategy> forced, long maxLagMs) {
        String throttle = (maxLagMs > 0 ? "throttled at schema.maxLagMs=" + maxLagMs + " ms" : "throttle off (schema.maxLagMs=0)")
                + (facts.twoPhase() ? "; logged in two phases (binlog_alter_two_phase): replicas start it with the master"
                : "; logged in one phase: replicas start it when the master has finished (binlog_alter_two_phase needs"
                + " MariaDB >= 10.8 masters and replicas with slave_parallel_threads > 0)");
        if (d.kind() != Ddl.Kind.ALTER_TABLE) {
            String what = d.kind() == Ddl.Kind.CREATE_TABLE ? "creates an empty table: no rows to copy"
                    : "drops the table: a metadata change in InnoDB";
            if (forced.isPresent() && forced.get() != Strategy.INSTANT) {
                throw new SchemaException("--strategy " + forced.get().configName() + " does not apply: it " + what
                        + "; use instant (or leave --strategy out)");
            }
            return new SchemaPlan.Planned(d, Strategy.INSTANT, what + ", run on each group's master and replicated");
        }
        Optional<String> instant = facts.instantRefusal(d.number());
        Optional<String> online = facts.lockNoneRefusal(d.number());
        Optional<String> rolling = d.rollingRefusal();
        if (forced.isPresent()) {
            return switch (forced.get()) {
                case INSTANT -> {
                    if (instant.isPresent()) {
                        throw new SchemaException("--strategy instant: the server refuses ALGORITHM=INSTANT (" + instant.get()
                                + ")");
                    }
                    yield new SchemaPlan.Planned(d, Strategy.INSTANT, "forced; ALGORITHM=INSTANT accepted on " + facts.probedOn());
                }
                case ONLINE -> {
                    if (online.isPresent()) {
                        throw new SchemaException("--strategy online: the server refuses LOCK=NONE (" + online.get() + ")");
                    }
                    yield new SchemaPlan.Planned(d, Strategy.ONLINE, "forced; LOCK=NONE accepted on " + facts.probedOn()
                            + "; one physical table at a time, " + throttle);
                }
                case ROLLING -> {
                    if (rolling.isPresent()) {
                        throw new SchemaException("--strategy rolling: " + rolling.get());
                    }
                    yield new SchemaPlan.Planned(d, Strategy.ROLLING, "forced; row replication from the old definition"
                            + " survives it");
                }
            };
        }
        if (instant.isEmpty()) {
            return new SchemaPlan.Planned(d, Strategy.INSTANT, "ALGORITHM=INSTANT accepted on " + facts.probedOn()
                    + ": a metadata change, run on each group's master and replicated");
        }
        if (online.isEmpty()) {
            return new SchemaPlan.Planned(d, Strategy.ONLINE, "ALGORITHM=INSTANT refused (" + instant.get()
                    + "); LOCK=NONE accepted on " + facts.probedOn() + ": rebuilt in place without blocking writes, one"
                    + " physical table at a time, " + throttle);
        }
        if (rolling.isEmpty()) {
            return new SchemaPlan.Planned(d, Strategy.ROLLING, "ALGORITHM=INSTANT refused (" + instant.get()
                    + ") and LOCK=NONE refused (" + online.get() + "); row replication from the old definition survives"
                    + " it");
        }
        throw new SchemaException("no strategy can do it without blocking writes: ALGORITHM=INSTANT refused (" + instant.get()
                + "), LOCK=NONE refused (" + online.get() + "), rolling refused (" + rolling.get() + ")");
    }

    /** The physical statement with the clause that makes the server refuse rather than block or copy. */
    static String withClause(String sql, Ddl d, Strategy s) {
        if (d.kind() != Ddl.Kind.ALTER_TABLE) {
            return sql;
        }
        return switch (s) {
            case INSTANT -> sql + ", ALGORITHM=INSTANT";
            case ONLINE -> sql + ", LOCK=NONE";
            case ROLLING -> sql;
        };
    }
}
