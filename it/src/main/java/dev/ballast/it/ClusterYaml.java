package dev.ballast.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes cluster configs for servers the test bed started. */
public final class ClusterYaml {

    private final String name;
    private final String database;
    private final String user;
    private final String password;
    private final Map<String, List<String>> groups = new LinkedHashMap<>();
    private String extra = "";

    public ClusterYaml(String name, String database, String user, String password) {
        this.name = name;
        this.database = database;
        this.user = user;
        this.password = password;
    }

    /** A config for every replica group of a test bed (named g0, g1, ...), as the bed's application user. */
    public static ClusterYaml forBed(String cluster, dev.ballast.it.testbed.TestBed bed) {
        ClusterYaml yaml = new ClusterYaml(cluster, bed.database(), dev.ballast.it.testbed.TestBed.APP_USER,
                dev.ballast.it.testbed.TestBed.APP_PASSWORD);
        for (dev.ballast.it.testbed.ReplicaGroupBed group : bed.groups()) {
            yaml.group(group.name(), group.master().address(),
                    group.replicas().stream().map(dev.ballast.it.testbed.MariaDbNode::address).toList());
        }
        return yaml;
    }

    /** The validated config, with {@code ${VAR}} read from the environment. */
    public dev.ballast.rules.ClusterConfig config() {
        return dev.ballast.rules.ClusterConfigLoader.parse(text(), System::getenv);
    }

    /** Adds a group: its master first, then its replicas, each {@code host:port}. */
    public ClusterYaml group(String group, String master, List<String> replicas) {
        groups.put(group, concat(master, replicas));
        return this;
    }

    /** YAML appended as it is: {@code tables:}, {@code pool:}, {@code bindingTables:} sections. */
    public ClusterYaml with(String yaml) {
        extra = extra + yaml + (yaml.endsWith("\n") ? "" : "\n");
        return this;
    }

    /**
     * A {@code proxy:} section for a test: listening on a free loopback port and without a health endpoint unless
     * {@code settings} say otherwise, each setting ({@code "key: value"}, nested lines allowed) as given, and one
     * user stored by the hash of {@code password} (mysql_native_password, and caching_sha2_password too with
     * {@code sha2}).
     */
    public static String proxySection(String user, String password, boolean sha2, String... settings) {
        StringBuilder b = new StringBuilder("proxy:\n");
        boolean listen = false;
        boolean health = false;
        for (String setting : settings) {
            listen |= setting.startsWith("listen:");
            health |= setting.startsWith("health:");
        }
        if (!listen) {
            b.append("  listen: 127.0.0.1:0\n");
        }
        if (!health) {
            b.append("  health: off\n");
        }
        for (String setting : settings) {
            setting.lines().forEach(line -> b.append("  ").append(line).append('\n'));
        }
        b.append("  users:\n    ").append(user).append(":\n      nativeHash: \"")
                .append(dev.ballast.proxy.Auth.nativeHash(password)).append("\"\n");
        if (sha2) {
            b.append("      sha2Hash: \"").append(dev.ballast.proxy.Auth.sha2Hash(password)).append("\"\n");
        }
        return b.toString();
    }

    public String text() {
        StringBuilder b = new StringBuilder();
        b.append("name: ").append(name).append('\n');
        b.append("database: ").append(database).append('\n');
        b.append("credentials:\n  user: ").append(user).append("\n  password: ").append(password).append('\n');
        b.append("groups:\n");
        groups.forEach((g, nodes) -> {
            b.append("  ").append(g).append(":\n");
            b.append("    master: ").append(nodes.get(0)).append('\n');
            b.append("    replicas: ").append(nodes.subList(1, nodes.size())).append('\n');
        });
        return b.append(extra).toString();
    }

    public Path writeTo(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            return Files.writeString(file, text());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> concat(String first, List<String> rest) {
        java.util.ArrayList<String> all = new java.util.ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
