package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.failover.sql.NodeConnections;
import dev.ballast.replication.GroupTopology;
import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ServerDialect;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.topology.Maintenance;
import dev.ballast.topology.TopologyStore;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationException;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Progress;
import dev.ballast.upgrade.Runner;
import dev.ballast.upgrade.StepAction;
import dev.ballast.mongo.MongoRefusedException;
import dev.ballast.mongo.ReplicaSetStatus;
import dev.ballast.rules.MongoReplicaSetConfig;
import dev.ballast.upgrade.mongo.MongoAudit;
import dev.ballast.upgrade.mongo.MongoUpgrade;
import dev.ballast.upgrade.mongo.MongoUpgradeActions;
import dev.ballast.upgrade.server.ServerUpgradeActions;
import dev.ballast.upgrade.server.TargetVersion;
import dev.ballast.upgrade.server.UpgradePlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

@Command(name = "upgrade", sortOptions = false,
        description = {"Rolling server-version upgrade of the cluster's groups without downtime: per group the replicas one "
                + "at a time (drain, stop, install, start, gate, undrain), then a planned switchover to an upgraded replica, "
                + "then the old master the same way. Stopping, installing and starting a server are your commands "
                + "(upgrade.stopCommand, upgrade.installCommand, upgrade.startCommand in the config).",
                "A MongoDB replica set (mongo.replicaSets.<name>) as --group: the secondaries one at a time (stop, "
                        + "install, start, wait until SECONDARY on the new version and caught up), the primary steps down "
                        + "to an upgraded secondary, then the old primary the same way; 'fcv' raises its "
                        + "featureCompatibilityVersion afterwards.",
                "The state lives in ZooKeeper (operations/<id>): if this process dies, 'resume ID' continues from the "
                        + "step in progress after re-checking it."},
        subcommands = {UpgradeCommand.PlanUpgrade.class, UpgradeCommand.StartUpgrade.class, UpgradeCommand.UpgradeStatus.class,
                UpgradeCommand.ResumeUpgrade.class, UpgradeCommand.AbortUpgrade.class, FcvCommand.class})
final class UpgradeCommand implements Runnable {

