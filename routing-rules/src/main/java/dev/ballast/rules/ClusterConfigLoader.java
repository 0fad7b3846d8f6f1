package dev.ballast.rules;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads and validates a cluster config (YAML). Validation fails fast on the first problem, and the
 * {@link ConfigException} names the key path, the bad value and what is expected. The reference of
 * every key is in README.md ("Cluster config").
 */
public final class ClusterConfigLoader {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Pattern CLUSTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final Function<String, String> env;

    private ClusterConfigLoader(Function<String, String> env) {
        this.env = env;
    }

    /** Loads a file, substituting {@code ${VAR}} from the process environment. */
    public static ClusterConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read cluster config " + file.toAbsolutePath() + ": " + e);
        }
        return parse(text, System::getenv);
    }

    /** Parses YAML text, taking {@code ${VAR}} values from {@code env} (null = unset). */
    public static ClusterConfig parse(String yaml, Function<String, String> env) {
        Object document;
        try {
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        } catch (YAMLException e) {
            throw new ConfigException("", "not valid YAML: " + e.getMessage());
        }
        return new ClusterConfigLoader(env).read(ConfigNode.root(document, env));
    }

    private ClusterConfig read(ConfigNode root) {
        root.onlyKeys(Set.of("name", "database", "flavour", "credentials", "monitor", "pool", "readPolicy", "groups",
                "tables", "bindingTables", "fastPath", "failover", "proxy", "workerId", "upgrade", "schema", "mongo",
                "deadlockCheckMs"));
        String name = matching(root, "name", CLUSTER_NAME, "letters, digits, '_', '.', '-' (at most 64)");
        String database = matching(root, "database", NAME, "a schema name: letters, digits, '_' (at most 64)");
        Flavour defaultFlavour = enumValue(root, "flavour", Flavour.MARIADB);

        ConfigNode cred = root.child("credentials");
        cred.onlyKeys(Set.of("user", "password"));
        Credentials credentials = new Credentials(cred.string("user"), cred.string("password", ""));

        Optional<MonitorCredentials> monitor = Optional.empty();
        if (root.has("monitor")) {
            ConfigNode m = root.child("monitor");
            m.onlyKeys(Set.of("user", "password"));
            monitor = Optional.of(new MonitorCredentials(m.string("user"), m.string("password", "")));
        }
        PoolSettings pool = pool(root.optionalChild("pool"));
        ReadPolicy readPolicy = readPolicy(root.optionalChild("readPolicy"));
        Map<String, GroupConfig> groups = groups(root.child("groups"), defaultFlavour);
        Map<String, TableRule> tables = tables(root.optionalChild("tables"), groups);
        List<List<String>> binding = bindingTables(root, tables);
        FailoverSettings failover = failover(root.optionalChild("failover"), groups);
        ProxySettings proxy = proxy(root.optionalChild("proxy"));
        java.util.OptionalInt workerId = java.util.OptionalInt.empty();
        if (root.has("workerId")) {
            if (failover.zookeeper().isPresent()) {
                throw new ConfigException("workerId", "not allowed with failover.zookeeper: each data source then leases its"
                        + " worker id under " + failover.clusterPath(name) + "/workers; remove workerId");
            }
            workerId = java.util.OptionalInt.of((int) root.number("workerId", 0, 1023, 0));
        }
        return new ClusterConfig(name, database, credentials, monitor, pool, readPolicy, groups, tables, binding,
                root.bool("fastPath", true), failover, proxy, workerId, upgrade(root.optionalChild("upgrade")),
                schema(root.optionalChild("schema")), mongo(root.optionalChild("mongo"), groups),
                root.number("deadlockCheckMs", 0, 60_000L, ClusterConfig.DEFAULT_DEADLOCK_CHECK_MS));
    }

    private static UpgradeSettings upgrade(ConfigNode node) {
        node.onlyKeys(Set.of("stopCommand", "installCommand", "startCommand", "postStartCommand", "postStartSql",
                "commandTimeoutMs", "stopTimeoutMs", "startTimeoutMs", "drainTimeoutMs", "catchUpTimeoutMs"));
        UpgradeSettings d = UpgradeSettings.DEFAULTS;
        List<String> sql = new ArrayList<>();
        if (node.has("postStartSql")) {
            List<Object> items = node.list("postStartSql");
            for (int i = 0; i < items.size(); i++) {
                Object item = items.get(i);
                if (!(item instanceof String text) || text.isBlank()) {
                    throw new ConfigException(node.pathOf("postStartSql") + "[" + i + "]", "expected an SQL statement, found "
                            + ConfigNode.describe(item));
                }
                sql.add(node.substitute(node.pathOf("postStartSql") + "[" + i + "]", text));
            }
        }
        return new UpgradeSettings(node.string("stopCommand", d.stopCommand()), node.string("installCommand", d.installCommand()),
                node.string("startCommand", d.startCommand()), node.string("postStartCommand", d.postStartCommand()), sql,
                node.number("commandTimeoutMs", 1_000, 86_400_000, d.commandTimeoutMs()),
                node.number("stopTimeoutMs", 1_000, 86_400_000, d.stopTimeoutMs()),
                node.number("startTimeoutMs", 1_000, 86_400_000, d.startTimeoutMs()),
                node.number("drainTimeoutMs", 0, 3_600_000, d.drainTimeoutMs()),
                node.number("catchUpTimeoutMs", 1_000, 86_400_000, d.catchUpTimeoutMs()));
    }

    private static final Pattern REPLICA_SET_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /** {@code mongo.replicaSets.<name>}: MongoDB replica sets beside the MySQL groups. */
    private static Map<String, MongoReplicaSetConfig> mongo(ConfigNode node, Map<String, GroupConfig> groups) {
        node.onlyKeys(Set.of("replicaSets"));
        Map<String, MongoReplicaSetConfig> sets = new LinkedHashMap<>();
        ConfigNode all = node.optionalChild("replicaSets");
        Map<NodeAddress, String> seen = new HashMap<>();
        groups.values().forEach(g -> {
            seen.put(g.master(), "group " + g.name());
            g.replicas().forEach(r -> seen.put(r, "group " + g.name()));
        });
        for (String name : all.keys()) {
            String path = all.pathOf(name);
            if (!REPLICA_SET_NAME.matcher(name).matches()) {
                throw new ConfigException(path, "'" + name + "' is not a replica set name; expected letters, digits, '_', '-'"
                        + " (at most 64), the replSetName the members run with");
            }
            if (groups.containsKey(name)) {
                throw new ConfigException(path, "'" + name + "' is also a MySQL group (groups." + name + "); the CLI's --group"
                        + " must name one or the other: rename one of them");
            }
            ConfigNode rs = all.child(name);
            rs.onlyKeys(Set.of("members", "user", "password", "authSource", "readPreference", "maxStalenessSeconds",
                    "writeConcern", "writeConcernTimeoutMs", "connectTimeoutMs", "serverSelectionTimeoutMs",
                    "heartbeatFrequencyMs", "stepDownSecs", "catchUpSecs", "upgrade"));
            List<NodeAddress> members = new ArrayList<>();
            List<Object> listed = rs.list("members");
            if (listed.isEmpty()) {
                throw new ConfigException(rs.pathOf("members"), "is empty; list the replica set's members as host:port");
            }
            for (int i = 0; i < listed.size(); i++) {
                String memberPath = rs.pathOf("members") + "[" + i + "]";
                Object item = listed.get(i);
                if (item == null || item instanceof Map<?, ?> || item instanceof List<?>) {
                    throw new ConfigException(memberPath, "expected host:port, found " + ConfigNode.describe(item));
                }
                NodeAddress address;
                try {
                    address = NodeAddress.parse(rs.substitute(memberPath, String.valueOf(item)));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(memberPath, e.getMessage());
                }
                String other = seen.putIfAbsent(address, "replica set " + name);
                if (other != null) {
                    throw new ConfigException(memberPath, address + " is already a member of " + other
                            + "; a server belongs to one group or replica set");
                }
                members.add(address);
            }
            Optional<String> user = rs.has("user") ? Optional.of(rs.string("user")) : Optional.empty();
            Optional<Secret> password = rs.has("password") ? Optional.of(rs.secret("password")) : Optional.empty();
            if (password.isPresent() && user.isEmpty()) {
                throw new ConfigException(rs.pathOf("password"), "set without " + rs.pathOf("user") + "; set the user too");
            }
            String readPreference = rs.string("readPreference", "primary");
            if (!MongoReplicaSetConfig.READ_PREFERENCES.contains(readPreference)) {
                throw new ConfigException(rs.pathOf("readPreference"), "'" + readPreference + "' is not one of "
                        + String.join(", ", MongoReplicaSetConfig.READ_PREFERENCES));
            }
            java.util.OptionalLong staleness = java.util.OptionalLong.empty();
            if (rs.has("maxStalenessSeconds")) {
                if (readPreference.equals("primary")) {
                    throw new ConfigException(rs.pathOf("maxStalenessSeconds"), "set with readPreference primary, which reads"
                            + " no secondary; remove it or choose a readPreference that reads secondaries");
                }
                long value = rs.number("maxStalenessSeconds", Long.MIN_VALUE, Long.MAX_VALUE, 0);
                if (value < 90) {
                    throw new ConfigException(rs.pathOf("maxStalenessSeconds"), value + " is below 90, the MongoDB driver's "
                            + "minimum (heartbeat frequency + idle write period); use 90 or more");
                }
                staleness = java.util.OptionalLong.of(value);
            }
            String writeConcern = rs.string("writeConcern", "majority").trim();
            if (!writeConcern.equals("majority")) {
                int w;
                try {
                    w = Integer.parseInt(writeConcern);
                } catch (NumberFormatException e) {
                    w = -1;
                }
                if (w < 0 || w > 50) {
                    throw new ConfigException(rs.pathOf("writeConcern"), "'" + writeConcern + "' is not majority or a number"
                            + " of members 0..50");
                }
            }
            ConfigNode up = rs.optionalChild("upgrade");
            up.onlyKeys(Set.of("stop", "install", "start"));
            MongoReplicaSetConfig.UpgradeCommands commands = new MongoReplicaSetConfig.UpgradeCommands(
                    up.has("stop") ? Optional.of(up.string("stop")) : Optional.empty(),
                    up.has("install") ? Optional.of(up.string("install")) : Optional.empty(),
                    up.has("start") ? Optional.of(up.string("start")) : Optional.empty());
            int catchUp = (int) rs.number("catchUpSecs", 0, 3_600, 10);
            int stepDown = (int) rs.number("stepDownSecs", 10, 86_400, 60);
            if (stepDown <= catchUp) {
                throw new ConfigException(rs.pathOf("stepDownSecs"), stepDown + " is not more than catchUpSecs " + catchUp
                        + "; replSetStepDown needs the step-down period longer than the catch-up period");
            }
            sets.put(name, new MongoReplicaSetConfig(name, members, user, password, rs.string("authSource", "admin"),
                    readPreference, staleness, writeConcern,
                    rs.number("writeConcernTimeoutMs", 0, 3_600_000, 0),
                    (int) rs.number("connectTimeoutMs", 100, 600_000, 2_000),
                    (int) rs.number("serverSelectionTimeoutMs", 100, 600_000, 10_000),
                    (int) rs.number("heartbeatFrequencyMs", 500, 600_000, 1_000),
                    stepDown, catchUp,
                    commands));
        }
        return sets;
    }

    private static FailoverSettings failover(ConfigNode node, Map<String, GroupConfig> groups) {
        node.onlyKeys(Set.of("zookeeper", "zkRoot", "zkSessionTimeoutMs", "zkConnectionTimeoutMs", "writeHoldMs", "admin",
                "replication", "probeIntervalMs", "probeTimeoutMs", "applyTimeoutMs", "antiFlapWindowMs", "promotion", "acl",
                "heartbeatPeriodMs", "deadAfterHeartbeats", "metrics", "switchoverDrainMs", "followConfig"));
        FailoverSettings d = FailoverSettings.STATIC;
        Optional<String> zk = node.has("zookeeper") ? Optional.of(node.string("zookeeper")) : Optional.empty();
        String root = node.string("zkRoot", d.zkRoot());
        if (!root.startsWith("/") || root.length() > 1 && root.endsWith("/")) {
            throw new ConfigException(node.pathOf("zkRoot"), "'" + root + "' is not an absolute ZooKeeper path such as /ballast");
        }
        boolean followConfig = node.bool("followConfig", false);
        if (followConfig && zk.isEmpty()) {
            throw new ConfigException(node.pathOf("followConfig"), "true without failover.zookeeper: a pushed config is read "
                    + "from ZooKeeper; set failover.zookeeper or remove followConfig");
        }
        Map<NodeAddress, String> promotion = new LinkedHashMap<>();
        ConfigNode rules = node.optionalChild("promotion");
        java.util.Set<NodeAddress> known = new java.util.HashSet<>();
        groups.values().forEach(g -> {
            known.add(g.master());
            known.addAll(g.replicas());
        });
        for (String key : rules.keys()) {
            NodeAddress address;
            try {
                address = NodeAddress.parse(key);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(rules.pathOf(key), e.getMessage());
            }
            if (!known.contains(address)) {
                throw new ConfigException(rules.pathOf(key), key + " is not a server of any group");
            }
            String rule = rules.string(key).trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
            if (!Set.of("prefer", "neutral", "prefer_not", "must_not").contains(rule)) {
                throw new ConfigException(rules.pathOf(key), "'" + rules.string(key)
                        + "' is not one of prefer, neutral, prefer_not, must_not");
            }
            promotion.put(address, rule);
        }
        return new FailoverSettings(zk, root,
                (int) node.number("zkSessionTimeoutMs", 1_000, 600_000, d.zkSessionTimeoutMs()),
                (int) node.number("zkConnectionTimeoutMs", 100, 600_000, d.zkConnectionTimeoutMs()),
                node.number("writeHoldMs", 0, 600_000, d.writeHoldMs()),
                credentials(node, "admin"), credentials(node, "replication"),
                node.number("probeIntervalMs", 50, 60_000, d.probeIntervalMs()),
                (int) node.number("probeTimeoutMs", 100, 600_000, d.probeTimeoutMs()),
                node.number("applyTimeoutMs", 100, 86_400_000, d.applyTimeoutMs()),
                node.number("antiFlapWindowMs", 0, 86_400_000L * 7, d.antiFlapWindowMs()),
                promotion, acl(node, zk.isPresent()),
                // 100 ms: shorter heartbeats cost a packet per replica that often and gain nothing against a probe
                // interval of at least 50 ms; 60 s: beyond that slave_net_timeout (default 60 s) notices first anyway
                node.number("heartbeatPeriodMs", 100, 60_000, d.heartbeatPeriodMs()),
                (int) node.number("deadAfterHeartbeats", 2, 100, d.deadAfterHeartbeats()),
                optionalEndpoint(node, "metrics"),
                node.number("switchoverDrainMs", 0, 600_000, d.switchoverDrainMs()), followConfig);
    }

    /** {@code failover.acl}: both credentials required; passwords are kept unresolved (see {@link Secret}). */
    private static Optional<ZkAclSettings> acl(ConfigNode failover, boolean hasZooKeeper) {
        if (!failover.has("acl")) {
            return Optional.empty();
        }
        if (!hasZooKeeper) {
            throw new ConfigException(failover.pathOf("acl"), "set without failover.zookeeper; ACLs protect the ZooKeeper "
                    + "tree: set failover.zookeeper or remove failover.acl");
        }
        ConfigNode node = failover.child("acl");
        node.onlyKeys(Set.of("admin", "reader", "worldReadable"));
        ZkAclSettings.ZkCredential admin = zkCredential(node, "admin");
        ZkAclSettings.ZkCredential reader = zkCredential(node, "reader");
        if (admin.user().equals(reader.user())) {
            throw new ConfigException(node.pathOf("reader.user"), "'" + reader.user() + "' is also the admin user; the data "
                    + "planes' user must differ from the control plane's, or every data plane could rewrite the topology");
        }
        return Optional.of(new ZkAclSettings(admin, reader, node.bool("worldReadable", false)));
    }

    private static ZkAclSettings.ZkCredential zkCredential(ConfigNode parent, String key) {
        ConfigNode c = parent.child(key);
        c.onlyKeys(Set.of("user", "password"));
        String user = c.string("user");
        if (user.isEmpty() || user.contains(":")) {
            throw new ConfigException(c.pathOf("user"), "'" + user + "' is not valid; expected a non-empty name without ':' "
                    + "(a ZooKeeper digest user)");
        }
        return new ZkAclSettings.ZkCredential(user, c.secret("password"));
    }

    /** An optional {@code host:port} to listen on; absent, {@code off} or {@code false} mean none. */
    private static Optional<ProxySettings.Endpoint> optionalEndpoint(ConfigNode node, String key) {
        if (!node.has(key)) {
            return Optional.empty();
        }
        String text = node.string(key).trim();
        if (text.equals("off") || text.equals("false")) {
            return Optional.empty();
        }
        return Optional.of(proxyAddress(node, key, null));
    }

    private static final Pattern NATIVE_HASH = Pattern.compile("\\*[0-9A-Fa-f]{40}");
    private static final Pattern SHA2_HASH = Pattern.compile("[0-9A-Fa-f]{64}");

    private static ProxySettings proxy(ConfigNode node) {
        node.onlyKeys(Set.of("listen", "health", "maxConnections", "idleTimeoutMs", "maxPacketBytes", "workerThreads", "users",
                "tls", "relay", "relayConnections", "drainTimeoutMs", "relayShardedTransactions",
                "relayMerge"));
        ProxySettings d = ProxySettings.DEFAULTS;
        ProxySettings.Endpoint listen = proxyAddress(node, "listen", d.listen());
        Optional<ProxySettings.Endpoint> health = d.health();
        if (node.has("health")) {
            String text = node.string("health");
            health = text.equals("false") || text.equals("off") ? Optional.empty() : Optional.of(proxyAddress(node, "health", null));
        }
        Map<String, ProxySettings.ProxyUser> users = new LinkedHashMap<>();
        ConfigNode u = node.optionalChild("users");
        for (String name : u.keys()) {
            ConfigNode user = u.child(name);
            user.onlyKeys(Set.of("nativeHash", "sha2Hash"));
            Optional<String> nativeHash = user.has("nativeHash")
                    ? Optional.of(matching(user, "nativeHash", NATIVE_HASH, "'*' and 40 hex digits (mysql_native_password hash; "
                    + "see 'ballast hash-password')")) : Optional.empty();
            Optional<String> sha2Hash = user.has("sha2Hash")
                    ? Optional.of(matching(user, "sha2Hash", SHA2_HASH, "64 hex digits (SHA256(SHA256(password)); see "
                    + "'ballast hash-password')").toLowerCase(java.util.Locale.ROOT)) : Optional.empty();
            if (nativeHash.isEmpty() && sha2Hash.isEmpty()) {
                throw new ConfigException(u.pathOf(name), "needs nativeHash or sha2Hash (or both); 'ballast hash-password' prints them");
            }
            users.put(name, new ProxySettings.ProxyUser(name, nativeHash, sha2Hash));
        }
        Optional<ProxySettings.Tls> tls = Optional.empty();
        if (node.has("tls")) {
            ConfigNode t = node.child("tls");
            t.onlyKeys(Set.of("certificate", "privateKey", "required"));
            java.nio.file.Path cert = java.nio.file.Path.of(t.string("certificate"));
            java.nio.file.Path key = java.nio.file.Path.of(t.string("privateKey"));
            for (String k : new String[]{"certificate", "privateKey"}) {
                if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(t.string(k)))) {
                    throw new ConfigException(t.pathOf(k), "'" + t.string(k) + "' is not a readable file");
                }
            }
            tls = Optional.of(new ProxySettings.Tls(cert, key, t.bool("required", false)));
        }
        return new ProxySettings(listen, health,
                (int) node.number("maxConnections", 1, 100_000, d.maxConnections()),
                node.number("idleTimeoutMs", 1_000, 31_536_000_000L, d.idleTimeoutMs()),
                (int) node.number("maxPacketBytes", 1024, 1L << 30, d.maxPacketBytes()),
                (int) node.number("workerThreads", 1, 4096, d.workerThreads()),
                users, tls, node.bool("relay", d.relay()),
                (int) node.number("relayConnections", 1, 10_000, d.relayConnections()),
                node.number("drainTimeoutMs", 0, 3_600_000L, d.drainTimeoutMs()),
                node.bool("relayShardedTransactions", d.relayShardedTransactions()),
                node.bool("relayMerge", d.relayMerge()));
    }

    private static ProxySettings.Endpoint proxyAddress(ConfigNode node, String key, ProxySettings.Endpoint defaultValue) {
        if (!node.has(key)) {
            return defaultValue;
        }
        try {
            return ProxySettings.Endpoint.parse(node.string(key));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(node.pathOf(key), e.getMessage());
        }
    }

    private static Optional<Credentials> credentials(ConfigNode parent, String key) {
        if (!parent.has(key)) {
            return Optional.empty();
        }
        ConfigNode c = parent.child(key);
        c.onlyKeys(Set.of("user", "password"));
        return Optional.of(new Credentials(c.string("user"), c.string("password", "")));
    }

    private static PoolSettings pool(ConfigNode node) {
        node.onlyKeys(Set.of("maxPoolSize", "minIdle", "connectionTimeoutMs", "idleTimeoutMs", "maxLifetimeMs",
                "connectTimeoutMs", "socketTimeoutMs", "jdbcProperties"));
        PoolSettings d = PoolSettings.DEFAULTS;
        int max = (int) node.number("maxPoolSize", 1, 10_000, d.maxPoolSize());
        int minIdle = (int) node.number("minIdle", 0, 10_000, Math.min(d.minIdle(), max));
        if (minIdle > max) {
            throw new ConfigException(node.pathOf("minIdle"), minIdle + " is more than maxPoolSize " + max);
        }
        Map<String, String> jdbc = new LinkedHashMap<>();
        ConfigNode props = node.optionalChild("jdbcProperties");
        for (String key : props.keys()) {
            jdbc.put(key, props.string(key));
        }
        return new PoolSettings(max, minIdle,
                node.number("connectionTimeoutMs", 500, 600_000, d.connectionTimeoutMs()),
                node.number("idleTimeoutMs", 10_000, 86_400_000, d.idleTimeoutMs()),
                node.number("maxLifetimeMs", 30_000, 86_400_000, d.maxLifetimeMs()),
                (int) node.number("connectTimeoutMs", 100, 600_000, d.connectTimeoutMs()),
                (int) node.number("socketTimeoutMs", 0, 86_400_000, d.socketTimeoutMs()),
                jdbc);
    }

    private static SchemaSettings schema(ConfigNode node) {
        node.onlyKeys(Set.of("maxLagMs", "reloadWaitMs"));
        return new SchemaSettings(node.number("maxLagMs", 0, 86_400_000, SchemaSettings.DEFAULTS.maxLagMs()),
                node.number("reloadWaitMs", 0, 600_000, SchemaSettings.DEFAULTS.reloadWaitMs()));
    }

    private static ReadPolicy readPolicy(ConfigNode node) {
        node.onlyKeys(Set.of("loadBalance", "maxReplicaLagMs", "fallback", "probeIntervalMs", "readYourWrites",
                "masterAfterWriteMs"));
        ReadPolicy d = ReadPolicy.DEFAULTS;
        ReadPolicy.LoadBalance loadBalance = named(node, "loadBalance", ReadPolicy.LoadBalance.values(),
                ReadPolicy.LoadBalance::configName, d.loadBalance());
        ReadPolicy.ReadYourWrites ryw = named(node, "readYourWrites", ReadPolicy.ReadYourWrites.values(),
                ReadPolicy.ReadYourWrites::configName, d.readYourWrites());
        return new ReadPolicy(loadBalance,
                node.number("maxReplicaLagMs", 0, 86_400_000, d.maxReplicaLagMs()),
                enumValue(node, "fallback", d.fallback()),
                node.number("probeIntervalMs", 50, 60_000, d.probeIntervalMs()),
                ryw,
                node.number("masterAfterWriteMs", 0, 3_600_000, d.masterAfterWriteMs()));
    }

    private static <E> E named(ConfigNode node, String key, E[] values, Function<E, String> name, E defaultValue) {
        if (!node.has(key)) {
            return defaultValue;
        }
        String text = node.string(key);
        if (text.equals("false")) {
            text = "off"; // YAML 1.1 reads an unquoted off as false
        }
        List<String> names = new ArrayList<>();
        for (E e : values) {
            if (name.apply(e).equals(text)) {
                return e;
            }
            names.add(name.apply(e));
        }
        throw new ConfigException(node.pathOf(key), "'" + text + "' is not one of " + String.join(", ", names));
    }

    private static Map<String, GroupConfig> groups(ConfigNode node, Flavour defaultFlavour) {
        if (node.keys().isEmpty()) {
            throw new ConfigException(node.path(), "at least one replica group is required");
        }
        Map<String, GroupConfig> groups = new LinkedHashMap<>();
        Map<NodeAddress, String> seen = new HashMap<>();
        for (String groupName : node.keys()) {
            String path = node.pathOf(groupName);
            if (!NAME.matcher(groupName).matches()) {
                throw new ConfigException(path, "'" + groupName + "' is not a valid group name; use letters, digits, '_'");
            }
            ConfigNode g = node.child(groupName);
            g.onlyKeys(Set.of("master", "replicas", "flavour"));
            NodeAddress master = address(g, "master", g.string("master"), seen, groupName);
            List<NodeAddress> replicas = new ArrayList<>();
            if (g.has("replicas")) {
                List<Object> list = g.list("replicas");
                for (int i = 0; i < list.size(); i++) {
                    String keyPath = g.pathOf("replicas") + "[" + i + "]";
                    replicas.add(address(g, keyPath, g.substitute(keyPath, String.valueOf(list.get(i))), seen, groupName));
                }
            }
            groups.put(groupName, new GroupConfig(groupName, master, replicas, enumValue(g, "flavour", defaultFlavour)));
        }
        return groups;
    }

    private static NodeAddress address(ConfigNode g, String key, String text, Map<NodeAddress, String> seen, String group) {
        String keyPath = key.contains(".") ? key : g.pathOf(key);
        NodeAddress address;
        try {
            address = NodeAddress.parse(text.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(keyPath, e.getMessage() + "; expected host:port, e.g. 10.0.0.7:3306");
        }
        String other = seen.putIfAbsent(address, group);
        if (other != null) {
            throw new ConfigException(keyPath, "server " + address + " is already listed in group '" + other
                    + "'; a server belongs to exactly one group");
        }
        return address;
    }

    private Map<String, TableRule> tables(ConfigNode node, Map<String, GroupConfig> groups) {
        Map<String, TableRule> tables = new LinkedHashMap<>();
        Set<String> lowerNames = new HashSet<>();
        for (String tableName : node.keys()) {
            String path = node.pathOf(tableName);
            if (!NAME.matcher(tableName).matches()) {
                throw new ConfigException(path, "'" + tableName + "' is not a valid table name; use letters, digits, '_'");
            }
            if (!lowerNames.add(tableName.toLowerCase(Locale.ROOT))) {
                throw new ConfigException(path, "table is listed twice (names are case-insensitive)");
            }
            tables.put(tableName, table(tableName, node.child(tableName), groups));
        }
        // Physical names of sharded tables (name_i) must not collide with another logical table.
        for (TableRule rule : tables.values()) {
            for (DataNode dn : rule.dataNodes()) {
                TableRule other = tables.get(dn.table());
                if (!dn.table().equals(rule.name()) && other != null) {
                    throw new ConfigException(node.pathOf(rule.name()), "its physical table " + dn
                            + " has the same name as the logical table '" + other.name() + "'; rename one of them");
                }
            }
        }
        return tables;
    }

    private TableRule table(String name, ConfigNode t, Map<String, GroupConfig> groups) {
        boolean broadcast = t.bool("broadcast", false);
        boolean placed = t.has("group");
        boolean sharded = t.has("shardingColumn");
        int kinds = (broadcast ? 1 : 0) + (placed ? 1 : 0) + (sharded ? 1 : 0);
        if (kinds != 1) {
            throw new ConfigException(t.path(), kinds == 0
                    ? "say where the table lives: 'shardingColumn' (sharded), 'group' (whole table on one group) or 'broadcast: true'"
                    : "'shardingColumn', 'group' and 'broadcast: true' exclude each other; keep one");
        }
        if (broadcast) {
            t.onlyKeys(Set.of("broadcast"));
            return new TableRule.Broadcast(name, List.copyOf(groups.keySet()));
        }
        if (placed) {
            t.onlyKeys(Set.of("group", "keyGenerator"));
            return new TableRule.Placed(name, groupName(t, "group", t.string("group"), groups), keyGenerator(t));
        }
        t.onlyKeys(Set.of("shardingColumn", "groups", "tablesPerGroup", "algorithm", "keyGenerator"));
        String column = matching(t, "shardingColumn", NAME, "a column name");
        List<String> tableGroups = new ArrayList<>();
        if (t.has("groups")) {
            List<Object> list = t.list("groups");
            for (int i = 0; i < list.size(); i++) {
                String g = groupName(t, t.pathOf("groups") + "[" + i + "]", String.valueOf(list.get(i)), groups);
                if (tableGroups.contains(g)) {
                    throw new ConfigException(t.pathOf("groups") + "[" + i + "]", "group '" + g + "' is listed twice");
                }
                tableGroups.add(g);
            }
            if (tableGroups.isEmpty()) {
                throw new ConfigException(t.pathOf("groups"), "empty; list at least one group");
            }
        } else {
            tableGroups.addAll(groups.keySet());
        }
        int perGroup = (int) t.number("tablesPerGroup", 1, 1024, 1);
        int nodeCount = tableGroups.size() * perGroup;
        AlgorithmSpec algorithm = algorithm(t.child("algorithm"), nodeCount);
        return new TableRule.Sharded(name, column, tableGroups, perGroup, algorithm, keyGenerator(t));
    }

    private static String groupName(ConfigNode t, String key, String value, Map<String, GroupConfig> groups) {
        String keyPath = key.contains(".") ? key : t.pathOf(key);
        if (!groups.containsKey(value)) {
            throw new ConfigException(keyPath, "'" + value + "' is not a group; groups are " + String.join(", ", groups.keySet()));
        }
        return value;
    }

    private static AlgorithmSpec algorithm(ConfigNode a, int nodeCount) {
        String type = a.string("type");
        switch (type) {
            case "hash-mod" -> {
                a.onlyKeys(Set.of("type"));
                return new AlgorithmSpec.HashMod();
            }
            case "consistent-hash" -> {
                a.onlyKeys(Set.of("type", "virtualNodes"));
                return new AlgorithmSpec.ConsistentHash((int) a.number("virtualNodes", 1, 10_000,
                        dev.ballast.rules.algorithm.ConsistentHashShardFunction.DEFAULT_VIRTUAL_NODES));
            }
            case "range" -> {
                a.onlyKeys(Set.of("type", "bounds"));
                List<Object> raw = a.list("bounds");
                List<Long> bounds = new ArrayList<>();
                for (int i = 0; i < raw.size(); i++) {
                    String keyPath = a.pathOf("bounds") + "[" + i + "]";
                    long value;
                    try {
                        value = Long.parseLong(String.valueOf(raw.get(i)).trim());
                    } catch (NumberFormatException e) {
                        throw new ConfigException(keyPath, "'" + raw.get(i) + "' is not a whole number");
                    }
                    if (!bounds.isEmpty() && value <= bounds.get(bounds.size() - 1)) {
                        throw new ConfigException(keyPath, value + " is not greater than the bound before it ("
                                + bounds.get(bounds.size() - 1) + "); bounds must ascend strictly");
                    }
                    bounds.add(value);
                }
                if (bounds.size() != nodeCount - 1) {
                    throw new ConfigException(a.pathOf("bounds"), bounds.size() + " bounds for " + nodeCount
                            + " data nodes; expected " + (nodeCount - 1) + " (one less than groups x tablesPerGroup)");
                }
                return new AlgorithmSpec.Range(bounds);
            }
            case "interval" -> {
                a.onlyKeys(Set.of("type", "start", "unit", "amount"));
                String startText = a.string("start").trim();
                LocalDateTime start;
                try {
                    start = startText.length() == 10 ? LocalDate.parse(startText).atStartOfDay()
                            : LocalDateTime.parse(startText.replace(' ', 'T'));
                } catch (DateTimeParseException e) {
                    throw new ConfigException(a.pathOf("start"), "'" + startText
                            + "' is not a date; expected yyyy-MM-dd or yyyy-MM-ddTHH:mm:ss");
                }
                String unitText = a.string("unit", "month");
                ChronoUnit unit = switch (unitText) {
                    case "hour" -> ChronoUnit.HOURS;
                    case "day" -> ChronoUnit.DAYS;
                    case "month" -> ChronoUnit.MONTHS;
                    case "year" -> ChronoUnit.YEARS;
                    default -> throw new ConfigException(a.pathOf("unit"), "'" + unitText + "' is not one of hour, day, month, year");
                };
                return new AlgorithmSpec.Interval(start, unit, (int) a.number("amount", 1, 100_000, 1));
            }
            default -> throw new ConfigException(a.pathOf("type"), "'" + type + "' is not one of "
                    + String.join(", ", AlgorithmSpec.TYPE_NAMES));
        }
    }

    private static Optional<KeyGeneratorSpec> keyGenerator(ConfigNode t) {
        if (!t.has("keyGenerator")) {
            return Optional.empty();
        }
        ConfigNode k = t.child("keyGenerator");
        k.onlyKeys(Set.of("column", "type"));
        String column = matching(k, "column", NAME, "a column name");
        String type = k.string("type", "snowflake");
        return Optional.of(new KeyGeneratorSpec(column, switch (type) {
            case "snowflake" -> KeyGeneratorSpec.Type.SNOWFLAKE;
            case "uuid" -> KeyGeneratorSpec.Type.UUID;
            default -> throw new ConfigException(k.pathOf("type"), "'" + type + "' is not one of snowflake, uuid");
        }));
    }

    private static List<List<String>> bindingTables(ConfigNode root, Map<String, TableRule> tables) {
        if (!root.has("bindingTables")) {
            return List.of();
        }
        List<List<String>> result = new ArrayList<>();
        List<Object> groupsOfTables = root.list("bindingTables");
        Set<String> bound = new HashSet<>();
        for (int i = 0; i < groupsOfTables.size(); i++) {
            String path = "bindingTables[" + i + "]";
            if (!(groupsOfTables.get(i) instanceof List<?> names) || names.size() < 2) {
                throw new ConfigException(path, "expected a list of at least two sharded tables, e.g. [t_order, t_order_item]");
            }
            TableRule.Sharded first = null;
            List<String> group = new ArrayList<>();
            for (Object o : names) {
                String n = String.valueOf(o);
                if (!(tables.get(n) instanceof TableRule.Sharded s)) {
                    throw new ConfigException(path, "'" + n + "' is not a sharded table in 'tables'");
                }
                if (!bound.add(n)) {
                    throw new ConfigException(path, "'" + n + "' is already in another binding group");
                }
                if (first == null) {
                    first = s;
                } else if (!s.groups().equals(first.groups()) || s.tablesPerGroup() != first.tablesPerGroup()
                        || !s.algorithm().equals(first.algorithm())) {
                    throw new ConfigException(path, "'" + n + "' is not sharded like '" + first.name()
                            + "'; bound tables need the same groups, tablesPerGroup and algorithm");
                }
                group.add(n);
            }
            result.add(group);
        }
        return result;
    }

    private static String matching(ConfigNode node, String key, Pattern pattern, String expected) {
        String value = node.string(key);
        if (!pattern.matcher(value).matches()) {
            throw new ConfigException(node.pathOf(key), "'" + value + "' is not valid; expected " + expected);
        }
        return value;
    }

    private static <E extends Enum<E>> E enumValue(ConfigNode node, String key, E defaultValue) {
        if (!node.has(key)) {
            return defaultValue;
        }
        String text = node.string(key);
        List<String> names = new ArrayList<>();
        for (E e : defaultValue.getDeclaringClass().getEnumConstants()) {
            String n = e.name().toLowerCase(Locale.ROOT);
            if (n.equals(text)) {
                return e;
            }
            names.add(n);
        }
        throw new ConfigException(node.pathOf(key), "'" + text + "' is not one of " + String.join(", ", names));
    }
}
