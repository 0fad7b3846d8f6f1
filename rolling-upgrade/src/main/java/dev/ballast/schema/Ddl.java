package dev.ballast.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One parsed schema change on a logical table. {@code CREATE INDEX} and {@code DROP INDEX} arrive here as the
 * {@code ALTER TABLE} they are equivalent to, so every change of an existing table is an {@link Kind#ALTER_TABLE} with
 * its {@linkplain Spec specifications}.
 *
 * @param number the statement's place in its file, from 1
 * @param kind   what it does
 * @param table  the logical table
 * @param text   the statement as written
 * @param head   the canonical statement up to the table name
 * @param tail   the canonical statement after the table name
 * @param specs  the ALTER's comma-separated specifications (empty for CREATE and DROP TABLE)
 */
public record Ddl(int number, Kind kind, String table, String text, String head, String tail, List<Spec> specs) {

    public enum Kind { CREATE_TABLE, ALTER_TABLE, DROP_TABLE }

    /** One specification of an ALTER TABLE. */
    public record Spec(Op op, String name, boolean atEnd, boolean nullOrDefault, boolean unique, String text) {
        public enum Op { ADD_COLUMN, DROP_COLUMN, ADD_INDEX, DROP_INDEX, OTHER }
    }

    public Ddl {
        specs = List.copyOf(specs);
    }

    /** The statement for one physical table (the name back-quoted), without any ALGORITHM or LOCK clause. */
    public String sqlFor(String physical) {
        return head + quote(physical) + tail;
    }

    /** "#2 ALTER TABLE t_order ADD INDEX ...": how the statement is named in plans and messages. */
    public String describe() {
        String oneLine = text.replaceAll("\\s+", " ");
        return "#" + number + " " + (oneLine.length() > 100 ? oneLine.substring(0, 97) + "..." : oneLine);
    }

    /**
     * What the table looks like once the statement has run, as far as can be told from its names: {@code +table},
     * {@code -table}, {@code +column:x}, {@code -column:x}, {@code +index:x}, {@code -index:x}, separated by {@code ;}.
     * Empty when nothing can be told (a MODIFY, a table option): the statement is then simply run again on resume,
     * which such statements survive. An ALTER is atomic, so when one named effect is there, all are.
     */
    public String expectation() {
        return switch (kind) {
            case CREATE_TABLE -> "+table";
            case DROP_TABLE -> "-table";
            case ALTER_TABLE -> {
                List<String> parts = new ArrayList<>();
                for (Spec s : specs) {
                    switch (s.op()) {
                        case ADD_COLUMN -> parts.add("+column:" + s.name());
                        case DROP_COLUMN -> parts.add("-column:" + s.name());
                        case ADD_INDEX -> parts.add("+index:" + s.name());
                        case DROP_INDEX -> parts.add("-index:" + s.name());
                        default -> {
                        }
                    }
                }
                yield String.join(";", parts);
            }
        };
    }

    /**
     * Empty when row-based replication from a master that still has the old definition survives the change on a
     * replica (a column added at the end that is nullable or has a default; a non-unique secondary index added or
     * dropped), else why not.
     */
    public Optional<String> rollingRefusal() {
        if (kind != Kind.ALTER_TABLE) {
            return Optional.of((kind == Kind.CREATE_TABLE ? "CREATE TABLE" : "DROP TABLE")
                    + " is not a change of an existing table's definition");
        }
        for (Spec s : specs) {
            switch (s.op()) {
                case ADD_COLUMN -> {
                    if (!s.atEnd()) {
                        return Optional.of("column " + s.name() + " is not added at the end (FIRST/AFTER): rows from a master"
                                + " with the old definition would land in the wrong columns");
                    }
                    if (!s.nullOrDefault()) {
                        return Optional.of("column " + s.name() + " is NOT NULL without a DEFAULT: rows from a master"
                                + " with the old definition have no value for it");
                    }
                }
                case ADD_INDEX -> {
                    if (s.unique()) {
                        return Optional.of("index " + s.name() + " is UNIQUE: a row the master accepts could break the"
                                + " replica that already has it");
                    }
                }
                case DROP_INDEX -> {
                }
                default -> {
                    return Optional.of("'" + s.text() + "' is not an added column or a secondary index added or dropped;"
                            + " row-based replication from the old definition may not survive it");
                }
            }
        }
        return Optional.empty();
    }

    static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
