package dev.ballast.it.driver;

import com.zaxxer.hikari.HikariDataSource;
import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.MariaDbNode;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.it.testbed.TestBedUsers;
import dev.ballast.jdbc.internal.BallastContextManagerBuilder;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.ClusterConfigLoader;
import dev.ballast.rules.GroupConfig;
import dev.ballast.rules.NodeAddress;
import dev.ballast.rules.shardingsphere.ShardingSphereRules;
import org.apache.shardingsphere.driver.api.ShardingSphereDataSourceFactory;
import org.apache.shardingsphere.driver.jdbc.core.connection.ShardingSphereConnection;
import org.apache.shardingsphere.infra.config.mode.ModeConfiguration;
import org.apache.shardingsphere.infra.metadata.ShardingSphereMetaData;
import org.apache.shardingsphere.infra.metadata.database.ShardingSphereDatabase;
import org.apache.shardingsphere.infra.metadata.database.schema.model.ShardingSphereSchema;
import org.apache.shardingsphere.infra.metadata.database.schema.model.ShardingSphereTable;
import org.apache.shardingsphere.infra.rule.ShardingSphereRule;
import org.apache.shardingsphere.infra.rule.attribute.datanode.DataNodeRuleAttribute;
import org.apache.shardingsphere.infra.rule.attribute.datasource.DataSourceMapperRuleAttribute;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ballast builds ShardingSphere's context with its own builder, which skips writing the rules out to the metadata
 * repository and builds the system schemas on a second thread. On real servers, it must give the metadata that
 * ShardingSphere's standalone builder gives for the same data sources and rules: databases, schemas, tables and
 * columns, data nodes, data-source mappings, properties, and the same learning from DDL afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ContextManagerBuilderTest {

    static final String TABLES = """
            tables:
              t_hash:
                shardingColumn: user_id
                tablesPerGroup: 2
                algorithm: {type: hash-mod}
                keyGenerator: {column: id}
              t_range:
                shardingColumn: id
                algorithm: {type: range, bounds: [1000]}
              t_ring:
                shardingColumn: k
                tablesPerGroup: 2
                algorithm: {type: consistent-hash}
              t_placed:
                group: g1
              t_later:
                group: g0
              t_region:
                broadcast: true
            """;

    private TestBed bed;
    private ClusterConfig config;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        bed = TestBed.start(2, 1);
        config = ClusterConfigLoader.parse(ClusterYaml.forBed("ctx", bed).with(TABLES).text(), System::getenv);
        for (int g = 0; g < 2; g++) {
            MariaDbNode master = bed.groups().get(g).master();
            try (Connection c = master.connect(TestBed.DATABASE); Statement s = c.createStatement()) {
                for (int i = g * 2; i < g * 2 + 2; i++) {
                    s.execute("CREATE TABLE t_hash_" + i + " (id BIGINT PRIMARY KEY, user_id INT, note VARCHAR(20))");
                    s.execute("CREATE TABLE t_ring_" + i + " (k VARCHAR(20) PRIMARY KEY, v INT)");
                }
                s.execute("CREATE TABLE t_range (id BIGINT PRIMARY KEY, amount DECIMAL(10,2))");
                s.execute("CREATE TABLE t_region (code CHAR(2) PRIMARY KEY, name VARCHAR(40))");
                if (g == 1) {
                    s.execute("CREATE TABLE t_placed (id INT PRIMARY KEY, created DATETIME)");
                }
            }
        }
        bed.awaitReplication();
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable r : resources) {
            r.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void ballastsBuilderGivesTheMetadataOfShardingSpheresStandaloneBuilderAndLearnsFromDdlAlike() throws Exception {
        DataSource standalone = shardingSphere(null);
        DataSource ballast = shardingSphere(new ModeConfiguration(BallastContextManagerBuilder.TYPE, null));

        String expected = describe(standalone);
        for (String part : List.of("database information_schema", "database performance_schema", "database sys",
                "table t_hash [id, note, user_id]", "t_hash -> [g0.t_hash_0", "g1 => [g1__master, g1__replica0]")) {
            assertTrue(expected.contains(part), "the description has '" + part + "'");
        }
        assertSame(expected, describe(ballast));

        // DDL through each: both learn the new table's columns
        execute(ballast, "CREATE TABLE t_later (id INT PRIMARY KEY, label VARCHAR(10))");
        execute(standalone, "CREATE TABLE IF NOT EXISTS t_later (id INT PRIMARY KEY, label VARCHAR(10))");
        String afterDdl = describe(standalone);
        assertTrue(afterDdl.contains("table t_later [id, label]"), "ShardingSphere's builder learnt t_later");
        assertSame(afterDdl, describe(ballast));

        // and both route and merge the same
        execute(ballast, "INSERT INTO t_hash (user_id, note) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
        execute(ballast, "INSERT INTO t_later (id, label) VALUES (7, 'x')");
        bed.awaitReplication();
        for (String q : List.of("SELECT COUNT(*), SUM(user_id) FROM t_hash", "SELECT label FROM t_later WHERE id = 7")) {
            assertEquals(query(standalone, q), query(ballast, q), q);
        }
        assertEquals("3 6", query(ballast, "SELECT COUNT(*), SUM(user_id) FROM t_hash"));
    }

    /** Equal descriptions, or a failure that lists the lines only one of them has. */
    private static void assertSame(String expected, String actual) {
        List<String> e = List.of(expected.split("\n"));
        List<String> a = List.of(actual.split("\n"));
        List<String> missing = e.stream().filter(l -> !a.contains(l)).toList();
        List<String> extra = a.stream().filter(l -> !e.contains(l)).toList();
        assertEquals(expected, actual, "Ballast's builder lacks " + missing + " and has extra " + extra);
    }

    private DataSource shardingSphere(ModeConfiguration mode) throws SQLException {
        Map<String, DataSource> units = new LinkedHashMap<>();
        for (GroupConfig group : config.groups().values()) {
            units.put(ShardingSphereRules.masterUnit(group.name()), pool(group.master()));
            for (int i = 0; i < group.replicas().size(); i++) {
                units.put(ShardingSphereRules.replicaUnit(group.name(), i), pool(group.replicas().get(i)));
            }
        }
        Properties props = new Properties();
        DataSource ds = ShardingSphereDataSourceFactory.createDataSource(config.database(), mode, units,
                ShardingSphereRules.rules(config), props);
        resources.add(0, (AutoCloseable) ds);
        return ds;
    }

    private HikariDataSource pool(NodeAddress node) {
        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl("jdbc:mysql://" + node.host() + ":" + node.port() + "/" + TestBed.DATABASE);
        pool.setUsername(TestBedUsers.APP_USER);
        pool.setPassword(TestBedUsers.APP_PASSWORD);
        pool.setMaximumPoolSize(4);
        resources.add(pool);
        return pool;
    }

    /** Everything ShardingSphere routes and binds with, as sorted text. */
    private static String describe(DataSource ds) throws SQLException {
        StringBuilder b = new StringBuilder();
        try (Connection c = ds.getConnection()) {
            ShardingSphereMetaData metaData = c.unwrap(ShardingSphereConnection.class).getContextManager()
                    .getMetaDataContexts().getMetaData();
            Map<String, ShardingSphereDatabase> databases = new TreeMap<>();
            metaData.getAllDatabases().forEach(d -> databases.put(d.getName(), d));
            for (ShardingSphereDatabase d : databases.values()) {
                b.append("database ").append(d.getName()).append(" protocol ").append(d.getProtocolType().getType())
                        .append(" units ").append(new TreeSet<>(d.getResourceMetaData().getStorageUnits().keySet())).append('\n');
                Map<String, ShardingSphereSchema> schemas = new TreeMap<>();
                d.getAllSchemas().forEach(s -> schemas.put(s.getName(), s));
                for (ShardingSphereSchema s : schemas.values()) {
                    b.append(" schema ").append(s.getName()).append('\n');
                    Map<String, ShardingSphereTable> tables = new TreeMap<>();
                    s.getAllTables().forEach(t -> tables.put(t.getName(), t));
                    for (ShardingSphereTable t : tables.values()) {
                        b.append("  table ").append(t.getName()).append(' ').append(new TreeSet<>(t.getAllColumns().stream().map(col -> col.getName()).toList())).append('\n');
                    }
                }
                for (ShardingSphereRule rule : d.getRuleMetaData().getRules()) {
                    b.append(" rule ").append(rule.getClass().getSimpleName()).append('\n');
                    rule.getAttributes().findAttribute(DataNodeRuleAttribute.class).ifPresent(a -> new TreeMap<>(a.getAllDataNodes())
                            .forEach((table, nodes) -> b.append("  ").append(table).append(" -> ")
                            .append(nodes.stream().map(n -> n.getDataSourceName() + "." + n.getTableName()).toList()).append('\n')));
                    rule.getAttributes().findAttribute(DataSourceMapperRuleAttribute.class).ifPresent(a -> new TreeMap<>(a.getDataSourceMapper())
                            .forEach((logical, actual) -> b.append("  ").append(logical).append(" => ").append(actual).append('\n')));
                }
            }
            b.append("props ").append(new TreeMap<>(metaData.getProps().getProps())).append('\n');
            metaData.getGlobalRuleMetaData().getRules().forEach(r -> b.append("global ").append(r.getClass().getSimpleName()).append('\n'));
        }
        return b.toString();
    }

    private static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static String query(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    values.add(rs.getString(i));
                }
            }
            return String.join(" ", values);
        }
    }
}
