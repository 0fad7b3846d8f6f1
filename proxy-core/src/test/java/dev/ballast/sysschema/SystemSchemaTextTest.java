package dev.ballast.sysschema;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pure parts of the system schema: which statements it takes, its tokens, literals and LIKE. */
class SystemSchemaTextTest {

    @Test
    void takesInformationSchemaAndShowAboutTablesOnly() {
        for (String sql : List.of("SELECT * FROM information_schema.COLUMNS", "select 1 from `INFORMATION_SCHEMA`.`tables`",
                "SHOW TABLES", "show full tables from db like 'x%'", "SHOW COLUMNS FROM t", "SHOW FULL FIELDS IN t",
                "SHOW INDEX FROM t", "SHOW KEYS FROM t", "SHOW CREATE TABLE t", "SHOW TABLE STATUS LIKE 't'")) {
            assertTrue(SystemSchema.handles(sql), sql);
        }
        for (String sql : List.of("SELECT * FROM t_kv", "SHOW VARIABLES LIKE 'x'", "SHOW DATABASES", "SHOW CREATE DATABASE db",
                "SHOW TRIGGERS", "SELECT DATABASE()", "INSERT INTO t VALUES (1)")) {
            assertFalse(SystemSchema.handles(sql), sql);
        }
    }

    @Test
    void tokensUnquoteNamesAndReadVersionedCommentsAsSql() {
        List<Tokens.Token> t = Tokens.of("SELECT /* no */ `a``b`, 'it''s' /*!40001 SQL_NO_CACHE */ FROM information_schema . x -- end");
        assertEquals(List.of("SELECT", "a`b", ",", "it's", "SQL_NO_CACHE", "FROM", "INFORMATION_SCHEMA", ".", "X"),
                t.stream().map(Tokens.Token::text).toList());
        assertEquals(Tokens.Kind.QUOTED, t.get(1).kind());
        assertEquals(Tokens.Kind.STRING, t.get(3).kind());
    }

    @Test
    void literalsRoundTripThroughTheServersParser() {
        StringBuilder b = new StringBuilder();
        SystemSchema.literal(b, null);
        b.append(' ');
        SystemSchema.literal(b, "it's a \\ path");
        b.append(' ');
        SystemSchema.literal(b, new BigDecimal("1E+3"));
        b.append(' ');
        SystemSchema.literal(b, java.sql.Timestamp.valueOf("2026-12-04 10:00:00"));
        b.append(' ');
        SystemSchema.literal(b, new byte[]{0x0a, (byte) 0xff});
        assertEquals("NULL 'it''s a \\\\ path' 1000 TIMESTAMP'2026-12-04 10:00:00.0' X'0aff'", b.toString());
    }

    @Test
    void likeFollowsSqlWithJdbcEscape() {
        assertTrue(SystemSchema.like("t_kv", "t\\_%"));
        assertFalse(SystemSchema.like("tXkv", "t\\_%"));
        assertTrue(SystemSchema.like("T_KV", "t_kv"));
        assertTrue(SystemSchema.like("t_kv", "%"));
        assertFalse(SystemSchema.like("t_kv_0", "t_kv"));
    }
}
