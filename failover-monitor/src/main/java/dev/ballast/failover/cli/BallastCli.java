package dev.ballast.failover.cli;

import dev.ballast.failover.Monitor;
import dev.ballast.failover.Rejoin;
import dev.ballast.failover.Switchover;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.NodeAddress;
import dev.ballast.replication.GroupTopology;
import dev.ballast.failover.AuditRecord;
import dev.ballast.topology.TopologyStore;
import org.apache.curator.framework.CuratorFramework;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code ballast} admin CLI and the {@code ballast-monitor} process.
 *
 * <pre>
 * ballast monitor    --config cluster.yaml [--id NAME]         run a failover monitor until stopped (SIGTERM)
 * ballast status     --config cluster.yaml                     topology, health and recent recoveries
 * ballast switchover --config cluster.yaml --group G [--to H:P] planned change of master
 * ballast rejoin     --config cluster.yaml --group G --node H:P an old master back as replica
 * ballast ack        --config cluster.yaml --group G           acknowledge the last recovery (ends its anti-flap window)
 * ballast proxy      --config cluster.yaml                     run the MySQL-protocol proxy until stopped
 * ballast hash-password [PASSWORD]                             proxy.users hashes of a password
 * </pre>
 * Exit status: 0 done, 1 the operation failed (the message says why), 2 bad usage.
 */
public final class BallastCli {