    /** How long a step waits for the group's lock (held by a failover or switchover) before the operation pauses. */
    static final long LOCK_TIMEOUT_MS = 30_000;

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: give one of plan, start, status, resume, abort, "
                + "fcv");
    }

    /** --to-version and --group, shared by plan and start. */
    static final class Target {
        @Option(names = "--to-version", required = true, paramLabel = "VERSION",
                description = "The server version to upgrade to, e.g. 11.4 or 11.4.5; a node runs it when its VERSION() "
                        + "(a MongoDB member: its buildInfo version) starts with these numbers.")
        String toVersion;

        @Option(names = "--group", paramLabel = "GROUP", description = "Only this group (repeat for several), or one "
                + "MongoDB replica set (mongo.replicaSets), upgraded on its own. Default: every group, one after another "
                + "in the config's order.")
        List<String> groups = new ArrayList<>();

        /** The replica set named by --group, if one is; a usage error when it is not named alone. */
        Optional<MongoReplicaSetConfig> replicaSet(CommandSpec spec, ClusterConfig c) {
            List<String> sets = groups.stream().filter(g -> c.mongoReplicaSet(g).isPresent()).toList();
            if (sets.isEmpty()) {
                return Optional.empty();
            }
            if (groups.size() > 1) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--group': " + sets.get(0)
                        + " is a MongoDB replica set, upgraded on its own: give it as the only --group");
            }
            return c.mongoReplicaSet(sets.get(0));
        }

        /** The target, or a usage error naming the option. */
        String version(CommandSpec spec) {
            try {
                return TargetVersion.parse(toVersion).text();
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--to-version': " + e.getMessage());
            }
        }
    }

    /** The plan for {@code target}, from the live cluster: topology from ZooKeeper, a fresh probe of every node. */
    static UpgradePlan plan(CommandSpec spec, ClusterConfig c, ZooKeeperSession zk, Target target) throws RefusedException {
        TargetVersion to;
        try {
            to = TargetVersion.parse(target.toVersion);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "Invalid value for option '--to-version': " + e.getMessage());
        }
        List<String> groups = target.groups.isEmpty() ? new ArrayList<>(c.groups().keySet()) : target.groups;
        for (String g : groups) {
            if (!c.groups().containsKey(g)) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--group': cluster " + c.name()
                        + " has no group '" + g + "' (groups: " + String.join(", ", c.groups().keySet())
                        + (c.mongoReplicaSets().isEmpty() ? "" : "; MongoDB replica sets: "
                        + String.join(", ", c.mongoReplicaSets().keySet())) + ")");
            }
        }
        TopologyStore store = zk.store();
        OperationStore ops = OperationStore.of(zk.client(), c);
        Map<NodeAddress, Maintenance> drained = store.drained();
        List<UpgradePlan.GroupFacts> facts = new ArrayList<>();
        try (NodeConnections nodes = new NodeConnections(c)) {
            for (String g : groups) {
                GroupTopology t = store.read(g).orElseThrow(() -> new RefusedException("[cluster=" + c.name() + " group=" + g
                        + "] no topology in ZooKeeper yet; start a monitor (it writes the config's topology) first")).topology();
                ServerDialect d = ServerDialect.of(c.group(g).flavour());
                Map<NodeAddress, NodeProbe> probes = new LinkedHashMap<>();
                Map<NodeAddress, Maintenance> marks = new LinkedHashMap<>();
                for (NodeAddress n : t.servers()) {
                    probes.put(n, nodes.probeOnce(n, d));
                    if (drained.containsKey(n)) {
                        marks.put(n, drained.get(n));
                    }
                }
                facts.add(new UpgradePlan.GroupFacts(g, t, probes, marks, ops.activeOn(g)));
            }
        }
        return UpgradePlan.plan(to, facts, c.upgrade(), c.readPolicy().maxReplicaLagMs());
    }

    /**
     * The plan of a MongoDB replica set's upgrade from one look at it, or the refusal (nothing changed): an operation
     * already holding the set, or what {@link MongoUpgrade#plan} refuses.
     */
    static MongoUpgrade mongoPlan(ClusterConfig c, ZooKeeperSession zk, MongoReplicaSetConfig rs, MongoUpgradeActions a,
                                  String version) throws RefusedException {
        Optional<String> active = OperationStore.of(zk.client(), c).activeOn(rs.name());
        if (active.isPresent()) {
            throw new RefusedException("[replicaSet=" + rs.name() + "] operation " + active.get() + " is already active on"
                    + " it; continue it with 'ballast upgrade resume " + active.get() + "' or stop it with 'ballast upgrade"
                    + " abort " + active.get() + "'; nothing was changed");
        }
        try {
            ReplicaSetStatus status = a.status();
            return MongoUpgrade.plan(status, a.featureCompatibilityVersion(status), version, rs, c.upgrade());
        } catch (MongoRefusedException e) {
            throw new RefusedException(e.getMessage() + "; nothing was changed");
        }
    }

    static final String BY = " (ballast upgrade)";

    /**
     * The step actions of an operation's kind (a server or a MongoDB upgrade); closing them closes the connections the
     * MongoDB ones hold.
     */
    static final class Actions implements AutoCloseable {
        final Map<String, StepAction> byName;
        final Optional<MongoUpgradeActions> mongo;

        private Actions(Map<String, StepAction> byName, Optional<MongoUpgradeActions> mongo) {
            this.byName = byName;
            this.mongo = mongo;
        }

        static Actions server(ClusterConfig c, ZooKeeperSession zk) {
            return new Actions(new ServerUpgradeActions(c, zk.store(), Operator.name() + BY).actions(), Optional.empty());
        }

        static Actions mongo(MongoUpgradeActions a) {
            return new Actions(a.actions(), Optional.of(a));
        }

        /** The actions operation {@code op} needs, by its kind. */
        static Actions of(ClusterConfig c, ZooKeeperSession zk, Operation op) throws RefusedException {
            if (op.kind().equals(UpgradePlan.KIND)) {
                return server(c, zk);
            }
            if (op.kind().equals(MongoUpgrade.KIND)) {
                String set = op.groups().iterator().next();
                MongoReplicaSetConfig rs = c.mongoReplicaSet(set).orElseThrow(() -> new RefusedException("operation "
                        + op.id() + " upgrades MongoDB replica set " + set + ", which the config no longer has"
                        + " (mongo.replicaSets: " + c.mongoReplicaSets().keySet() + "); run it with the config that"
                        + " started it, or abort it"));
                return mongo(new MongoUpgradeActions(c, rs, zk.store(), Operator.name() + BY));
            }
            throw new RefusedException("operation " + op.id() + " is a " + op.kind() + ", not a server or MongoDB upgrade");
        }

        /** For a MongoDB upgrade, records how this run ended in the audit log (with the members' versions now). */
        void audit(ZooKeeperSession zk, Operation end) {
            mongo.ifPresent(a -> {
                Optional<ReplicaSetStatus> now;
                try {
                    now = Optional.of(a.status());
                } catch (RuntimeException e) {
                    now = Optional.empty();
                }
                MongoAudit.upgrade(zk.store(), end, Operator.name() + BY, now);
            });
        }

        @Override
        public void close() {
            mongo.ifPresent(MongoUpgradeActions::close);
        }
    }

    static Runner runner(ClusterConfig c, ZooKeeperSession zk, Actions actions, Progress progress) {
        return new Runner(OperationStore.of(zk.client(), c), actions.byName, LOCK_TIMEOUT_MS, progress);
    }

    static Progress progress(PrintWriter out, boolean terminal) {
        java.io.PrintStream ps = new java.io.PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                out.write(new String(b, off, len, StandardCharsets.UTF_8));
            }

            @Override
            public void flush() {
                out.flush();
            }
        }, true, StandardCharsets.UTF_8);
        return terminal ? Progress.terminal(ps) : Progress.plain(ps);
    }

    /** Exit status and closing line for how a run ended. */
    static int ended(Operation op, PrintWriter out, PrintWriter err) {
        switch (op.state()) {
            case DONE -> {
                out.println("operation " + op.id() + " DONE");
                return BallastCli.OK;
            }
            case PAUSED -> {
                err.println("ballast: operation " + op.id() + " PAUSED: " + op.reason());
                return BallastCli.FAILED;
            }
            case ABORTED -> {
                err.println("ballast: operation " + op.id() + " ABORTED: " + op.reason());
                return BallastCli.FAILED;
            }
            default -> {
                err.println("ballast: operation " + op.id() + " is " + op.state() + (op.reason().isEmpty() ? ""
                        : ": " + op.reason()));
                return BallastCli.FAILED;
            }
        }
    }

    @Command(name = "plan", description = "Prints the steps an upgrade to --to-version would take, with your commands "
            + "filled in, or why it is refused (exit 3). Changes nothing.")
    static final class PlanUpgrade implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        UpgradeCommand parent;
        @Mixin
        ConfigOption config;
        @Mixin
        Target target;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            Optional<MongoReplicaSetConfig> rs = target.replicaSet(spec, c);
            if (rs.isPresent()) {
                String version = target.version(spec);
                try (ZooKeeperSession zk = parent.root.zookeeper(c);
                     MongoUpgradeActions a = new MongoUpgradeActions(c, rs.get(), zk.store(), Operator.name() + BY)) {
                    MongoUpgrade p = mongoPlan(c, zk, rs.get(), a, version);
                    PrintWriter out = spec.commandLine().getOut();
                    out.print(p.describe());
                    p.commands().missing(rs.get().name()).ifPresent(k -> out.println("note: " + k + " is not set; 'ballast"
                            + " upgrade start' is refused until it is"));
                }
                return BallastCli.OK;
            }
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                UpgradePlan p = plan(spec, c, zk, target);
                if (p.refused()) {
                    throw new RefusedException(p.describe().strip());
                }
                PrintWriter out = spec.commandLine().getOut();
                out.print(p.describe());
                c.upgrade().missingCommand().ifPresent(k -> out.println("note: " + k + " is not set; 'ballast upgrade start'"
                        + " is refused until it is"));
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "start", description = "Plans the upgrade, shows the plan, asks for confirmation (or --yes), stores "
            + "the operation in ZooKeeper and runs it. Exit 0 when every step is done, 1 when it paused (the reason says "
            + "how to go on), 3 when refused before anything changed.")
    static final class StartUpgrade implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        UpgradeCommand parent;
        @Mixin
        ConfigOption config;
        @Mixin
        Target target;
        @Option(names = "--yes", description = "Start without asking for confirmation.")
        boolean yes;
        @Option(names = "--id", paramLabel = "ID", description = "The operation's id. Default: upgrade-<UTC time>-<random>.")
        String id;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            Optional<MongoReplicaSetConfig> rs = target.replicaSet(spec, c);
            if (rs.isPresent()) {
                return mongo(c, rs.get());
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Optional<String> missing = c.upgrade().missingCommand();
            if (missing.isPresent()) {
                throw new RefusedException(missing.get() + " is not set in " + config.config + ": Ballast stops, installs "
                        + "and starts each server with your commands; set upgrade.stopCommand, upgrade.installCommand and "
                        + "upgrade.startCommand (docs/operations.md) and start again");
            }
            String opId = operationId();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                UpgradePlan p = plan(spec, c, zk, target);
                if (p.refused()) {
                    throw new RefusedException(p.describe().strip());
                }
                out.print(p.describe());
                if (p.steps().isEmpty()) {
                    return BallastCli.OK;
                }
                if (!yes && !confirmed(out)) {
                    throw new RefusedException("not confirmed: nothing was changed (type 'yes' at the prompt, or pass --yes)");
                }
                create(c, zk, opId, UpgradePlan.KIND, p.steps());
                out.println("operation " + opId + " started; if this process stops, 'ballast upgrade resume " + opId
                        + "' continues it");
                out.flush();
                try (Actions actions = Actions.server(c, zk)) {
                    Operation end = runner(c, zk, actions, progress(out, parent.root.colour)).run(opId);
                    return ended(end, out, err);
                }
            }
        }

        private int mongo(ClusterConfig c, MongoReplicaSetConfig rs) throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            String version = target.version(spec);
            Optional<String> missing = MongoUpgrade.Commands.of(rs, c.upgrade()).missing(rs.name());
            if (missing.isPresent()) {
                throw new RefusedException(missing.get() + " is not set in " + config.config + ": Ballast stops, installs "
                        + "and starts each member with your commands; set mongo.replicaSets." + rs.name() + ".upgrade.stop,"
                        + " .install and .start (or upgrade.stopCommand, upgrade.installCommand, upgrade.startCommand;"
                        + " docs/operations.md) and start again");
            }
            String opId = operationId();
            try (ZooKeeperSession zk = parent.root.zookeeper(c);
                 MongoUpgradeActions a = new MongoUpgradeActions(c, rs, zk.store(), Operator.name() + BY)) {
                MongoUpgrade p = mongoPlan(c, zk, rs, a, version);
                out.print(p.describe());
                if (p.steps().isEmpty()) {
                    return BallastCli.OK;
                }
                if (!yes && !confirmed(out)) {
                    throw new RefusedException("not confirmed: nothing was changed (type 'yes' at the prompt, or pass --yes)");
                }
                create(c, zk, opId, MongoUpgrade.KIND, p.steps());
                out.println("operation " + opId + " started; if this process stops, 'ballast upgrade resume " + opId
                        + "' continues it");
                out.flush();
                Actions actions = Actions.mongo(a);
                Operation end = runner(c, zk, actions, progress(out, parent.root.colour)).run(opId);
                actions.audit(zk, end);
                return ended(end, out, spec.commandLine().getErr());
            }
        }

        private String operationId() {
            return id != null ? id : "upgrade-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
                    .withZone(ZoneOffset.UTC).format(java.time.Instant.now())
                    + "-" + Integer.toHexString(0x1000 + ThreadLocalRandom.current().nextInt(0xf000));
        }

        private void create(ClusterConfig c, ZooKeeperSession zk, String opId, String kind,
                            List<dev.ballast.upgrade.Step> steps) throws RefusedException {
            try {
                Operation op = Operation.create(opId, kind, c.name(), Operator.name(), System.currentTimeMillis(), steps);
                OperationStore.of(zk.client(), c).create(op);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--id': " + e.getMessage());
            } catch (OperationException.GroupBusy e) {
                throw new RefusedException(e.getMessage());
            }
        }

        private boolean confirmed(PrintWriter out) throws java.io.IOException, RefusedException {
            if (System.console() == null) {
                throw new RefusedException("standard input is not a terminal, so nobody can confirm: pass --yes to start"
                        + " without confirmation; nothing was changed");
            }
            out.print("Start this upgrade? Type 'yes' to go on: ");
            out.flush();
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            return line != null && line.trim().equals("yes");
        }
    }

    @Command(name = "status", description = "Without ID: every upgrade operation (servers and MongoDB replica sets), "
            + "one line each. With ID: its steps, their state, timings, output and error.")
    static final class UpgradeStatus implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        UpgradeCommand parent;
        @Mixin
        ConfigOption config;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "The operation id.")
        String id;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                OperationStore store = OperationStore.of(zk.client(), c);
                if (id == null) {
                    spec.commandLine().getOut().print(OperationsCommand.list(store.list().stream()
                            .filter(o -> o.kind().equals(UpgradePlan.KIND) || o.kind().equals(MongoUpgrade.KIND)).toList()));
                } else {
                    spec.commandLine().getOut().print(OperationsCommand.show(store.get(id).operation()));
                }
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "resume", description = "Continues operation ID from the step in progress, after re-checking its "
            + "precondition (a step already done is not done twice).")
    static final class ResumeUpgrade implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        UpgradeCommand parent;
        @Mixin
        ConfigOption config;
        @Parameters(index = "0", paramLabel = "ID", description = "The operation id (see 'ballast upgrade status').")
        String id;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                Operation op = OperationStore.of(zk.client(), c).get(id).operation();
                try (Actions actions = Actions.of(c, zk, op)) {
                    out.println("resuming " + id + " at step " + (op.next() + 1) + "/" + op.steps().size());
                    out.flush();
                    Operation end = runner(c, zk, actions, progress(out, parent.root.colour)).run(id);
                    actions.audit(zk, end);
                    return ended(end, out, spec.commandLine().getErr());
                }
            }
        }
    }

    @Command(name = "abort", description = "Stops operation ID after its current step; a node in the middle of its "
            + "upgrade is finished first (up to undrain), so every node serves. Nothing is rolled back.")
    static final class AbortUpgrade implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        UpgradeCommand parent;
        @Mixin
        ConfigOption config;
        @Parameters(index = "0", paramLabel = "ID", description = "The operation id (see 'ballast upgrade status').")
        String id;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                OperationStore store = OperationStore.of(zk.client(), c);
                try (Actions actions = Actions.of(c, zk, store.get(id).operation())) {
                    Runner runner = runner(c, zk, actions, progress(out, parent.root.colour));
                    Operation op = runner.abort(id, "aborted by " + Operator.name());
                    Optional<String> running = store.runner(id);
                    if (running.isPresent()) {
                        out.println("operation " + id + " ABORTED; its runner (" + running.get() + ") stops after the"
                                + " current step" + (Runner.unitInProgress(op) >= 0 ? ", once the node in progress serves"
                                + " again" : ""));
                        return BallastCli.OK;
                    }
                    Operation end = runner.finishAborted(id);
                    actions.audit(zk, end);
                    int failed = (int) end.steps().stream().filter(s -> s.state() == dev.ballast.upgrade.Step.State.FAILED)
                            .count();
                    out.println("operation " + id + " ABORTED at step " + (end.next() + 1) + "/" + end.steps().size()
                            + (failed > 0 ? "; a node could not be brought back: see 'ballast upgrade status " + id + "'"
                            : ""));
                    return failed > 0 ? BallastCli.FAILED : BallastCli.OK;
                }
            }
        }
    }
}
