package dev.ballast.it.testbed;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The splitter of {@link SystemTablesUpgrade}: scripts for the {@code mariadb} client with {@code DELIMITER}. */
class SystemTablesUpgradeTest {

    @Test
    void splitsOnTheCurrentDelimiterAndDropsCommentLines() {
        String script = """
                -- a comment
                SET NAMES utf8;
                CREATE TABLE t (
                  a INT -- inline
                );

                DELIMITER $$
                CREATE PROCEDURE p()
                BEGIN
                  SELECT 1;
                  SELECT 2;
                END$$
                DELIMITER ;
                SET @x = 1;
                """;
        assertEquals(List.of(
                "SET NAMES utf8",
                "CREATE TABLE t (\n  a INT -- inline\n)",
                "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND",
                "SET @x = 1"), SystemTablesUpgrade.statements(script));
    }
}
