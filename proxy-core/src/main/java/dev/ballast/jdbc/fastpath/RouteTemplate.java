package dev.ballast.jdbc.fastpath;

import dev.ballast.jdbc.fastpath.SqlTokens.Kind;
import dev.ballast.jdbc.fastpath.SqlTokens.Token;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.TableRule;
import dev.ballast.rules.algorithm.ShardFunction;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The route of a statement that always lands on exactly one data node, decided once per SQL text: which
 * table, which parameter (or literal) carries the sharding value, and the text to send to each data node.
 * Only simple single-table statements qualify (see {@link #analyze}); everything else goes to ShardingSphere.
 */
public final class RouteTemplate {

    static final Set<String> CLAUSE_END = Set.of("ORDER", "GROUP", "LIMIT", "FOR", "LOCK", "HAVING");
    static final Set<String> REJECT_WORDS = Set.of("UNION", "JOIN", "WITH", "DUPLICATE", "STRAIGHT_JOIN",
            "NATURAL", "PARTITION", "WINDOW", "OVER", "OUTFILE", "DUMPFILE");

    private final TableRule table;
    private final boolean read;
    private final int keyParameter;
    private final Comparable<?> keyLiteral;
    private final int parameterCount;
    private final List<DataNode> nodes;
    private final ShardFunction function;
    private final String[] parts;
    private final String[] nodeSql;

    private RouteTemplate(TableRule table, boolean read, int keyParameter, Comparable<?> keyLiteral, int parameterCount,
                          String[] parts) {
        this.table = table;
        this.read = read;
        this.keyParameter = keyParameter;
        this.keyLiteral = keyLiteral;
        this.parameterCount = parameterCount;
        this.nodes = table.dataNodes();
        this.function = table instanceof TableRule.Sharded s ? s.algorithm().newFunction(nodes) : null;
        this.parts = parts;
        this.nodeSql = new String[nodes.size()];
    }

    public TableRule table() {
        return table;
    }

    /** An autocommit SELECT without a locking clause: it may go to a replica. */
    public boolean isRead() {
        return read;
    }

    public int parameterCount() {
        return parameterCount;
    }

    /** The 1-based parameter that carries the sharding value, or 0 when it is a literal or the table is placed. */
    public int keyParameter() {
        return keyParameter;
    }

    /** The data node for the given sharding-parameter value (ignored when the key is a literal or the table is placed). */
    public int nodeIndex(Object parameterValue) {
        if (function == null) {
            return 0;
        }
        Object value = keyParameter > 0 ? parameterValue : keyLiteral;
        if (!(value instanceof Comparable<?> c)) {
            throw new IllegalArgumentException(value == null ? "no value for the sharding column" : "sharding value "
                    + value + " is not comparable");
        }
        return function.shardOf(c);
    }

    public int nodeCount() {
        return nodes.size();
    }

    public DataNode node(int index) {
        return nodes.get(index);
    }

    /** The statement text for data node {@code index}, with the logical table name replaced by the physical one. */
    public String sql(int index) {
        String sql = nodeSql[index];
        if (sql == null) {
            StringBuilder b = new StringBuilder(parts[0]);
            for (int i = 1; i < parts.length; i++) {
                b.append(nodes.get(index).table()).append(parts[i]);
            }
            sql = b.toString();
            nodeSql[index] = sql;
        }
        return sql;
    }

    /** The template of {@code sql}, or empty when the statement is not a simple single-node statement. */
    public static Optional<RouteTemplate> analyze(String sql, ClusterConfig config) {
        List<Token> t = SqlTokens.tokenize(sql);
        if (t == null || t.isEmpty()) {
            return Optional.empty();
        }
        for (Token token : t) {
            if (token.kind() == Kind.WORD && REJECT_WORDS.contains(token.text().toUpperCase(Locale.ROOT))
                    || token.isSymbol(";") || token.isSymbol("@") || token.isSymbol(":")) {
                return Optional.empty();
            }
        }
        Token first = t.get(0);
        Parsed parsed;
        if (first.is("SELECT")) {
            parsed = select(t);
        } else if (first.is("INSERT")) {
            parsed = insert(t);
        } else if (first.is("UPDATE")) {
            parsed = update(t);
        } else if (first.is("DELETE")) {
            parsed = delete(t);
        } else {
            return Optional.empty();
        }
        if (parsed == null) {
            return Optional.empty();
        }
        TableRule rule = lookup(config.tables(), parsed.tableToken.name());
        if (rule == null || rule instanceof TableRule.Broadcast) {
            return Optional.empty();
        }
        int keyParameter = 0;
        Comparable<?> keyLiteral = null;
        if (rule instanceof TableRule.Sharded sharded) {
            if (parsed.kind.equals("INSERT") && sharded.keyGenerator().isPresent()
                    && !containsIgnoreCase(parsed.insertColumns, sharded.keyGenerator().get().column())) {
                return Optional.empty(); // the key is generated: ShardingSphere adds it
            }
            if (parsed.setColumns.stream().anyMatch(c -> c.equalsIgnoreCase(sharded.shardingColumn()))) {
                return Optional.empty(); // moving a row to another node
            }
            Token key = parsed.kind.equals("INSERT") ? insertKey(parsed, sharded.shardingColumn())
                    : whereKey(t, parsed, sharded.shardingColumn());
            if (key == null) {
                return Optional.empty();
            }
            if (key.kind() == Kind.PARAM) {
                keyParameter = parameterNumber(t, key);
            } else {
                keyLiteral = literal(key);
                if (keyLiteral == null) {
                    return Optional.empty();
                }
            }
        }
        if (rule instanceof TableRule.Placed placed && parsed.kind.equals("INSERT") && placed.keyGenerator().isPresent()
                && !containsIgnoreCase(parsed.insertColumns, placed.keyGenerator().get().column())) {
            return Optional.empty();
        }
        int params = 0;
        for (Token token : t) {
            if (token.kind() == Kind.PARAM) {
                params++;
            }
        }
        return Optional.of(new RouteTemplate(rule, parsed.kind.equals("SELECT") && !parsed.locking, keyParameter, keyLiteral,
                params, split(sql, t, parsed.tableToken)));
    }

    /** What the statement-specific parsers found. */
    static final class Parsed {
        String kind;
        Token tableToken;
        String alias;
        int whereFrom = -1;
        boolean locking;
        List<String> insertColumns = List.of();
        List<List<Token>> insertValues = List.of();
        List<String> setColumns = List.of();
    }

    private static Parsed select(List<Token> t) {
        int from = -1;
        int selects = 0;
        for (int i = 0; i < t.size(); i++) {
            if (t.get(i).is("SELECT")) {
                selects++;
            }
            if (from < 0 && t.get(i).is("FROM") && t.get(i).depth() == 0) {
                from = i;
            }
        }
        if (selects != 1 || from < 0 || t.stream().anyMatch(x -> x.is("INTO"))) {
            return null;
        }
        Parsed p = tableAt(t, from + 1, "SELECT");
        if (p == null) {
            return null;
        }
        Token last = t.get(t.size() - 1);
        p.locking = last.is("UPDATE") && t.size() >= 2 && t.get(t.size() - 2).is("FOR")
                || last.is("MODE") && t.size() >= 4 && t.get(t.size() - 4).is("LOCK")
                || t.stream().anyMatch(x -> x.is("NOWAIT") || x.is("SKIP") || x.is("SHARE"));
        return p;
    }

    private static Parsed update(List<Token> t) {
        Parsed p = tableAt(t, 1, "UPDATE");
        if (p == null) {
            return null;
        }
        int set = -1;
        for (int i = 0; i < t.size(); i++) {
            if (t.get(i).is("SET") && t.get(i).depth() == 0) {
                set = i;
                break;
            }
        }
        if (set < 0) {
            return null;
        }
        List<String> columns = new ArrayList<>();
        int end = p.whereFrom < 0 ? t.size() : p.whereFrom;
        for (int i = set + 1; i < end; i++) {
            Token x = t.get(i);
            if (x.depth() == 0 && x.isSymbol("=") && i > set) {
                columns.add(t.get(i - 1).name() == null ? "" : t.get(i - 1).name());
            }
        }
        p.setColumns = columns;
        return p;
    }

    private static Parsed delete(List<Token> t) {
        if (t.size() < 3 || !t.get(1).is("FROM")) {
            return null;
        }
        return tableAt(t, 2, "DELETE");
    }

    private static Parsed insert(List<Token> t) {
        int i = 1;
        if (i < t.size() && t.get(i).is("IGNORE")) {
            return null;
        }
        if (i < t.size() && t.get(i).is("INTO")) {
            i++;
        }
        if (i + 1 >= t.size() || t.get(i).name() == null || !t.get(i + 1).isSymbol("(")) {
            return null;
        }
        Parsed p = new Parsed();
        p.kind = "INSERT";
        p.tableToken = t.get(i);
        i += 2;
        List<String> columns = new ArrayList<>();
        while (i < t.size() && !t.get(i).isSymbol(")")) {
            Token c = t.get(i);
            if (c.name() == null) {
                return null;
            }
            columns.add(c.name());
            i++;
            if (i < t.size() && t.get(i).isSymbol(",")) {
                i++;
            }
        }
        i++;
        if (i >= t.size() || !(t.get(i).is("VALUES") || t.get(i).is("VALUE")) || i + 1 >= t.size() || !t.get(i + 1).isSymbol("(")) {
            return null;
        }
        int open = i + 1;
        int close = -1;
        for (int k = open + 1; k < t.size(); k++) {
            if (t.get(k).isSymbol(")") && t.get(k).depth() == 0) {
                close = k;
                break;
            }
        }
        if (close != t.size() - 1) {
            return null; // several rows, or something after the row
        }
        List<List<Token>> values = new ArrayList<>();
        List<Token> current = new ArrayList<>();
        for (int k = open + 1; k < close; k++) {
            Token v = t.get(k);
            if (v.depth() == 1 && v.isSymbol(",")) {
                values.add(current);
                current = new ArrayList<>();
            } else {
                current.add(v);
            }
        }
        values.add(current);
        if (values.size() != columns.size()) {
            return null;
        }
        p.insertColumns = columns;
        p.insertValues = values;
        return p;
    }

    /** Reads {@code table [[AS] alias]} at {@code i}, and where the WHERE clause starts. */
    static Parsed tableAt(List<Token> t, int i, String kind) {
        if (i >= t.size() || t.get(i).name() == null || t.get(i).depth() != 0) {
            return null;
        }
        Parsed p = new Parsed();
        p.kind = kind;
        p.tableToken = t.get(i);
        int next = i + 1;
        if (next < t.size() && t.get(next).isSymbol(".")) {
            return null; // schema-qualified
        }
        if (next < t.size() && t.get(next).is("AS")) {
            next++;
        }
        if (next < t.size() && t.get(next).name() != null && !isKeyword(t.get(next))) {
            p.alias = t.get(next).name();
            next++;
        }
        if (next < t.size()) {
            Token after = t.get(next);
            if (after.isSymbol(",")) {
                return null;
            }
            if (!(after.is("WHERE") || after.is("SET") || CLAUSE_END.contains(after.text().toUpperCase(Locale.ROOT)))) {
                return null;
            }
        }
        for (int k = next; k < t.size(); k++) {
            if (t.get(k).is("WHERE") && t.get(k).depth() == 0) {
                p.whereFrom = k;
                break;
            }
        }
        return p;
    }

    private static boolean isKeyword(Token token) {
        String w = token.kind() == Kind.WORD ? token.text().toUpperCase(Locale.ROOT) : "";
        return w.equals("WHERE") || w.equals("SET") || CLAUSE_END.contains(w);
    }

    private static Token insertKey(Parsed p, String column) {
        for (int i = 0; i < p.insertColumns.size(); i++) {
            if (p.insertColumns.get(i).equalsIgnoreCase(column)) {
                List<Token> value = p.insertValues.get(i);
                return value.size() == 1 ? value.get(0) : null;
            }
        }
        return null;
    }

    /** The value of a top-level {@code column = value} conjunct of the WHERE clause; null when there is none or an OR. */
    private static Token whereKey(List<Token> t, Parsed p, String column) {
        if (p.whereFrom < 0) {
            return null;
        }
        int end = t.size();
        for (int i = p.whereFrom + 1; i < t.size(); i++) {
            Token x = t.get(i);
            if (x.depth() == 0 && x.kind() == Kind.WORD && CLAUSE_END.contains(x.text().toUpperCase(Locale.ROOT))) {
                end = i;
                break;
            }
        }
        for (int i = p.whereFrom + 1; i < end; i++) {
            Token x = t.get(i);
            if (x.depth() == 0 && (x.is("OR") || x.is("XOR") || x.isSymbol("|"))) {
                return null;
            }
        }
        Token found = null;
        int i = p.whereFrom + 1;
        while (i < end) {
            int conjunctEnd = i;
            while (conjunctEnd < end && !(t.get(conjunctEnd).depth() == 0 && t.get(conjunctEnd).is("AND"))) {
                conjunctEnd++;
            }
            Token value = equalityValue(t.subList(i, conjunctEnd), column, p);
            if (value != null && found == null) {
                found = value;
            }
            i = conjunctEnd + 1;
        }
        return found;
    }

    /** {@code [q.]column = v} or {@code v = [q.]column} with v a parameter or literal. */
    private static Token equalityValue(List<Token> c, String column, Parsed p) {
        int eq = -1;
        for (int i = 0; i < c.size(); i++) {
            if (c.get(i).isSymbol("=")) {
                if (eq >= 0) {
                    return null;
                }
                eq = i;
            }
        }
        if (eq < 0 || c.get(0).depth() != 0) {
            return null;
        }
        List<Token> left = c.subList(0, eq);
        List<Token> right = c.subList(eq + 1, c.size());
        if (isColumn(left, column, p) && right.size() == 1 && isValue(right.get(0))) {
            return right.get(0);
        }
        if (isColumn(right, column, p) && left.size() == 1 && isValue(left.get(0))) {
            return left.get(0);
        }
        return null;
    }

    private static boolean isColumn(List<Token> tokens, String column, Parsed p) {
        if (tokens.size() == 1) {
            return column.equalsIgnoreCase(tokens.get(0).name());
        }
        if (tokens.size() == 3 && tokens.get(1).isSymbol(".") && tokens.get(0).name() != null) {
            String q = tokens.get(0).name();
            boolean ownQualifier = p.alias != null ? q.equalsIgnoreCase(p.alias) : q.equalsIgnoreCase(p.tableToken.name());
            return ownQualifier && column.equalsIgnoreCase(tokens.get(2).name());
        }
        return false;
    }

    private static boolean isValue(Token v) {
        return v.kind() == Kind.PARAM || v.kind() == Kind.NUMBER || v.kind() == Kind.STRING;
    }

    static Comparable<?> literal(Token v) {
        if (v.kind() == Kind.STRING) {
            return v.text();
        }
        try {
            return Long.valueOf(v.text());
        } catch (NumberFormatException e) {
            try {
                return new BigDecimal(v.text());
            } catch (NumberFormatException e2) {
                return null;
            }
        }
    }

    private static int parameterNumber(List<Token> t, Token param) {
        int n = 0;
        for (Token x : t) {
            if (x.kind() == Kind.PARAM) {
                n++;
            }
            if (x == param) {
                return n;
            }
        }
        throw new IllegalStateException("parameter not in its statement");
    }

    static TableRule lookup(Map<String, TableRule> tables, String name) {
        TableRule rule = tables.get(name);
        if (rule != null) {
            return rule;
        }
        for (TableRule r : tables.values()) {
            if (r.name().equalsIgnoreCase(name)) {
                return r;
            }
        }
        return null;
    }

    private static boolean containsIgnoreCase(List<String> names, String name) {
        return names.stream().anyMatch(n -> n.equalsIgnoreCase(name));
    }

    /** The text cut at every use of the table name (as the table, or as a column qualifier). */
    private static String[] split(String sql, List<Token> t, Token table) {
        List<String> parts = new ArrayList<>();
        int from = 0;
        for (int i = 0; i < t.size(); i++) {
            Token x = t.get(i);
            boolean use = x == table || x.name() != null && x.name().equalsIgnoreCase(table.name())
                    && i + 1 < t.size() && t.get(i + 1).isSymbol(".");
            if (use) {
                parts.add(sql.substring(from, x.start()));
                from = x.end();
            }
        }
        parts.add(sql.substring(from));
        return parts.toArray(new String[0]);
    }
}
