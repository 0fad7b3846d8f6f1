package dev.ballast.cli;

import java.util.List;

/**
 * Log levels of the launcher's binding (slf4j-simple, configured by system properties before the first logger exists):
 * libraries (ZooKeeper, Curator, HikariCP, ShardingSphere) at WARN, Ballast's own messages at INFO in the daemons
 * ({@code monitor}, {@code proxy}) and at WARN in the one-shot verbs; everything at INFO with {@code -v}. The ZooKeeper
 * client's reconnect chatter (a WARN with a stack trace per attempt) is off without {@code -v}: the CLI reports an
 * unreachable ZooKeeper itself, in one line. A level given with {@code -D} on the command line wins.
 */
final class Logging {

    private static final String PREFIX = "org.slf4j.simpleLogger.";

    private Logging() {
    }

    static void configure(List<String> args) {
        boolean verbose = args.contains("-v") || args.contains("--verbose");
        String verb = args.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
        boolean daemon = verb.equals("monitor") || verb.equals("proxy");
        set("logFile", "System.err");
        set("defaultLogLevel", verbose ? "info" : "warn");
        set("log.dev.ballast", verbose || daemon ? "info" : "warn");
        if (!verbose) {
            // a WARN with a stack trace per reconnect attempt, every second while ZooKeeper is down; the monitor logs
            // its own "connection suspended" / "session lost" lines
            set("log.org.apache.zookeeper.ClientCnxn", "error");
        }
        if (!verbose && !daemon) {
            set("log.org.apache.curator.ConnectionState", "off");
            set("log.org.apache.curator.framework.imps.CuratorFrameworkImpl", "off");
        }
        set("showDateTime", daemon ? "true" : "false");
        set("dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        set("showThreadName", verbose ? "true" : "false");
        set("showShortLogName", "true");
    }

    private static void set(String key, String value) {
        if (System.getProperty(PREFIX + key) == null) {
            System.setProperty(PREFIX + key, value);
        }
    }
}
