package dev.ballast.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A physical table's definition, normalised so that two servers holding the same definition compare equal whatever
 * the table's name: engine and collation, columns in order (type, nullability, default, charset, collation, extra),
 * indexes by name (uniqueness, columns with prefix lengths). {@link #MISSING} when the table does not exist.
 */
public record TableShape(boolean exists, String engine, String collation, Map<String, Column> columns,
                         Map<String, Index> indexes) {

    public static final TableShape MISSING = new TableShape(false, "", "", Map.of(), Map.of());

    public record Column(String type, boolean nullable, String defaultValue, String charset, String collation, String extra) {
    }

    public record Index(boolean unique, List<String> columns) {
        public Index {
            columns = List.copyOf(columns);
        }
    }

    public TableShape {
        columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        indexes = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(indexes));
    }

    /** Reads {@code database.table} through {@code information_schema}. */
    public static TableShape read(Connection c, String database, String table) throws SQLException {
        String engine;
        String collation;
        try (PreparedStatement p = c.prepareStatement(
                "SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA=? AND TABLE_NAME=?")) {
            p.setString(1, database);
            p.setString(2, table);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return MISSING;
                }
                engine = text(rs.getString(1));
                collation = text(rs.getString(2));
            }
        }
        Map<String, Column> columns = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,"
                + " CHARACTER_SET_NAME, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=? AND"
                + " TABLE_NAME=? ORDER BY ORDINAL_POSITION")) {
            p.setString(1, database);
            p.setString(2, table);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1), new Column(text(rs.getString(2)), "YES".equals(rs.getString(3)),
                            rs.getString(4) == null ? "NULL" : rs.getString(4), text(rs.getString(5)), text(rs.getString(6)),
                            text(rs.getString(7))));
                }
            }
        }
        Map<String, Boolean> unique = new LinkedHashMap<>();
        Map<String, List<String>> cols = new LinkedHashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM"
                + " information_schema.STATISTICS WHERE TABLE_SCHEMA=? AND TABLE_NAME=? ORDER BY INDEX_NAME, SEQ_IN_INDEX")) {
            p.setString(1, database);
            p.setString(2, table);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    unique.put(name, rs.getInt(2) == 0);
                    String sub = rs.getString(4);
                    cols.computeIfAbsent(name, k -> new ArrayList<>()).add(rs.getString(3) + (sub == null ? "" : "(" + sub + ")"));
                }
            }
        }
        Map<String, Index> indexes = new LinkedHashMap<>();
        unique.forEach((name, u) -> indexes.put(name, new Index(u, cols.get(name))));
        return new TableShape(true, engine, collation, columns, indexes);
    }

    /** Whether one named effect of {@link Ddl#expectation()} ({@code +column:x}, {@code -index:y}, ...) holds. */
    public boolean satisfies(String effect) {
        boolean add = effect.startsWith("+");
        String what = effect.substring(1);
        if (what.equals("table")) {
            return add == exists;
        }
        int colon = what.indexOf(':');
        String kind = what.substring(0, colon);
        String name = what.substring(colon + 1);
        boolean present = kind.equals("column") ? columns.keySet().stream().anyMatch(n -> n.equalsIgnoreCase(name))
                : indexes.keySet().stream().anyMatch(n -> n.equalsIgnoreCase(name));
        return exists && add == present;
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }
}
