package dev.ballast.sysschema;

import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.TableRule;

import javax.sql.rowset.CachedRowSet;
import javax.sql.rowset.RowSetProvider;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLSyntaxErrorException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The system schema of the logical database: what {@code information_schema}, the {@code SHOW} statements about tables
 * and {@code DATABASE()} answer through the driver and the proxy. A sharded table appears once, under its logical name,
 * with the columns and indexes of its first physical table after every other physical table was checked to have the
 * same ones; placed and broadcast tables appear as their server reports them. What cannot be answered right is refused
 * with an error naming it (SQLSTATE 0A000), never answered with no rows or some of them.
 *
 * <p>How: the rows of the views it emulates are read from every group's master ({@code information_schema} filtered on
 * the database), kept for the physical tables of the configured logical tables and renamed; the client's statement then
 * runs on one master with each view reference replaced by a derived table of those rows, so that any {@code WHERE},
 * join, {@code ORDER BY} or function the client writes is evaluated by MariaDB itself. {@code SHOW COLUMNS}, {@code SHOW
 * INDEX} and {@code SHOW CREATE TABLE} run on the server of the table's first data node, under its physical name.
 *
 * <p>Not guaranteed: rows of schemas other than the served database are not listed; statistics (row counts, lengths)
 * of a sharded table are sums read one server after the other, not a snapshot; a schema change made while a query
 * runs can be seen on some servers and not others (then it is refused as a disagreement).
 */
public final class SystemSchema {

    /** Where the servers are: a connection to a group's master (the caller's to close) and a name for messages. */
    public interface Servers {
        Connection connect(String group) throws SQLException;

        /** The group and its master's address, for messages: {@code g1 (127.0.0.1:3307)}. */
        String describe(String group);
    }

