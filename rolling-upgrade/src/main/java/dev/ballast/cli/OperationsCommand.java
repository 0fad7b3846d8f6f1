package dev.ballast.cli;

import dev.ballast.replication.Documents;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationStore;
import dev.ballast.upgrade.Step;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "operations", sortOptions = false,
        description = "Shows the cluster's operations (upgrades and other planned changes) as stored in ZooKeeper.",
        subcommands = {OperationsCommand.ListOperations.class, OperationsCommand.ShowOperation.class})
public final class OperationsCommand implements Runnable {

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: give list or show ID");
    }

    @Command(name = "list", description = "One line per operation, oldest first: id, kind, state, steps done, reason.")
    static final class ListOperations implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        OperationsCommand parent;
        @Mixin
        ConfigOption config;

        @Override
        public Integer call() {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                OperationStore store = OperationStore.of(zk.client(), c);
                spec.commandLine().getOut().print(list(store.list()));
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "show", description = "Every step of one operation with its state, timings, output and error.")
    static final class ShowOperation implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        OperationsCommand parent;
        @Mixin
        ConfigOption config;
        @Parameters(index = "0", paramLabel = "ID", description = "The operation id (see 'ballast operations list').")
        String id;
        @Option(names = "--json", description = "Print the stored JSON document.")
        boolean json;

        @Override
        public Integer call() {
            ClusterConfig c = config.loadWithZooKeeper();
            try (ZooKeeperSession zk = parent.root.zookeeper(c)) {
                OperationStore store = OperationStore.of(zk.client(), c);
                Operation op = store.get(id).operation();
                spec.commandLine().getOut().print(json ? Documents.writePretty(op) + "\n" : show(op));
            }
            return BallastCli.OK;
        }
    }

    /** "ID  KIND  STATE  done/total  created  reason", one line each; a line saying there are none otherwise. */
    static String list(List<Operation> ops) {
        if (ops.isEmpty()) {
            return "no operations\n";
        }
        StringBuilder b = new StringBuilder();
        for (Operation op : ops) {
            long done = op.steps().stream().filter(Step::finished).count();
            b.append(op.id()).append("  ").append(op.kind()).append("  ").append(op.state()).append("  ")
                    .append(done).append('/').append(op.steps().size()).append(" steps  ")
                    .append(Instant.ofEpochMilli(op.createdAtMs())).append(" by ").append(op.createdBy());
            if (!op.reason().isEmpty()) {
                b.append("  ").append(oneLine(op.reason()));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The operation's header and one block per step. */
    static String show(Operation op) {
        StringBuilder b = new StringBuilder();
        b.append("operation ").append(op.id()).append(" (").append(op.kind()).append(") on cluster ").append(op.cluster())
                .append(": ").append(op.state()).append('\n');
        b.append("  created ").append(Instant.ofEpochMilli(op.createdAtMs())).append(" by ").append(op.createdBy()).append('\n');
        if (!op.reason().isEmpty()) {
            b.append("  reason: ").append(oneLine(op.reason())).append('\n');
        }
        for (int i = 0; i < op.steps().size(); i++) {
            Step s = op.steps().get(i);
            b.append(String.format("  %d/%d %-8s %s", i + 1, op.steps().size(), s.state(), s.describe()));
            if (!s.action().parameters().isEmpty()) {
                b.append(' ').append(s.action().parameters());
            }
            if (s.startedAtMs() > 0) {
                b.append("  started ").append(Instant.ofEpochMilli(s.startedAtMs()));
                if (s.endedAtMs() >= s.startedAtMs()) {
                    b.append(String.format(java.util.Locale.ROOT, " took %.3f s", (s.endedAtMs() - s.startedAtMs()) / 1000.0));
                }
            }
            b.append('\n');
            if (!s.precondition().isEmpty()) {
                b.append("      precondition: ").append(oneLine(s.precondition())).append('\n');
            }
            if (!s.output().isEmpty()) {
                b.append("      output: ").append(oneLine(s.output())).append('\n');
            }
            if (!s.error().isEmpty()) {
                b.append("      error: ").append(oneLine(s.error())).append('\n');
            }
        }
        return b.toString();
    }

    private static String oneLine(String s) {
        return s.replace("\r", "\\r").replace("\n", "\\n");
    }
}
