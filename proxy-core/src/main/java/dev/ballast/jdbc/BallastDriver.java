package dev.ballast.jdbc;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * {@code jdbc:ballast:<path-to-cluster.yaml>}. The first connection to a URL builds a
 * {@link BallastDataSource} for it; later connections share it (pools included) until the JVM exits.
 * A relative path is resolved against the working directory; {@code classpath:name.yaml} reads a resource.
 */
public final class BallastDriver implements Driver {

    public static final String PREFIX = "jdbc:ballast:";
    private static final Map<String, BallastDataSource> DATA_SOURCES = new ConcurrentHashMap<>();

    static {
        try {
            DriverManager.registerDriver(new BallastDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> DATA_SOURCES.values().forEach(BallastDataSource::close),
                "ballast-driver-shutdown"));
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        return dataSource(url).getConnection();
    }

    /**
     * The data source every {@code jdbc:ballast:} connection of {@code url} in this JVM goes through, built now if no
     * connection was made yet: e.g. {@code BallastDriver.dataSource(url).bindTo(registry)} for metrics.
     */
    public static BallastDataSource dataSource(String url) throws SQLException {
        if (url == null || !url.startsWith(PREFIX)) {
            throw new SQLException("not a Ballast URL: '" + url + "'; expected " + PREFIX + "<path of a cluster config>", "08001");
        }
        BallastDataSource ds = DATA_SOURCES.get(url);
        if (ds == null) {
            synchronized (DATA_SOURCES) {
                ds = DATA_SOURCES.get(url);
                if (ds == null) {
                    ds = open(url.substring(PREFIX.length()));
                    DATA_SOURCES.put(url, ds);
                }
            }
        }
        return ds;
    }

    private static BallastDataSource open(String location) throws SQLException {
        if (location.isBlank()) {
            throw new SQLException("jdbc:ballast: needs the path of a cluster config, e.g. jdbc:ballast:/etc/ballast/shop.yaml", "08001");
        }
        if (location.startsWith("classpath:")) {
            String resource = location.substring("classpath:".length());
            try (var in = Thread.currentThread().getContextClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new SQLException("jdbc:ballast: no classpath resource '" + resource + "'", "08001");
                }
                String yaml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                return new BallastDataSource(dev.ballast.rules.ClusterConfigLoader.parse(yaml, System::getenv));
            } catch (java.io.IOException e) {
                throw new SQLException("jdbc:ballast: cannot read classpath resource '" + resource + "': " + e, "08001", e);
            }
        }
        return BallastDataSource.fromYaml(Path.of(location));
    }

    /** Closes and forgets the data source of a URL (tests and hot reload); the next connect builds a new one. */
    public static void close(String url) {
        BallastDataSource ds = DATA_SOURCES.remove(url);
        if (ds != null) {
            ds.close();
        }
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return Logger.getLogger("dev.ballast");
    }
}
