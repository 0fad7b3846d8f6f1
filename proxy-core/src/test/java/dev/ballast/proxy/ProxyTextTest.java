package dev.ballast.proxy;

import dev.ballast.rules.ProxySettings;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The proxy's pure pieces: SQL lexing, query text decoding, password checks. */
class ProxyTextTest {

    @Test
    void wordsAndPlaceholdersIgnoreQuotesAndComments() {
        String sql = "/* ballast:master */ SELECT a, 'it''s ? FROM' AS `from`, \"?\" FROM t -- ? FROM\n WHERE x = ? # ?\n AND y = ?";
        assertEquals(List.of("SELECT", "A", "AS", "FROM", "T", "WHERE", "X", "AND", "Y"), Sql.words(sql, 100));
        assertEquals(2, Sql.placeholders(sql));
        assertEquals("SELECT", Sql.firstKeyword(sql));
        assertEquals("SET", Sql.firstKeyword("  # comment\n set autocommit=0"));
    }

    @Test
    void aMultiStatementTextSplitsAtSemicolonsOutsideQuotesAndComments() {
        assertEquals(List.of("SELECT 1", " SELECT 2"), Sql.statements("SELECT 1; SELECT 2;"));
        assertEquals(List.of("INSERT INTO t VALUES ('a;b', \"c;d\", 'it''s;', 'x\\';y')", " SELECT `we;ird` FROM t"),
                Sql.statements("INSERT INTO t VALUES ('a;b', \"c;d\", 'it''s;', 'x\\';y'); SELECT `we;ird` FROM t"));
        assertEquals(List.of("SELECT 1 /* a; b */", " -- c; d\n SELECT 2 # e; f\n"),
                Sql.statements("SELECT 1 /* a; b */; -- c; d\n SELECT 2 # e; f\n"));
        // nothing but space and comments between two semicolons is no statement
        assertEquals(List.of("SELECT 1", " SELECT 2"), Sql.statements("SELECT 1; ; /* nothing */ ; SELECT 2; -- end"));
        assertEquals(List.of("SELECT /*!50000 1; */ 2"), Sql.statements("SELECT /*!50000 1; */ 2"));
        assertEquals(List.of(), Sql.statements("  ; -- only a comment"));
        // an unterminated quote runs to the end, as the server would read it (and refuse it)
        assertEquals(List.of("SELECT 'a; b"), Sql.statements("SELECT 'a; b"));
    }

    @Test
    void aStoredProgramBodyIsNotSplit() {
        String body = "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END";
        assertEquals(List.of("SELECT 1", " " + body), Sql.statements("SELECT 1; " + body));
        assertEquals(List.of("CREATE TABLE t (begin INT)", " SELECT 2"), Sql.statements("CREATE TABLE t (begin INT); SELECT 2"));
    }

    @Test
    void onlyATextWithASecondStatementCountsAsSeveral() {
        assertFalse(Sql.severalStatements("SELECT 1"));
        assertFalse(Sql.severalStatements("SELECT 1;  "));
        assertFalse(Sql.severalStatements("SELECT ';'"));
        assertFalse(Sql.severalStatements("SELECT 1; -- trailing comment"));
        assertTrue(Sql.severalStatements("SELECT 1;SELECT 2"));
    }

    @Test
    void theFirstKeywordFollowsAHintInAnySpelling() {
        for (String hint : new String[]{"/* ballast:master */", "/*ballast:master*/", "/* BALLAST:MASTER */", "/*  ballast : master */"}) {
            assertEquals("SELECT", Sql.firstKeyword(hint + " SELECT 1 FROM t"), hint);
            assertEquals("SELECT", Sql.firstKeyword("/* other */ " + hint + " SELECT 1 FROM t"), hint);
            assertEquals(List.of("SELECT", "FROM", "T"), Sql.words(hint + " SELECT 1 FROM t", 100), hint);
        }
    }

    @Test
    void logicalTableNamesBecomePhysicalOutsideStrings() {
        Map<String, String> names = Map.of("T_ORDER", "t_order_0");
        assertEquals("SELECT t_order_0.id, 't_order' FROM `t_order_0` o JOIN t_order_0 WHERE x='t_order'",
                Sql.replaceIdentifiers("SELECT t_order.id, 't_order' FROM `t_order` o JOIN T_ORDER WHERE x='t_order'", names));
        assertEquals("SELECT t_orders FROM x", Sql.replaceIdentifiers("SELECT t_orders FROM x", names));
    }

    @Test
    void binaryLiteralsKeepTheirBytesAndVersionedCommentsBecomeSql() {
        byte[] query = concat("INSERT INTO t VALUES (_binary'".getBytes(StandardCharsets.US_ASCII),
                new byte[]{0, (byte) 0xff, '\\', '0', '\'', '\'', 'a'}, "', 'x''y')".getBytes(StandardCharsets.US_ASCII));
        String decoded = QueryText.decode(Unpooled.wrappedBuffer(query));
        assertEquals("INSERT INTO t VALUES (X'00ff002761', 'x''y')", decoded);
        assertEquals("CREATE TABLE t (a INT) ENGINE = innodb",
                squeeze(QueryText.unwrapVersionedComments("CREATE TABLE t (a INT) /*! ENGINE = innodb */ ")));
        assertEquals("SELECT '/*!40101 no */' SET x=1",
                squeeze(QueryText.unwrapVersionedComments("SELECT '/*!40101 no */' /*!40101 SET x=1 */")));
    }

    @Test
    void passwordsAreCheckedAgainstHashesOnly() {
        byte[] nonce = Auth.nonce();
        ProxySettings.ProxyUser user = new ProxySettings.ProxyUser("u", Optional.of(Auth.nativeHash("pw")),
                Optional.of(Auth.sha2Hash("pw")));
        assertTrue(Auth.checkNative(user, nonce, Auth.nativeResponse("pw", nonce)));
        assertFalse(Auth.checkNative(user, nonce, Auth.nativeResponse("pW", nonce)));
        assertFalse(Auth.checkNative(user, Auth.nonce(), Auth.nativeResponse("pw", nonce)));
        assertTrue(Auth.checkSha2(user, nonce, Auth.sha2Response("pw", nonce)));
        assertFalse(Auth.checkSha2(user, nonce, Auth.sha2Response("nope", nonce)));
        assertFalse(Auth.checkNative(user, nonce, new byte[0]));
        // the well-known PASSWORD('password') value
        assertEquals("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", Auth.nativeHash("password"));
    }

    private static String squeeze(String s) {
        return s.trim().replaceAll("\\s+", " ");
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