    /** The views answered for logical tables: name → {schema column, table column}. */
    private static final Map<String, String[]> EMULATED = Map.ofEntries(
            Map.entry("TABLES", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("COLUMNS", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("STATISTICS", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("KEY_COLUMN_USAGE", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("TABLE_CONSTRAINTS", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("REFERENTIAL_CONSTRAINTS", new String[]{"CONSTRAINT_SCHEMA", "TABLE_NAME"}),
            Map.entry("PARTITIONS", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("FILES", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("VIEWS", new String[]{"TABLE_SCHEMA", "TABLE_NAME"}),
            Map.entry("TRIGGERS", new String[]{"EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE"}),
            // objects of no table: answered when every group's master has the same ones, refused naming the group otherwise
            Map.entry("ROUTINES", new String[]{"ROUTINE_SCHEMA", null}),
            Map.entry("EVENTS", new String[]{"EVENT_SCHEMA", null}));

    /** Views about the server, not about the database's objects: the first group's master answers them as they are. */
    private static final Set<String> SERVER_WIDE = Set.of("ENGINES", "CHARACTER_SETS", "COLLATIONS",
            "COLLATION_CHARACTER_SET_APPLICABILITY", "PLUGINS", "KEYWORDS", "SQL_FUNCTIONS", "GLOBAL_VARIABLES",
            "SESSION_VARIABLES", "GLOBAL_STATUS", "SESSION_STATUS", "SYSTEM_VARIABLES", "SCHEMATA");

    /** Columns that differ between equal physical tables (statistics, times, names): left out of the comparison. */
    private static final Set<String> NOT_COMPARED = Set.of("TABLE_NAME", "CARDINALITY", "TABLE_ROWS", "AVG_ROW_LENGTH",
            "DATA_LENGTH", "MAX_DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE", "AUTO_INCREMENT", "CREATE_TIME", "UPDATE_TIME",
            "CHECK_TIME", "CHECKSUM", "CREATED", "LAST_ALTERED", "LAST_EXECUTED");

    /** Words that end a table reference: what follows a view name is an alias unless it is one of these. */
    private static final Set<String> NOT_ALIAS = Set.of("WHERE", "JOIN", "LEFT", "RIGHT", "INNER", "CROSS", "OUTER",
            "NATURAL", "STRAIGHT_JOIN", "ON", "USING", "ORDER", "GROUP", "HAVING", "LIMIT", "UNION", "EXCEPT", "INTERSECT",
            "FOR", "LOCK", "WINDOW", "PROCEDURE", "INTO", "FORCE", "USE", "IGNORE", "FULL", "OFFSET");

    private final ClusterConfig config;
    private final Servers servers;

    public SystemSchema(ClusterConfig config, Servers servers) {
        this.config = Objects.requireNonNull(config);
        this.servers = Objects.requireNonNull(servers);
    }

    /** Whether {@link #answer} takes this statement; cheap enough for every statement (a text scan, no parse). */
    public static boolean handles(String sql) {
        String lower = sql.toLowerCase(Locale.ROOT);
        if (lower.contains("information_schema")) {
            return true;
        }
        List<Tokens.Token> t = Tokens.of(firstChars(sql));
        if (t.isEmpty() || !t.get(0).is("SHOW")) {
            return false;
        }
        int i = t.size() > 1 && t.get(1).is("FULL") ? 2 : 1;
        if (i >= t.size()) {
            return false;
        }
        Tokens.Token what = t.get(i);
        return what.is("TABLES") || what.is("COLUMNS") || what.is("FIELDS") || what.is("INDEX") || what.is("INDEXES")
                || what.is("KEYS") || what.is("TABLE") && i + 1 < t.size() && t.get(i + 1).is("STATUS")
                || what.is("CREATE") && i + 1 < t.size() && t.get(i + 1).is("TABLE");
    }

    private static String firstChars(String sql) {
        return sql.length() > 200 ? sql.substring(0, 200) : sql;
    }

    /**
     * The answer to a statement that {@link #handles} takes, as a detached result set (no connection held), or an
     * error naming what cannot be answered. {@code params} are the values of its {@code ?} placeholders, in order.
     */
    public ResultSet answer(String sql, List<Object> params) throws SQLException {
        List<Tokens.Token> t = Tokens.of(sql);
        if (!t.isEmpty() && t.get(0).is("SHOW")) {
            return show(sql, t, params);
        }
        return query(sql, t, params);
    }

    // ---- information_schema ---------------------------------------------------------------------------

    private ResultSet query(String sql, List<Tokens.Token> t, List<Object> params) throws SQLException {
        StringBuilder rewritten = new StringBuilder();
        int copied = 0;
        Map<String, String> derived = new HashMap<>();
        for (int i = 0; i + 2 < t.size(); i++) {
            Tokens.Token schema = t.get(i);
            if (!(schema.isName() && schema.name().equals("information_schema") && t.get(i + 1).isSymbol("."))
                    || !t.get(i + 2).isName()) {
                continue;
            }
            String view = t.get(i + 2).text().toUpperCase(Locale.ROOT);
            boolean columnQualifier = i + 3 < t.size() && t.get(i + 3).isSymbol(".");
            String replacement;
            if (EMULATED.containsKey(view)) {
                if (columnQualifier) {
                    replacement = "`" + view + "`";
                } else {
                    String table = derived.get(view);
                    if (table == null) {
                        table = derivedTable(view);
                        derived.put(view, table);
                    }
                    boolean aliased = i + 3 < t.size() && (t.get(i + 3).is("AS") || t.get(i + 3).kind() == Tokens.Kind.QUOTED
                            || t.get(i + 3).kind() == Tokens.Kind.WORD && !NOT_ALIAS.contains(t.get(i + 3).text()));
                    replacement = table + (aliased ? "" : " AS `" + view + "`");
                }
            } else if (SERVER_WIDE.contains(view)) {
                continue;
            } else {
                throw new SQLFeatureNotSupportedException("[cluster=" + config.name() + "] information_schema." + view
                        + " is not answered for the logical tables of '" + config.database() + "' (Ballast answers "
                        + String.join(", ", EMULATED.keySet().stream().sorted().toList())
                        + "); ask a server of the group directly for its physical objects", "0A000");
            }
            rewritten.append(sql, copied, schema.start()).append(replacement);
            copied = t.get(i + 2).end();
            i += 2;
        }
        rewritten.append(sql.substring(copied));
        return run(firstGroup(), rewritten.toString(), params);
    }

    /** {@code (SELECT * FROM information_schema.V WHERE 1=0 UNION ALL SELECT …)}: the server's column types, our rows. */
    private String derivedTable(String view) throws SQLException {
        Catalog catalog = catalog();
        StringBuilder b = new StringBuilder("(SELECT * FROM information_schema.`").append(view).append("` WHERE 1=0");
        for (Object[] row : catalog.logicalRows(view)) {
            b.append(" UNION ALL SELECT ");
            for (int c = 0; c < row.length; c++) {
                if (c > 0) {
                    b.append(',');
                }
                literal(b, row[c]);
            }
        }
        return b.append(')').toString();
    }

    static void literal(StringBuilder b, Object v) {
        if (v == null) {
            b.append("NULL");
        } else if (v instanceof Number n) {
            b.append(n instanceof BigDecimal d ? d.toPlainString() : n.toString());
        } else if (v instanceof Boolean bool) {
            b.append(bool ? '1' : '0');
        } else if (v instanceof java.sql.Timestamp || v instanceof java.time.LocalDateTime) {
            b.append("TIMESTAMP'").append(v.toString().replace('T', ' ')).append('\'');
        } else if (v instanceof byte[] bytes) {
            b.append("X'");
            for (byte x : bytes) {
                b.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
            }
            b.append('\'');
        } else {
            b.append('\'').append(v.toString().replace("\\", "\\\\").replace("'", "''")).append('\'');
        }
    }

    // ---- SHOW -----------------------------------------------------------------------------------------------

    private ResultSet show(String sql, List<Tokens.Token> t, List<Object> params) throws SQLException {
        int i = 1;
        boolean full = t.get(i).is("FULL");
        if (full) {
            i++;
        }
        Tokens.Token what = t.get(i);
        if (what.is("TABLES")) {
            int rest = database(t, i + 1);
            String db = config.database();
            String columns = "TABLE_NAME AS `Tables_in_" + db + "`" + (full ? ", TABLE_TYPE AS `Table_type`" : "");
            return showFromView(sql, t, rest, columns, "TABLES", "TABLE_NAME", "`Tables_in_" + db + "`", params);
        }
        if (what.is("TABLE")) { // TABLE STATUS
            int rest = database(t, i + 2);
            String columns = "TABLE_NAME AS `Name`, ENGINE AS `Engine`, VERSION AS `Version`, ROW_FORMAT AS `Row_format`, "
                    + "TABLE_ROWS AS `Rows`, AVG_ROW_LENGTH AS `Avg_row_length`, DATA_LENGTH AS `Data_length`, "
                    + "MAX_DATA_LENGTH AS `Max_data_length`, INDEX_LENGTH AS `Index_length`, DATA_FREE AS `Data_free`, "
                    + "AUTO_INCREMENT AS `Auto_increment`, CREATE_TIME AS `Create_time`, UPDATE_TIME AS `Update_time`, "
                    + "CHECK_TIME AS `Check_time`, TABLE_COLLATION AS `Collation`, CHECKSUM AS `Checksum`, "
                    + "CREATE_OPTIONS AS `Create_options`, TABLE_COMMENT AS `Comment`, MAX_INDEX_LENGTH AS `Max_index_length`, "
                    + "TEMPORARY AS `Temporary`";
            return showFromView(sql, t, rest, columns, "TABLES", "TABLE_NAME", "`Name`", params);
        }
        // SHOW [FULL] COLUMNS|FIELDS FROM t, SHOW INDEX FROM t, SHOW CREATE TABLE t: on the server of the first data node
        int at = i + 2; // after FROM/IN, or after CREATE TABLE
        if (!what.is("CREATE") && (i + 1 >= t.size() || !(t.get(i + 1).is("FROM") || t.get(i + 1).is("IN")))) {
            throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] expected FROM after SHOW " + what.text(), "42000", 1064);
        }
        if (at >= t.size() || !t.get(at).isName()) {
            throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] expected a table name in: " + sql, "42000", 1064);
        }
        String table = t.get(at).name();
        int end = t.get(at).end();
        if (at + 2 < t.size() && t.get(at + 1).isSymbol(".") && t.get(at + 2).isName()) {
            checkDatabase(table);
            table = t.get(at + 2).name();
            end = t.get(at + 2).end();
            at += 2;
        }
        int rest = database(t, at + 1);
        TableRule rule = rule(table);
        DataNode node = catalog().verified(rule);
        if (node == null) {
            throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] Table '" + config.database() + "." + rule.name()
                    + "' doesn't exist: none of its physical tables " + rule.dataNodes() + " exists; create it first", "42S02", 1146);
        }
        String tail = rest < t.size() ? sql.substring(t.get(rest).start()) : "";
        // the statement up to the table name, without a "db." qualifier before it
        String physical = sql.substring(0, t.get(at).start())
                .replaceAll("(?i)(FROM|IN|TABLE)\\s+`?[A-Za-z0-9_$]+`?\\s*\\.\\s*$", "$1 ");
        String statement = physical + "`" + node.table() + "` " + tail;
        CachedRowSet rows = run(node.group(), statement, params);
        if (!what.is("COLUMNS") && !what.is("FIELDS")) {
            rename(rows, node.table(), rule.name());
        }
        return rows;
    }

    /** Skips {@code FROM db} / {@code IN db} at {@code i}, refusing another database; returns the next token's index. */
    private int database(List<Tokens.Token> t, int i) throws SQLException {
        if (i + 1 < t.size() && (t.get(i).is("FROM") || t.get(i).is("IN")) && t.get(i + 1).isName()) {
            checkDatabase(t.get(i + 1).name());
            return i + 2;
        }
        return i;
    }

    private void checkDatabase(String db) throws SQLException {
        if (!db.equalsIgnoreCase(config.database())) {
            throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] Unknown database '" + db
                    + "': Ballast serves '" + config.database() + "'", "42000", 1049);
        }
    }

    /** SHOW … [LIKE 'p' | WHERE e] as a SELECT over an emulated view, with the server's column names. */
    private ResultSet showFromView(String sql, List<Tokens.Token> t, int rest, String columns, String view, String likeColumn,
                                   String shownName, List<Object> params) throws SQLException {
        String[] keys = EMULATED.get(view);
        String inner = "SELECT " + columns + " FROM information_schema." + view + " WHERE " + keys[0] + " = '" + config.database().replace("'", "''") + "'";
        String outer = "SELECT * FROM (" + inner + ") AS s";
        if (rest < t.size()) {
            Tokens.Token r = t.get(rest);
            if (r.is("LIKE")) {
                outer += " WHERE " + shownName + " " + sql.substring(r.start());
            } else if (r.is("WHERE")) {
                outer += " " + sql.substring(r.start());
            } else {
                throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] unexpected '" + r.text() + "' in: " + sql,
                        "42000", 1064);
            }
        }
        outer += " ORDER BY 1";
        return query(outer, Tokens.of(outer), params);
    }

    /** Replaces the physical name by the logical one in every text cell that is it, or starts a CREATE TABLE with it. */
    private static void rename(CachedRowSet rows, String physical, String logical) throws SQLException {
        if (physical.equals(logical)) {
            return;
        }
        ResultSetMetaData md = rows.getMetaData();
        rows.beforeFirst();
        while (rows.next()) {
            boolean changed = false;
            for (int c = 1; c <= md.getColumnCount(); c++) {
                Object v = rows.getObject(c);
                if (v instanceof String s) {
                    String r = s.equals(physical) ? logical
                            : s.replaceFirst("^(CREATE TABLE `)" + java.util.regex.Pattern.quote(physical) + "`", "$1" + logical + "`");
                    if (!r.equals(s)) {
                        rows.updateString(c, r);
                        changed = true;
                    }
                }
            }
            if (changed) {
                rows.updateRow();
                rows.setOriginalRow(); // the renamed row is what this result set holds; nothing to write back
            }
        }
        rows.beforeFirst();
    }

    // ---- JDBC DatabaseMetaData ------------------------------------------------------------------------------

    /** The JDBC metadata calls answered for logical tables ({@link #metaData}); any other goes to ShardingSphere's. */
    public static boolean answersMetaData(String method) {
        return switch (method) {
            case "getTables", "getColumns", "getIndexInfo", "getPrimaryKeys" -> true;
            default -> false;
        };
    }

    /**
     * {@code DatabaseMetaData.getTables/getColumns/getIndexInfo/getPrimaryKeys} for logical tables: Connector/J's own
     * answer on the server of each matching table's first data node (after the agreement check), under the logical name,
     * in the order JDBC prescribes (by table name). {@code args} are the JDBC method's arguments as passed.
     */
    public ResultSet metaData(String method, Object[] args) throws SQLException {
        String catalog = (String) args[0];
        if (catalog != null && !catalog.isEmpty() && !catalog.equalsIgnoreCase(config.database())) {
            return metaData(method, args, List.of()); // no table of another database is served here
        }
        String table = (String) args[2];
        boolean pattern = method.equals("getTables") || method.equals("getColumns");
        List<TableRule> matching = new ArrayList<>();
        for (TableRule r : config.tables().values()) {
            if (table == null || (pattern ? like(r.name(), table) : r.name().equalsIgnoreCase(table))) {
                matching.add(r);
            }
        }
        matching.sort(java.util.Comparator.comparing(TableRule::name));
        return metaData(method, args, matching);
    }

    private ResultSet metaData(String method, Object[] args, List<TableRule> tables) throws SQLException {
        Catalog catalog = catalog();
        CachedRowSet out = null;
        for (TableRule rule : tables) {
            DataNode node = catalog.verified(rule);
            if (node == null) {
                continue;
            }
            try (Connection c = servers.connect(node.group()); ResultSet rs = call(c.getMetaData(), method, args, node.table())) {
                out = append(out, rs, node.table(), rule.name());
            }
        }
        if (out == null) { // no table: the empty answer with the columns JDBC prescribes
            try (Connection c = servers.connect(firstGroup());
                 ResultSet rs = call(c.getMetaData(), method, args, "ballast\\_no\\_such\\_table")) {
                out = append(null, rs, "", "");
            }
        }
        out.beforeFirst();
        return out;
    }

    private ResultSet call(java.sql.DatabaseMetaData md, String method, Object[] args, String physical) throws SQLException {
        String db = config.database();
        String name = method.equals("getTables") || method.equals("getColumns") ? escapeLike(physical) : physical;
        return switch (method) {
            case "getTables" -> md.getTables(db, null, name, (String[]) args[3]);
            case "getColumns" -> md.getColumns(db, null, name, (String) args[3]);
            case "getIndexInfo" -> md.getIndexInfo(db, null, name, (Boolean) args[3], (Boolean) args[4]);
            case "getPrimaryKeys" -> md.getPrimaryKeys(db, null, name);
            default -> throw new SQLFeatureNotSupportedException(method);
        };
    }

    private static CachedRowSet append(CachedRowSet out, ResultSet rs, String physical, String logical) throws SQLException {
        CachedRowSet rows = RowSetProvider.newFactory().createCachedRowSet();
        rows.populate(rs);
        rename(rows, physical, logical);
        if (out == null) {
            return rows;
        }
        int n = rows.getMetaData().getColumnCount();
        out.last();
        while (rows.next()) {
            out.moveToInsertRow();
            for (int i = 1; i <= n; i++) {
                Object v = rows.getObject(i);
                if (v == null) {
                    out.updateNull(i);
                } else {
                    out.updateObject(i, v);
                }
            }
            out.insertRow();
            out.moveToCurrentRow();
        }
        return out;
    }

    private static String escapeLike(String name) {
        return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%");
    }

    /** SQL LIKE with JDBC's escape {@code \\}, case-insensitive as MariaDB's default collation compares names. */
    static boolean like(String value, String pattern) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length()) {
                regex.append(java.util.regex.Pattern.quote(String.valueOf(pattern.charAt(++i))));
            } else if (c == '%') {
                regex.append(".*");
            } else if (c == '_') {
                regex.append('.');
            } else {
                regex.append(java.util.regex.Pattern.quote(String.valueOf(c)));
            }
        }
        return java.util.regex.Pattern.compile(regex.toString(), java.util.regex.Pattern.CASE_INSENSITIVE | java.util.regex.Pattern.DOTALL)
                .matcher(value).matches();
    }

    // ---- servers --------------------------------------------------------------------------------------------

    private CachedRowSet run(String group, String sql, List<Object> params) throws SQLException {
        try (Connection c = servers.connect(group); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int p = 0; p < params.size(); p++) {
                ps.setObject(p + 1, params.get(p));
            }
            try (ResultSet rs = ps.executeQuery()) {
                CachedRowSet rows = RowSetProvider.newFactory().createCachedRowSet();
                rows.populate(rs);
                // a cached row set finds columns by name, not label: SHOW's columns are labels over other names
                if (rows.getMetaData() instanceof javax.sql.RowSetMetaData md) {
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        md.setColumnName(i, md.getColumnLabel(i));
                    }
                }
                return rows;
            }
        }
    }

    private String firstGroup() {
        return config.groups().keySet().iterator().next();
    }

    private TableRule rule(String table) throws SQLException {
        for (TableRule r : config.tables().values()) {
            if (r.name().equalsIgnoreCase(table)) {
                return r;
            }
        }
        throw new SQLSyntaxErrorException("[cluster=" + config.name() + "] Table '" + config.database() + "." + table
                + "' doesn't exist in the cluster config", "42S02", 1146);
    }

    private Catalog catalog() {
        return new Catalog();
    }

    /**
     * The emulated views' rows of every group's master, read once per statement. {@link #verified} is the check that a
     * logical table's physical tables agree.
     */
    private final class Catalog {
        /** view → group → rows; each row a map column → value in the server's column order */
        private final Map<String, Map<String, List<LinkedHashMap<String, Object>>>> views = new HashMap<>();
        private final Map<TableRule, DataNode> verified = new HashMap<>();

        private List<LinkedHashMap<String, Object>> rows(String view, String group) throws SQLException {
            Map<String, List<LinkedHashMap<String, Object>>> byGroup = views.computeIfAbsent(view, v -> new HashMap<>());
            List<LinkedHashMap<String, Object>> rows = byGroup.get(group);
            if (rows == null) {
                rows = new ArrayList<>();
                String[] keys = EMULATED.get(view);
                try (Connection c = servers.connect(group);
                     PreparedStatement ps = c.prepareStatement("SELECT * FROM information_schema.`" + view + "` WHERE `"
                             + keys[0] + "` = ?")) {
                    ps.setString(1, config.database());
                    try (ResultSet rs = ps.executeQuery()) {
                        ResultSetMetaData md = rs.getMetaData();
                        while (rs.next()) {
                            LinkedHashMap<String, Object> row = new LinkedHashMap<>();
                            for (int i = 1; i <= md.getColumnCount(); i++) {
                                row.put(md.getColumnLabel(i).toUpperCase(Locale.ROOT), rs.getObject(i));
                            }
                            rows.add(row);
                        }
                    }
                } catch (SQLException e) {
                    throw new SQLException("[cluster=" + config.name() + " group=" + servers.describe(group) + "] reading information_schema."
                            + view + ": " + e.getMessage(), e.getSQLState(), e.getErrorCode(), e);
                }
                byGroup.put(group, rows);
            }
            return rows;
        }

        private List<LinkedHashMap<String, Object>> rows(String view, DataNode node) throws SQLException {
            String column = EMULATED.get(view)[1];
            List<LinkedHashMap<String, Object>> out = new ArrayList<>();
            for (LinkedHashMap<String, Object> r : rows(view, node.group())) {
                if (node.table().equalsIgnoreCase(String.valueOf(r.get(column)))) {
                    out.add(r);
                }
            }
            return out;
        }

        /**
         * The data node whose columns and indexes stand for the logical table, after checking that every other one has
         * the same; an error naming the node and table that differs, or is missing, otherwise. Null when none exists.
         */
        DataNode verified(TableRule rule) throws SQLException {
            if (verified.containsKey(rule)) {
                return verified.get(rule);
            }
            List<DataNode> nodes = rule.dataNodes();
            DataNode first = null;
            List<DataNode> missing = new ArrayList<>();
            for (DataNode n : nodes) {
                if (rows("TABLES", n).isEmpty()) {
                    missing.add(n);
                } else if (first == null) {
                    first = n;
                }
            }
            if (first == null) {
                verified.put(rule, null);
                return null;
            }
            if (!missing.isEmpty()) {
                DataNode m = missing.get(0);
                throw new SQLException("[cluster=" + config.name() + " group=" + servers.describe(m.group()) + "] table '"
                        + rule.name() + "': its physical table '" + m.table() + "' does not exist there, while '" + first.table()
                        + "' exists on " + first.group() + " (" + missing.size() + " of " + nodes.size()
                        + " physical tables missing); create it with the same definition before asking for the schema",
                        "HY000", 1105);
            }
            for (String view : new String[]{"COLUMNS", "STATISTICS"}) {
                List<String> expected = signature(rows(view, first));
                for (DataNode n : nodes) {
                    List<String> got = signature(rows(view, n));
                    if (!got.equals(expected)) {
                        throw new SQLException("[cluster=" + config.name() + " group=" + servers.describe(n.group()) + "] table '"
                                + rule.name() + "': the " + (view.equals("COLUMNS") ? "columns" : "indexes") + " of physical table '"
                                + n.table() + "' differ from those of '" + first.table() + "' on " + first.group() + " ("
                                + difference(expected, got) + "); make them equal (ALTER TABLE on that server) before asking for the schema",
                                "HY000", 1105);
                    }
                }
            }
            verified.put(rule, first);
            return first;
        }

        private List<String> signature(List<LinkedHashMap<String, Object>> rows) {
            List<String> out = new ArrayList<>();
            for (LinkedHashMap<String, Object> r : rows) {
                StringBuilder b = new StringBuilder();
                r.forEach((k, v) -> {
                    if (!NOT_COMPARED.contains(k)) {
                        b.append(k).append('=').append(v).append(' ');
                    }
                });
                out.add(b.toString().trim());
            }
            out.sort(null);
            return out;
        }

        private static String difference(List<String> expected, List<String> got) {
            List<String> only = new ArrayList<>(got);
            only.removeAll(expected);
            List<String> lacking = new ArrayList<>(expected);
            lacking.removeAll(got);
            return (only.isEmpty() ? "" : "has " + only) + (only.isEmpty() || lacking.isEmpty() ? "" : "; ")
                    + (lacking.isEmpty() ? "" : "lacks " + lacking);
        }

        /** Rows of objects that belong to no table: every group's master must have the same ones. */
        private List<Object[]> sameOnEveryGroup(String view) throws SQLException {
            String first = firstGroup();
            List<String> expected = signature(rows(view, first));
            for (String g : config.groups().keySet()) {
                List<String> got = signature(rows(view, g));
                if (!got.equals(expected)) {
                    throw new SQLException("[cluster=" + config.name() + " group=" + servers.describe(g) + "] information_schema."
                            + view + " differs from that of " + first + " (" + difference(expected, got) + "): Ballast answers it "
                            + "only when every group has the same " + view.toLowerCase(Locale.ROOT) + "; create them alike on every group",
                            "HY000", 1105);
                }
            }
            List<Object[]> out = new ArrayList<>();
            for (LinkedHashMap<String, Object> r : rows(view, first)) {
                out.add(r.values().toArray());
            }
            return out;
        }

        /** The view's rows for every logical table, in config order, under logical names. */
        List<Object[]> logicalRows(String view) throws SQLException {
            if (EMULATED.get(view)[1] == null) {
                return sameOnEveryGroup(view);
            }
            Map<String, String> logicalNames = new HashMap<>();
            for (TableRule rule : config.tables().values()) {
                for (DataNode n : rule.dataNodes()) {
                    logicalNames.put(n.table().toLowerCase(Locale.ROOT), rule.name());
                }
            }
            List<Object[]> out = new ArrayList<>();
            for (TableRule rule : config.tables().values()) {
                DataNode node = verified(rule);
                if (node == null) {
                    continue; // no physical table anywhere: the logical table does not exist yet
                }
                List<LinkedHashMap<String, Object>> rows = rows(view, node);
                for (LinkedHashMap<String, Object> r : rows) {
                    LinkedHashMap<String, Object> row = new LinkedHashMap<>(r);
                    for (String column : new String[]{"TABLE_NAME", "REFERENCED_TABLE_NAME", "EVENT_OBJECT_TABLE"}) {
                        Object v = row.get(column);
                        if (v != null && logicalNames.containsKey(v.toString().toLowerCase(Locale.ROOT))) {
                            row.put(column, logicalNames.get(v.toString().toLowerCase(Locale.ROOT)));
                        }
                    }
                    if (view.equals("TABLES") && rule instanceof TableRule.Sharded && rule.dataNodes().size() > 1) {
                        for (String sum : new String[]{"TABLE_ROWS", "DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE"}) {
                            long total = 0;
                            for (DataNode n : rule.dataNodes()) {
                                for (LinkedHashMap<String, Object> other : rows("TABLES", n)) {
                                    Object v = other.get(sum);
                                    total += v instanceof Number num ? num.longValue() : 0;
                                }
                            }
                            if (row.get(sum) != null) {
                                row.put(sum, total);
                            }
                        }
                    }
                    out.add(row.values().toArray());
                }
            }
            return out;
        }
    }
}
