package dev.ballast.replication;

import dev.ballast.rules.Flavour;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PositionTest {

    static final String U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    static final String U2 = "4a22fb58-82db-22f2-af44-d91bb0530673";

    /** MySQL cases write {1} and {2} for two server uuids. */
    static String expand(String text) {
        return text == null ? "" : text.replace("{1}", U1).replace("{2}", U2);
    }

    @ParameterizedTest(name = "[{0}] covers [{1}]: {2}")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
            "0-1-12         | 0-1-12              | true",
            "0-1-12         | 0-1-11              | true",
            "0-1-11         | 0-1-12              | false",
            "0-2-12         | 0-1-12              | true",   // server id ignored: same domain, same seq
            "0-1-12         | 0-7-13              | false",
            "0-1-5,1-2-7    | 1-2-7               | true",
            "1-2-7,0-1-5    | 0-1-5,1-2-7         | true",
            "0-1-5          | 0-1-5,1-2-1         | false",  // domain 1 missing here, seq > 0 there
            "0-1-5          | 0-1-5,1-2-0         | true",   // seq 0 in a missing domain is nothing
            "0-1-5,1-2-9    | 0-1-6,1-2-1         | false",  // every domain must be covered
            "''             | ''                  | true",
            "0-1-1          | ''                  | true",
            "''             | 0-1-1               | false",
            "0-1-18446744073709551615 | 0-1-9223372036854775808 | true",  // seq is unsigned 64-bit
            "0-1-9223372036854775808  | 0-1-18446744073709551615 | false",
    })
    void mariaDbCoversPerDomainBySequenceNumber(String a, String b, boolean expected) {
        assertEquals(expected, Position.parse(Flavour.MARIADB, a).covers(Position.parse(Flavour.MARIADB, b)));
    }

    @ParameterizedTest(name = "[{0}] covers [{1}]: {2}")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
            "{1}:1-5:7-9         | {1}:2-4               | true",
            "{1}:1-5:7-9         | {1}:7-9               | true",
            "{1}:1-5:7-9         | {1}:5-7               | false",  // 6 is missing
            "{1}:1-9             | {1}:1-5:7-9           | true",
            "{1}:1-5:7-9         | {1}:1-9               | false",
            "{1}:1-5             | {2}:1                 | false",
            "{1}:1-5,{2}:1-3     | {2}:1-3               | true",
            "{1}:1-5,{2}:1-3     | {1}:1-5,{2}:1-4       | false",
            "{1}:1-3:4-6         | {1}:1-6               | true",   // adjacent intervals merge
            "{1}:1-5             | ''                    | true",
            "''                  | {1}:1                 | false",
            "{1}:1-5:tag:1-3     | {1}:tag:2             | true",
            "{1}:1-5             | {1}:tag:1             | false",  // a tag is a member of its own
            "{1}:tag:1-5         | {1}:1                 | false",
    })
    void mySqlCoversWhenTheOtherSetIsASubset(String a, String b, boolean expected) {
        assertEquals(expected, Position.parse(Flavour.MYSQL, expand(a)).covers(Position.parse(Flavour.MYSQL, expand(b))));
    }

    @ParameterizedTest(name = "[{1}] reads as [{2}]")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
            "MARIADB | 0-1-12                   | 0-1-12",
            "MARIADB | ' 1-2-7 , 0-1-5 '        | 0-1-5,1-2-7",
            "MARIADB | ''                       | ''",
            "MARIADB | '   '                    | ''",
            "MYSQL   | {2}:1-3,{1}:7-9:1-5      | {1}:1-5:7-9,{2}:1-3",
            "MYSQL   | {1}:1-3:4:5-6:9          | {1}:1-6:9",
            "MYSQL   | {1}:3-4:1-2,{1}:10       | {1}:1-4:10",
            "MYSQL   | {1}:x:1-2,{1}:1-3        | {1}:1-3:x:1-2",
            "MYSQL   | {1}:1:x:1-2:3:y:5        | {1}:1:x:1-3:y:5",
            "MYSQL   | {1}:TAG:1                | {1}:tag:1",
    })
    void canonicalTextIsSortedAndMergedAndParsesBack(Flavour flavour, String text, String canonical) {
        Position p = Position.parse(flavour, expand(text));
        assertEquals(expand(canonical), p.toString());
        assertEquals(p, Position.parse(flavour, p.toString()));
    }

    @Test
    void mySqlSetsMayHoldWhitespaceAndNewlinesAndUpperCaseUuids() {
        Position p = Position.parse(Flavour.MYSQL, " " + U1.toUpperCase() + ":1-5,\n" + U2 + ":1-3\n");
        assertEquals(U1 + ":1-5," + U2 + ":1-3", p.toString());
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"0-1", "0-1-2-3", "a-1-2", "0-1-", "-1-2", "0-1-1,,0-2-2", "0-1-1,", "+0-1-1", "0-+1-1",
            "0-1-1,0-2-3", "0-4294967296-1", "4294967296-1-1", "0-1-18446744073709551616", "0_1_2", "0-1-2 3"})
    void malformedMariaDbPositionIsRejectedNamingTheText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Position.parse(Flavour.MARIADB, text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertTrue(e.getMessage().startsWith("not a MariaDB GTID position"), e.getMessage());
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"not-a-uuid:1-5", "{1}", "{1}:", "{1}:0", "{1}:5-3", "{1}:1-", "{1}:-1", "{1}:a-b", "{1}:1-5,",
            "{1}:tag", "{1}:tag:t2:1", "{1}:1:9tag", "{1}:1-9223372036854775807", "{1}:1-99999999999999999999",
            "3e11fa4771ca11e19e33c80aa9429562:1", "{1}:1,,{2}:1"})
    void malformedMySqlGtidSetIsRejectedNamingTheText(String text) {
        String expanded = expand(text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Position.parse(Flavour.MYSQL, expanded));
        assertTrue(e.getMessage().contains("'" + expanded + "'"), e.getMessage());
        assertTrue(e.getMessage().startsWith("not a MySQL GTID set"), e.getMessage());
    }

    @Test
    void veryLongTextIsClippedInTheMessage() {
        String text = "0-1-1," + "x".repeat(1000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Position.parse(Flavour.MARIADB, text));
        assertTrue(e.getMessage().length() < 700, e.getMessage());
        assertTrue(e.getMessage().contains("(1006 chars)"), e.getMessage());
    }

    @Test
    void emptyPositionsAreEmptyAndCoveredByEverything() {
        for (Flavour f : Flavour.values()) {
            Position empty = Position.empty(f);
            assertTrue(empty.isEmpty());
            assertEquals(f, empty.flavour());
            assertEquals("", empty.toString());
            assertEquals(empty, Position.parse(f, ""));
            assertTrue(empty.covers(empty));
        }
    }

    @Test
    void positionsOfDifferentFlavoursCannotBeCompared() {
        Position mariadb = Position.parse(Flavour.MARIADB, "0-1-1");
        Position mysql = Position.parse(Flavour.MYSQL, U1 + ":1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mariadb.covers(mysql));
        assertTrue(e.getMessage().contains("mariadb position ('0-1-1')") && e.getMessage().contains("mysql"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> mysql.covers(mariadb));
    }

    @Test
    void aSingleGtidIsAPosition() {
        // what the server reports per commit (MariaDB last_gtid, MySQL OWN_GTID) parses as a position
        assertTrue(Position.parse(Flavour.MARIADB, "0-1-13").covers(Position.parse(Flavour.MARIADB, "0-1-12")));
        assertTrue(Position.parse(Flavour.MYSQL, U1 + ":1-13").covers(Position.parse(Flavour.MYSQL, U1 + ":13")));
    }
}
