package dev.ballast.it.sysschema;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.time.LocalDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.ballast.it.sysschema.SystemSchemaTest.bed;
import static dev.ballast.it.sysschema.SystemSchemaTest.ds;
import static dev.ballast.it.sysschema.SystemSchemaTest.proxy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 item 2: Hibernate ORM builds its SessionFactory with {@code hbm2ddl.auto=validate} against the logical tables
 * (a sharded one, a placed one), through {@code jdbc:ballast:} and through the proxy, then persists and reads back an
 * entity of each. A mapping with a column the table does not have fails validation naming it: the metadata Hibernate
 * reads is the real one, not an empty answer that validates anything.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class HibernateValidateTest {

    @BeforeAll
    static void start() throws Exception {
        SystemSchemaTest.start();
    }

    @AfterAll
    static void stop() {
        SystemSchemaTest.stop();
    }

    /** The sharded table t_kv (4 physical tables over 2 groups). */
    @Entity(name = "Kv")
    @Table(name = "t_kv")
    public static class Kv {
        @Id
        @Column(name = "k")
        Long k;
        @Column(name = "v", length = 64, nullable = false)
        String v;
        @Column(name = "n")
        Integer n;

        public Kv() {
        }

        Kv(long k, String v, Integer n) {
            this.k = k;
            this.v = v;
            this.n = n;
        }
    }

    /** The table placed whole on g1. */
    @Entity
    @Table(name = "t_placed")
    public static class Placed {
        @Id
        @Column(name = "id")
        Integer id;
        @Column(name = "name", length = 20)
        String name;
        @Column(name = "created")
        LocalDateTime created;

        public Placed() {
        }

        Placed(int id, String name, LocalDateTime created) {
            this.id = id;
            this.name = name;
            this.created = created;
        }
    }

    /** t_kv as a careless developer mapped it: a column the table does not have. */
    @Entity
    @Table(name = "t_kv")
    public static class KvWithMissingColumn {
        @Id
        @Column(name = "k")
        Long k;
        @Column(name = "v", length = 64, nullable = false)
        String v;
        @Column(name = "not_in_table")
        Integer notInTable;
    }

    /** The ways in: the driver, and the proxy through MariaDB's JDBC driver and through MySQL Connector/J. */
    enum Way { BALLAST, PROXY_MARIADB_DRIVER, PROXY_CONNECTOR_J }

    static Configuration configuration(Way way, Class<?>... entities) {
        Configuration cfg = new Configuration();
        for (Class<?> e : entities) {
            cfg.addAnnotatedClass(e);
        }
        cfg.setProperty("hibernate.hbm2ddl.auto", "validate");
        String hostPort = "//127.0.0.1:" + (proxy == null ? 0 : proxy.port()) + "/" + bed.database();
        switch (way) {
            case BALLAST -> {
                cfg.getProperties().put("hibernate.connection.datasource", ds);
                // Connector/J reads MariaDB 10.11 as "5.5.5-10.11..." and jdbc:ballast passes that on: auto-detection would
                // pick MySQLDialect for MySQL 5.5, so the dialect is named
                cfg.setProperty("hibernate.dialect", "org.hibernate.dialect.MariaDBDialect");
            }
            case PROXY_MARIADB_DRIVER -> {
                // the dialect is detected: MariaDB's driver reports the proxy's "10.11.99-MariaDB-Ballast-proxy"
                cfg.setProperty("hibernate.connection.url", "jdbc:mariadb:" + hostPort);
            }
            case PROXY_CONNECTOR_J -> {
                cfg.setProperty("hibernate.connection.url", "jdbc:mysql:" + hostPort + "?sslMode=DISABLED&allowPublicKeyRetrieval=true");
                // Connector/J takes version 10.11 for MySQL >= 8.0.11 and asks information_schema.KEYWORDS for its MySQL 8
                // column RESERVED, which MariaDB does not have: Hibernate then has no JDBC metadata to pick a dialect from
                cfg.setProperty("hibernate.dialect", "org.hibernate.dialect.MariaDBDialect");
            }
        }
        if (way != Way.BALLAST) {
            cfg.setProperty("hibernate.connection.username", SystemSchemaTest.USER);
            cfg.setProperty("hibernate.connection.password", SystemSchemaTest.PASSWORD);
            cfg.setProperty("hibernate.connection.pool_size", "2");
        }
        return cfg;
    }

    @Test
    void validatesTheShardedAndThePlacedTableAndPersistsThroughTheDriverAndTheProxy() throws Exception {
        List<Long> written = new java.util.ArrayList<>();
        for (Way way : Way.values()) {
            String how = way.name();
            long k = 1001 + way.ordinal();
            int id = 1001 + way.ordinal();
            LocalDateTime created = LocalDateTime.of(2026, 12, 5, 9, 30, 1, 250_000_000);
            // the fraction of a second too: jdbc:ballast's Connector/J pools once dropped it on MariaDB 10.x (version "5.5.5-10.11")
            LocalDateTime stored = created;
            try (SessionFactory sf = configuration(way, Kv.class, Placed.class).buildSessionFactory()) {
                if (way == Way.PROXY_MARIADB_DRIVER) {
                    assertEquals("MariaDBDialect", sf.unwrap(org.hibernate.engine.spi.SessionFactoryImplementor.class)
                            .getJdbcServices().getDialect().getClass().getSimpleName(), how);
                }
                sf.inTransaction(s -> {
                    s.persist(new Kv(k, "hib'" + how, 7));
                    s.persist(new Placed(id, "hib", created));
                });
                written.add(k);
                sf.inSession(s -> {
                    Kv kv = s.find(Kv.class, k);
                    assertNotNull(kv, how);
                    assertEquals("hib'" + how, kv.v, how);
                    assertEquals(7, kv.n, how);
                    Placed p = s.find(Placed.class, id);
                    assertNotNull(p, how);
                    assertEquals("hib", p.name, how);
                    assertEquals(stored, p.created, how);
                    // a query over every shard, merged: the rows written so far
                    List<Long> keys = s.createSelectionQuery("select k from Kv where k > 1000 order by k", Long.class).getResultList();
                    assertEquals(written, keys, how);
                });
            }
            // the row is where the sharding rule puts it, not only somewhere Hibernate can read it back from
            int physical = (int) (k % 4);
            try (Connection direct = bed.group(physical < 2 ? 0 : 1).master().connect(bed.database())) {
                assertEquals(List.of(k + "|hib'" + how + "|7|"), SystemSchemaTest.rows(direct, "SELECT * FROM t_kv_" + physical
                        + " WHERE k = " + k), how + ": t_kv_" + physical);
            }
            try (Connection direct = bed.group(1).master().connect(bed.database())) {
                String expected = stored.format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
                assertEquals(List.of(expected + "|"), SystemSchemaTest.rows(direct,
                        "SELECT DATE_FORMAT(created, '%Y-%m-%d %H:%i:%s.%f') FROM t_placed WHERE id = " + id), how);
            }
        }
    }

    @Test
    void aMappedColumnTheTableLacksFailsValidationNamingIt() {
        for (Way way : Way.values()) {
            Exception e = assertThrows(Exception.class,
                    () -> configuration(way, KvWithMissingColumn.class).buildSessionFactory().close(), way.name());
            String message = messages(e);
            assertTrue(message.contains("not_in_table") && message.contains("t_kv"), way + ": " + message);
        }
    }

    static String messages(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t).append(" / ");
        }
        return b.toString();
    }
}
