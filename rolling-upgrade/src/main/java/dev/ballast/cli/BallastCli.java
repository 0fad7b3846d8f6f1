package dev.ballast.cli;

import dev.ballast.failover.RefusedException;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.NodeAddress;
import org.apache.zookeeper.KeeperException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@code ballast} admin CLI: one subcommand per verb, strict parsing (an unknown option, a missing value, a missing
 * required option or a stray argument is a usage error that names it and suggests the closest valid one).
 *
 * <p>Exit status: {@value #OK} done, {@value #FAILED} the operation failed, {@value #USAGE} usage error,
 * {@value #REFUSED} refused for safety (nothing changed; the message gives the reason and the way out).
 */
@Command(name = "ballast", mixinStandardHelpOptions = true, versionProvider = VersionCommand.Provider.class,
        usageHelpAutoWidth = true,
        description = "Administers a Ballast cluster: failover monitor, proxy, status, planned switchover, rejoin.",
        subcommands = {MonitorCommand.class, StatusCommand.class, SwitchoverCommand.class, RejoinCommand.class,
                AckCommand.class, DrainCommand.Drain.class, DrainCommand.Undrain.class, UpgradeCommand.class,
                OperationsCommand.class, ProxyCommand.class, HashPasswordCommand.class, VersionCommand.class,
                CommandLine.HelpCommand.class},
        footerHeading = "%nExit status:%n",
        footer = {"  0  done", "  1  the operation failed (the message says what and where)",
                "  2  usage error: unknown option, missing value, missing required option,",
                "     stray argument, unreadable or invalid config",
                "  3  refused for safety: nothing changed; the message gives the reason",
                "     and the way out",
                "",
                "Environment: BALLAST_CONFIG is the default of --config."})
public final class BallastCli implements Runnable {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int REFUSED = 3;

    @Option(names = {"-v", "--verbose"}, scope = CommandLine.ScopeType.INHERIT,
            description = "Show the libraries' logs (ZooKeeper, Curator, HikariCP) at INFO; without it only warnings.")
    boolean verbose;

    /** Whether output may carry ANSI colours (stdout is a terminal and NO_COLOR is not set). */
    final boolean colour;

    private BallastCli(boolean colour) {
        this.colour = colour;
    }

    public static void main(String[] args) {
        Logging.configure(Arrays.asList(args));
        boolean terminal = System.console() != null && System.getenv("NO_COLOR") == null
                && !"dumb".equals(System.getenv("TERM"));
        System.exit(run(args, System.out, System.err, terminal));
    }

    /** Runs one command line; returns the exit status. Never colours its output. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, out, err, false);
    }

    static int run(String[] args, PrintStream out, PrintStream err, boolean colour) {
        PrintWriter o = new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new java.io.OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            return commandLine(colour).setOut(o).setErr(e).execute(args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** The command tree with its converters and the handlers that map errors to exit statuses. */
    static CommandLine commandLine(boolean colour) {
        CommandLine cmd = new CommandLine(new BallastCli(colour));
        cmd.registerConverter(NodeAddress.class, text -> {
            try {
                return NodeAddress.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage() + " (a server is named HOST:PORT, e.g. 127.0.0.1:3306)");
            }
        });
        cmd.setParameterExceptionHandler(BallastCli::usageError);
        cmd.setExecutionExceptionHandler((ex, commandLine, parseResult) -> failure(ex, commandLine));
        cmd.setColorScheme(CommandLine.Help.defaultColorScheme(colour ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF));
        return cmd;
    }

    @Spec
    CommandSpec spec;

    /** The config whose ZooKeeper the running verb uses, to name it when a call fails later. */
    private volatile ClusterConfig zookeeperOf;

    /** Opens the verb's bounded ZooKeeper session (see {@link ZooKeeperSession}). */
    ZooKeeperSession zookeeper(ClusterConfig config) {
        zookeeperOf = config;
        return ZooKeeperSession.open(config);
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command: give one of monitor, status, switchover, "
                + "rejoin, ack, drain, undrain, upgrade, operations, proxy, hash-password, version (ballast --help lists them)");
    }

    private static int usageError(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            unmatched(u, cmd, err);
        } else if (!cmd.getUnmatchedArguments().isEmpty()) {
            // picocli checks required options before it reports unknown ones: "--grup g0" would only say that --group is
            // missing. The misspelt option is the news.
            unmatched(new UnmatchedArgumentException(cmd, cmd.getUnmatchedArguments()), cmd, err);
            err.println("ballast: " + ex.getMessage());
        } else {
            err.println("ballast: " + ex.getMessage());
            err.println("Usage: " + cmd.getHelp().synopsis(0).stripTrailing());
        }
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        return USAGE;
    }

    /** Names the first unknown option (or stray argument, or unknown command) and the closest valid one. */
    private static void unmatched(UnmatchedArgumentException u, CommandLine cmd, PrintWriter err) {
        String first = u.getUnmatched().get(0);
        boolean option = first.startsWith("-");
        boolean command = !option && !cmd.getSubcommands().isEmpty();
        java.util.Collection<String> valid = option ? cmd.getCommandSpec().optionsMap().keySet() : cmd.getSubcommands().keySet();
        String what = option ? "unknown option" : command ? "unknown command" : "unexpected argument";
        err.println("ballast: " + what + " '" + first + "'" + (option || command ? "" : cmd.getCommandSpec().positionalParameters().isEmpty()
                ? " (" + cmd.getCommandSpec().qualifiedName() + " takes no positional arguments; options start with --)"
                : " (one too many)"));
        java.util.Optional<String> closest = Suggestions.closest(first, valid);
        if (closest.isPresent()) {
            err.println("Did you mean: " + (command ? cmd.getCommandSpec().qualifiedName() + " " : "") + closest.get() + "?");
        } else if (command) {
            err.println("Commands: " + String.join(", ", cmd.getSubcommands().keySet()));
        } else if (!option || !UnmatchedArgumentException.printSuggestions(u, err)) {
            err.println("Usage: " + cmd.getHelp().synopsis(0).stripTrailing());
        }
    }

    static int failure(Exception ex, CommandLine cmd) {
        PrintWriter err = cmd.getErr();
        if (ex instanceof RefusedException) {
            err.println("ballast: refused: " + ex.getMessage());
            return REFUSED;
        }
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof dev.ballast.rules.ConfigException) {
                // a setting resolved only when used (failover.acl passwords from the environment): still the config's fault
                err.println("ballast: " + t.getMessage());
                return USAGE;
            }
        }
        ClusterConfig zk = ((BallastCli) cmd.getCommandSpec().root().userObject()).zookeeperOf;
        for (Throwable t = ex; t != null && zk != null; t = t.getCause()) {
            if (t instanceof KeeperException k && (k.code() == KeeperException.Code.CONNECTIONLOSS
                    || k.code() == KeeperException.Code.SESSIONEXPIRED || k.code() == KeeperException.Code.OPERATIONTIMEOUT)) {
                err.println("ballast: " + ZooKeeperSession.unreachable(zk, "(" + k.code() + " during '"
                        + cmd.getCommandSpec().qualifiedName() + "'; what it did before is in the audit log)"));
                return FAILED;
            }
        }
        err.println("ballast: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
        return FAILED;
    }
}
