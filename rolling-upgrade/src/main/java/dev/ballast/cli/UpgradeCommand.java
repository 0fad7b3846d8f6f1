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
                "The state lives in ZooKeeper (operations/<id>): if this process dies, 'resume ID' continues from the "
                        + "step in progress after re-checking it."},
        subcommands = {UpgradeCommand.PlanUpgrade.class, UpgradeCommand.StartUpgrade.class, UpgradeCommand.UpgradeStatus.class,
                UpgradeCommand.ResumeUpgrade.class, UpgradeCommand.AbortUpgrade.class})
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
        throw new ParameterException(spec.commandLine(), "Missing command: give one of plan, start, status, resume, abort");
    }

    /** --to-version and --group, shared by plan and start. */
    static final class Target {
        @Option(names = "--to-version", required = true, paramLabel = "VERSION",
                description = "The server version to upgrade to, e.g. 11.4 or 11.4.5; a node runs it when its VERSION() "
                        + "starts with these numbers.")
        String toVersion;

        @Option(names = "--group", paramLabel = "GROUP", description = "Only this group (repeat for several). Default: "
                + "every group, one after another in the config's order.")
        List<String> groups = new ArrayList<>();
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
                        + " has no group '" + g + "' (groups: " + String.join(", ", c.groups().keySet()) + ")");
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

    static Runner runner(ClusterConfig c, ZooKeeperSession zk, Progress progress) {
        Map<String, StepAction> actions = new ServerUpgradeActions(c, zk.store(), Operator.name() + " (ballast upgrade)")
                .actions();
        return new Runner(OperationStore.of(zk.client(), c), actions, LOCK_TIMEOUT_MS, progress);
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
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Optional<String> missing = c.upgrade().missingCommand();
            if (missing.isPresent()) {
                throw new RefusedException(missing.get() + " is not set in " + config.config + ": Ballast stops, installs "
                        + "and starts each server with your commands; set upgrade.stopCommand, upgrade.installCommand and "
                        + "upgrade.startCommand (docs/operations.md) and start again");
            }
            String opId = id != null ? id : "upgrade-" + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")
                    .withZone(ZoneOffset.UTC).format(java.time.Instant.now())
                    + "-" + Integer.toHexString(0x1000 + ThreadLocalRandom.current().nextInt(0xf000));
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
                Operation op;
                try {
                    op = Operation.create(opId, UpgradePlan.KIND, c.name(), Operator.name(), System.currentTimeMillis(),
                            p.steps());
                    OperationStore.of(zk.client(), c).create(op);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "Invalid value for option '--id': " + e.getMessage());
                } catch (OperationException.GroupBusy e) {
                    throw new RefusedException(e.getMessage());
                }
                out.println("operation " + opId + " started; if this process stops, 'ballast upgrade resume " + opId
                        + "' continues it");
                out.flush();
                Operation end = runner(c, zk, progress(out, parent.root.colour)).run(opId);
                return ended(end, out, err);
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

    @Command(name = "status", description = "Without ID: every upgrade operation, one line each. With ID: its steps, "
            + "their state, timings, output and error.")
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
                            .filter(o -> o.kind().equals(UpgradePlan.KIND)).toList()));
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
                if (!op.kind().equals(UpgradePlan.KIND)) {
                    throw new RefusedException("operation " + id + " is a " + op.kind() + ", not a server upgrade");
                }
                out.println("resuming " + id + " at step " + (op.next() + 1) + "/" + op.steps().size());
                out.flush();
                Operation end = runner(c, zk, progress(out, parent.root.colour)).run(id);
                return ended(end, out, spec.commandLine().getErr());
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
                Runner runner = runner(c, zk, progress(out, parent.root.colour));
                Operation op = runner.abort(id, "aborted by " + Operator.name());
                Optional<String> running = store.runner(id);
                if (running.isPresent()) {
                    out.println("operation " + id + " ABORTED; its runner (" + running.get() + ") stops after the current"
                            + " step" + (Runner.unitInProgress(op) >= 0 ? ", once the node in progress serves again" : ""));
                    return BallastCli.OK;
                }
                Operation end = runner.finishAborted(id);
                int failed = (int) end.steps().stream().filter(s -> s.state() == dev.ballast.upgrade.Step.State.FAILED).count();
                out.println("operation " + id + " ABORTED at step " + (end.next() + 1) + "/" + end.steps().size()
                        + (failed > 0 ? "; a node could not be brought back: see 'ballast upgrade status " + id + "'" : ""));
                return failed > 0 ? BallastCli.FAILED : BallastCli.OK;
            }
        }
    }
}
