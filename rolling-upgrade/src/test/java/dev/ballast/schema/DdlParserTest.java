package dev.ballast.schema;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DdlParserTest {

    final DdlParser parser = new DdlParser(Set.of("t_order", "t_user"), false);

    @Test
    void eachAcceptedFormIsRewrittenForAPhysicalTable() {
        List<Ddl> d = parser.parse("""
                -- a comment; with a semicolon
                ALTER TABLE t_order ADD COLUMN note VARCHAR(10) DEFAULT 'a;b';
                CREATE UNIQUE INDEX i_u ON `t_order` (user_id, created);
                DROP INDEX i_old ON t_order;
                CREATE TABLE IF NOT EXISTS t_user (id BIGINT PRIMARY KEY, name VARCHAR(20)) ENGINE=InnoDB -- trailing
                """);
        assertEquals(4, d.size());
        assertEquals("ALTER TABLE `t_order_3` ADD COLUMN note VARCHAR(10) DEFAULT 'a;b'", d.get(0).sqlFor("t_order_3"));
        assertEquals("+column:note", d.get(0).expectation());
        assertEquals("ALTER TABLE `t_order_0` ADD UNIQUE INDEX `i_u` (user_id, created)", d.get(1).sqlFor("t_order_0"));
        assertEquals("+index:i_u", d.get(1).expectation());
        assertEquals("ALTER TABLE `t_order_1` DROP INDEX `i_old`", d.get(2).sqlFor("t_order_1"));
        assertEquals("-index:i_old", d.get(2).expectation());
        assertEquals(Ddl.Kind.CREATE_TABLE, d.get(3).kind());
        assertTrue(d.get(3).sqlFor("t_user").startsWith("CREATE TABLE IF NOT EXISTS `t_user` (id BIGINT"));
        assertEquals(4, d.get(3).number());
    }

    @Test
    void badInputIsRefusedAsAWholeNamingEachStatement() {
        record Case(String sql, String reason) {
        }
        for (Case c : List.of(
                new Case("DELETE FROM t_order", "not a schema change"),
                new Case("SELECT 1", "not a schema change"),
                new Case("ALTER TABLE t_nope ADD COLUMN x INT", "'t_nope' is not in the config"),
                new Case("ALTER TABLE shop.t_order ADD COLUMN x INT", "without a schema"),
                new Case("DROP TABLE t_order", "--allow-drop"),
                new Case("ALTER TABLE t_order RENAME TO t_x", "renaming a logical table"),
                new Case("ALTER TABLE t_order ADD COLUMN x INT, ALGORITHM=COPY", "chosen by Ballast"),
                new Case("ALTER TABLE t_order ADD", "expected the column name"),
                new Case("ALTER TABLE t_order ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES t_user (id)", "foreign keys"),
                new Case("ALTER TABLE t_order ADD INDEX (k)", "name the index"),
                new Case("CREATE OR REPLACE TABLE t_order (id INT)", "drops the table first"),
                new Case("ALTER TABLE t_order ADD COLUMN x VARCHAR(3) DEFAULT 'oops", "unterminated string"))) {
            SchemaException e = assertThrows(SchemaException.class,
                    () -> parser.parse("ALTER TABLE t_order ADD COLUMN ok INT;\n" + c.sql()), c.sql());
            assertTrue(e.getMessage().contains(c.reason()), c.sql() + " -> " + e.getMessage());
            assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
        }
        assertEquals(Ddl.Kind.DROP_TABLE, new DdlParser(Set.of("t_order"), true).parse("DROP TABLE t_order").get(0).kind());
    }

    @Test
    void rollingIsAllowedOnlyForChangesRowReplicationFromTheOldDefinitionSurvives() {
        record Case(String sql, boolean rolling) {
        }
        for (Case c : List.of(
                new Case("ALTER TABLE t_order ADD COLUMN a INT NULL", true),
                new Case("ALTER TABLE t_order ADD COLUMN a INT NOT NULL DEFAULT 0", true),
                new Case("ALTER TABLE t_order ADD COLUMN a INT NOT NULL", false),
                new Case("ALTER TABLE t_order ADD COLUMN a INT AFTER id", false),
                new Case("ALTER TABLE t_order ADD COLUMN a INT FIRST", false),
                new Case("CREATE INDEX i ON t_order (a)", true),
                new Case("CREATE UNIQUE INDEX i ON t_order (a)", false),
                new Case("DROP INDEX i ON t_order", true),
                new Case("ALTER TABLE t_order ADD INDEX i (a), DROP INDEX j", true),
                new Case("ALTER TABLE t_order MODIFY a BIGINT", false),
                new Case("ALTER TABLE t_order DROP COLUMN a", false))) {
            Ddl d = parser.parse(c.sql()).get(0);
            assertEquals(c.rolling(), d.rollingRefusal().isEmpty(), c.sql() + " -> " + d.rollingRefusal());
        }
    }
}