    private BallastCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
            err.println(usage());
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("hash-password")) {
            String password = args.length > 1 ? args[1] : readPassword();
            if (password == null) {
                err.println("ballast: give the password as argument or on standard input");
                return 2;
            }
            out.println("nativeHash: \"" + dev.ballast.proxy.Auth.nativeHash(password) + "\"");
            out.println("sha2Hash: \"" + dev.ballast.proxy.Auth.sha2Hash(password) + "\"");
            return 0;
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                err.println("ballast: unexpected argument '" + args[i] + "'\n" + usage());
                return 2;
            }
            opts.put(args[i].substring(2), args[++i]);
        }
        if (!opts.containsKey("config")) {
            err.println("ballast: --config FILE is required\n" + usage());
            return 2;
        }
        ClusterConfig config;
        try {
            config = ClusterConfigLoader.load(Path.of(opts.get("config")));
        } catch (RuntimeException e) {
            err.println("ballast: " + e.getMessage());
            return 2;
        }
        if (args[0].equals("proxy")) {
            try {
                return proxy(config, out);
            } catch (Exception e) {
                err.println("ballast: " + e.getMessage());
                return 1;
            }
        }
        if (config.failover().zookeeper().isEmpty()) {
            err.println("ballast: " + opts.get("config") + " has no failover.zookeeper: the topology is static, nothing to do");
            return 2;
        }
        String by = System.getProperty("user.name", "operator") + "@cli";
        try {
            switch (args[0]) {
                case "monitor" -> {
                    return monitor(config, opts.getOrDefault("id", defaultId()), out);
                }
                case "status" -> {
                    try (CuratorFramework client = TopologyStore.connect(config)) {
                        status(config, TopologyStore.of(client, config), out);
                    }
                    return 0;
                }
                case "switchover" -> {
                    String group = required(opts, "group");
                    try (CuratorFramework client = TopologyStore.connect(config)) {
                        Switchover.Result r = new Switchover(config, TopologyStore.of(client, config), by)
                                .run(group, Optional.ofNullable(opts.get("to")).map(NodeAddress::parse));
                        out.println("switched over group " + group + " from " + r.before().master() + " to " + r.after().master()
                                + " (epoch " + r.after().epoch() + ", writes held " + r.writePauseMs() + " ms)");
                    }
                    return 0;
                }
                case "rejoin" -> {
                    String group = required(opts, "group");
                    try (CuratorFramework client = TopologyStore.connect(config)) {
                        GroupTopology t = new Rejoin(config, TopologyStore.of(client, config), by)
                                .run(group, NodeAddress.parse(required(opts, "node")));
                        out.println("rejoined: " + t.toJson());
                    }
                    return 0;
                }
                case "ack" -> {
                    String group = required(opts, "group");
                    try (CuratorFramework client = TopologyStore.connect(config)) {
                        out.println(acknowledge(TopologyStore.of(client, config), group));
                    }
                    return 0;
                }
                default -> {
                    err.println("ballast: unknown command '" + args[0] + "'\n" + usage());
                    return 2;
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("ballast: " + e.getMessage());
            return 2;
        } catch (Switchover.SwitchoverException | RuntimeException e) {
            err.println("ballast: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("ballast: " + e);
            return 1;
        }
    }

    private static String readPassword() {
        try {
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
            return in.readLine();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static int proxy(ClusterConfig config, PrintStream out) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        dev.ballast.proxy.ProxyServer proxy = new dev.ballast.proxy.ProxyServer(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close();
            stop.countDown();
        }, "ballast-proxy-shutdown"));
        proxy.start();
        out.println("ballast proxy for cluster " + config.name() + " listening on " + config.proxy().listen().host() + ":"
                + proxy.port() + config.proxy().health().map(h -> ", health on http://" + h + "/health").orElse(""));
        out.flush();
        stop.await();
        return 0;
    }

    private static String defaultId() {
        return "monitor-" + ProcessHandle.current().pid();
    }

    private static String required(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    private static int monitor(ClusterConfig config, String id, PrintStream out) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        Monitor monitor = new Monitor(config, id, null);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            monitor.close();
            stop.countDown();
        }, "ballast-monitor-shutdown"));
        monitor.start();
        out.println("ballast monitor " + id + " watching cluster " + config.name() + " (" + config.groups().size()
                + " groups) through ZooKeeper " + config.failover().zookeeper().orElse(""));
        out.flush();
        stop.await();
        return 0;
    }

    static void status(ClusterConfig config, TopologyStore store, PrintStream out) {
        for (String group : config.groups().keySet()) {
            Optional<TopologyStore.Versioned> v = store.read(group);
            out.println("group " + group + ": " + v.map(x -> x.topology().toJson()).orElse("(no topology in ZooKeeper yet)"));
            v.ifPresent(x -> {
                for (NodeAddress n : x.topology().servers()) {
                    store.health(n.toString()).forEach((m, json) -> out.println("  " + n + " seen by " + m + ": " + json));
                }
            });
        }
        var recoveries = store.recoveries();
        int from = Math.max(0, recoveries.size() - 10);
        for (int i = from; i < recoveries.size(); i++) {
            out.println("recovery " + recoveries.get(i)[0] + ": " + recoveries.get(i)[1]);
        }
    }

    /** Marks the group's latest failover as acknowledged: the anti-flap window no longer holds back the next one. */
    static String acknowledge(TopologyStore store, String group) {
        var recoveries = store.recoveries();
        for (int i = recoveries.size() - 1; i >= 0; i--) {
            String[] r = recoveries.get(i);
            AuditRecord.Summary o = AuditRecord.summary(r[1]);
            if (group.equals(o.group()) && "failover".equals(o.kind())) {
                store.updateRecovery(r[0], AuditRecord.acknowledged(r[1], System.getProperty("user.name", "operator") + "@cli"));
                return "acknowledged " + r[0];
            }
        }
        return "no failover of group " + group + " to acknowledge";
    }

    static String usage() {
        return """
                usage: ballast COMMAND --config cluster.yaml [options]
                  monitor    [--id NAME]              run a failover monitor until stopped
                  status                              topology, health and the last recoveries
                  switchover --group G [--to HOST:PORT] planned change of master, no client errors
                  rejoin     --group G --node HOST:PORT an old master back as replica (refused with errant transactions)
                  ack        --group G                acknowledge the last failover (ends its anti-flap window)
                  proxy                               run the MySQL-protocol proxy until stopped
                usage: ballast hash-password [PASSWORD]  the proxy.users hashes of a password (read from stdin if not given)""";
    }
}
