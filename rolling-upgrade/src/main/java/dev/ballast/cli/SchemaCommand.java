package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.replication.Documents;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.schema.SchemaChange;
import dev.ballast.schema.SchemaDiff;
import dev.ballast.schema.SchemaException;
import dev.ballast.schema.SchemaPlan;
import dev.ballast.schema.SchemaVersions;
import dev.ballast.schema.Strategy;
import dev.ballast.schema.ZkSchemaVersions;
import dev.ballast.upgrade.Operation;
import dev.ballast.upgrade.OperationException;
import dev.ballast.upgrade.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "schema", sortOptions = false,
        description = "Schema changes across every shard: diff (drift between servers), plan and apply a change file"
                + " (strategy per statement, resumable steps in ZooKeeper), resume an interrupted one. See docs/schema.md.",
        subcommands = {SchemaCommand.Diff.class, SchemaCommand.Plan.class, SchemaCommand.Apply.class, SchemaCommand.Resume.class})
public final class SchemaCommand implements Runnable {

    static final long LOCK_TIMEOUT_MS = 15_000;

    @Mixin
    HelpOption help;

    @Spec
    CommandSpec spec;

    @ParentCommand
    BallastCli root;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: give diff, plan, apply or resume");
    }

    /**
     * How apply tells the data planes: the schema version znode ({@code TopologyStore#bumpSchemaVersion}), which every
     * running data source and proxy watches to reload the changed tables' metadata.
     */
    static SchemaVersions versions(ClusterConfig c, ZooKeeperSession zk) {
        return new ZkSchemaVersions(zk.client(), c, Operator.name() + " (ballast schema)");
    }

    static SchemaChange change(ClusterConfig c, ZooKeeperSession zk, PrintWriter out) {
        return new SchemaChange(c, zk.client(), versions(c, zk), line -> {
            out.println(line);
            out.flush();
        }, LOCK_TIMEOUT_MS);
    }

    /** Options shared by plan and apply. */
    static final class ChangeOptions {
        @Option(names = "--file", required = true, paramLabel = "FILE", description = "The change: SQL statements on"
                + " logical tables, separated by ';'.")
        Path file;

        @Option(names = "--strategy", paramLabel = "STRATEGY", description = "Force one strategy for every statement:"
                + " instant, online or rolling. A statement it cannot do is refused. Default: chosen per statement.")
        String strategy;

        @Option(names = "--allow-drop", description = "Accept DROP TABLE.")
        boolean allowDrop;

        String script(CommandSpec spec) {
            try {
                return Files.readString(file);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--file': "
                        + file.toAbsolutePath() + " does not exist");
            } catch (IOException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--file': cannot read "
                        + file.toAbsolutePath() + " (" + e.getMessage() + ")");
            }
        }

        Optional<Strategy> forced(CommandSpec spec) {
            if (strategy == null) {
                return Optional.empty();
            }
            try {
                return Optional.of(Strategy.parse(strategy));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "Invalid value for option '--strategy': " + e.getMessage());
            }
        }
    }

    @Command(name = "diff", description = "Compares the definition of every physical table on every server of every"
            + " group, per logical table; prints what differs per server. Exit 1 on drift.")
    static final class Diff implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        SchemaCommand parent;
        @Mixin
        ConfigOption config;
        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperSession zk = parent.root.zookeeper(c); SchemaChange change = change(c, zk, out)) {
                SchemaDiff.Report r = change.diff();
                java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
                doc.put("clean", r.clean());
                doc.put("tables", r.tables());
                out.print(json ? Documents.writePretty(doc) + "\n" : r.render());
                return r.clean() ? BallastCli.OK : BallastCli.FAILED;
            }
        }
    }

    @Command(name = "plan", description = "Parses the change, asks the masters what each statement allows, and prints"
            + " each statement's strategy with the reason and every step. Changes nothing. Exit 3 when refused.")
    static final class Plan implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        SchemaCommand parent;
        @Mixin
        ConfigOption config;
        @Mixin
        ChangeOptions change;

        @Override
        public Integer call() throws Exception {
            String script = change.script(spec);
            Optional<Strategy> forced = change.forced(spec);
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperSession zk = parent.root.zookeeper(c); SchemaChange sc = change(c, zk, out)) {
                out.print(refusing(() -> sc.plan(script, forced, change.allowDrop)).render());
            }
            return BallastCli.OK;
        }
    }

    @Command(name = "apply", description = "Plans the change (as 'schema plan' prints it), stores it as an operation in"
            + " ZooKeeper and runs it step by step. Killed or paused, it continues with 'ballast schema resume ID'."
            + " Exit 0 done, 1 paused (the reason says why and how to go on), 3 refused (nothing changed).")
    static final class Apply implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        SchemaCommand parent;
        @Mixin
        ConfigOption config;
        @Mixin
        ChangeOptions change;
        @Option(names = "--id", paramLabel = "ID", description = "The operation's id. Default: schema-<UTC time>.")
        String id;

        @Override
        public Integer call() throws Exception {
            String script = change.script(spec);
            Optional<Strategy> forced = change.forced(spec);
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            String opId = id != null ? id : "schema-" + ZonedDateTime.now(ZoneOffset.UTC)
                    .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            try (ZooKeeperSession zk = parent.root.zookeeper(c); SchemaChange sc = change(c, zk, out)) {
                SchemaPlan plan = refusing(() -> sc.plan(script, forced, change.allowDrop));
                out.print(plan.render());
                refusing(() -> sc.create(opId, plan, Operator.name()));
                out.println("operation " + opId + " created; running (resume with 'ballast schema resume " + opId + "')");
                out.flush();
                return finish(sc.run(opId, Progress.forStdout()), out);
            }
        }
    }

    @Command(name = "resume", description = "Continues a schema operation that was killed or paused, from the step it"
            + " stopped at (that step is checked against the servers first, not repeated blindly).")
    static final class Resume implements Callable<Integer> {
        @Mixin
        HelpOption help;
        @Spec
        CommandSpec spec;
        @ParentCommand
        SchemaCommand parent;
        @Mixin
        ConfigOption config;
        @Parameters(index = "0", paramLabel = "ID", description = "The operation id (see 'ballast operations list').")
        String id;

        @Override
        public Integer call() throws Exception {
            ClusterConfig c = config.loadWithZooKeeper();
            PrintWriter out = spec.commandLine().getOut();
            try (ZooKeeperSession zk = parent.root.zookeeper(c); SchemaChange sc = change(c, zk, out)) {
                Operation op = sc.operations().read(id).orElseThrow(() -> new CliFailure("[cluster=" + c.name()
                        + "] no operation '" + id + "' (see 'ballast operations list')")).operation();
                if (!SchemaChange.KIND.equals(op.kind())) {
                    throw new RefusedException("operation " + id + " is a '" + op.kind() + "' operation, not a schema change;"
                            + " continue it with its own command");
                }
                return finish(sc.run(id, Progress.forStdout()), out);
            }
        }
    }

    static int finish(Operation op, PrintWriter out) {
        if (op.state() == Operation.State.DONE) {
            out.println("operation " + op.id() + " DONE (" + op.steps().size() + " steps)");
            return BallastCli.OK;
        }
        out.println("operation " + op.id() + " " + op.state() + ": " + op.reason().replace("'ballast upgrade resume",
                "'ballast schema resume").replace("'ballast upgrade abort", "'ballast operations"));
        return BallastCli.FAILED;
    }

    interface Body<T> {
        T get() throws Exception;
    }

    /** A refusal (bad input, a strategy that cannot do it, a busy group) is exit 3: nothing changed. */
    static <T> T refusing(Body<T> body) throws Exception {
        try {
            return body.get();
        } catch (SchemaException | OperationException.GroupBusy e) {
            throw new RefusedException(e.getMessage().replace("'ballast upgrade resume", "'ballast schema resume"));
        }
    }
}
