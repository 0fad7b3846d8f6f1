package dev.ballast.jdbc.fastpath;

import dev.ballast.jdbc.fastpath.SqlTokens.Kind;
import dev.ballast.jdbc.fastpath.SqlTokens.Token;
import dev.ballast.rules.ClusterConfig;
import dev.ballast.rules.DataNode;
import dev.ballast.rules.TableRule;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A SELECT on one sharded table that is sent to every data node and whose results a plain merge puts together, decided
 * once per SQL text: the text for each node (the table renamed, an offset folded into the limit), and how to merge.
 * Qualifies: {@code SELECT [DISTINCT] items FROM table [[AS] alias] [WHERE …] [ORDER BY columns [ASC|DESC]]
 * [LIMIT n | LIMIT o, n | LIMIT n OFFSET o]} with literal limits, where the items are either all plain columns,
 * {@code *} or expressions without aggregates, or all of {@code COUNT(…)}, {@code SUM(…)}, {@code MIN(…)}, {@code MAX(…)}
 * (no DISTINCT inside, no ORDER BY or LIMIT); each ORDER BY column is a select item (or, with {@code *}, a column of the
 * result), and DISTINCT needs an ORDER BY over exactly its items. No GROUP BY, HAVING, join, subquery, union or locking
 * read; everything else goes to ShardingSphere.
 */
public final class ScatterTemplate {

    /** How an item of the select list is merged. */
    public enum Aggregate { NONE, COUNT, SUM, MIN, MAX }

    /**
     * An ORDER BY column: {@code item} the select item it names (0-based), or -1 when it is found in the result's columns
     * by {@code name} (a select list with {@code *}).
     */
    public record Order(String name, int item, boolean descending) {
    }

    private static final Set<String> AGGREGATES = Set.of("COUNT", "SUM", "MIN", "MAX", "AVG", "GROUP_CONCAT", "STD", "STDDEV",
            "STDDEV_POP", "STDDEV_SAMP", "VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR", "BIT_XOR", "JSON_ARRAYAGG",
            "JSON_OBJECTAGG");
    private static final Set<String> REJECT = Set.of("GROUP", "HAVING", "INTO", "FOR", "LOCK", "SHARE", "NOWAIT", "SKIP",
            "PROCEDURE", "ALL", "HIGH_PRIORITY", "SQL_CALC_FOUND_ROWS", "SQL_SMALL_RESULT", "SQL_BIG_RESULT",
            "SQL_BUFFER_RESULT", "SQL_CACHE", "SQL_NO_CACHE", "ROLLUP", "EXCEPT", "INTERSECT");

    /**
     * One statement for one group: the group's data nodes as one {@code UNION ALL} of their SELECTs (without ORDER BY and
     * LIMIT) with the ORDER BY (by position, or by name with {@code *}) and the folded LIMIT applied to the whole, so the
     * group's server sorts and cuts its part once; with one node there, that node's own text. {@code repeat}: how many
     * times the statement's parameters are bound (once per branch); {@code tables} the physical tables it reads, for errors.
     */
    public record Part(String group, int[] nodes, String sql, int repeat, String tables) {
    }

    private final TableRule.Sharded table;
    private final List<Part> parts;
    /** the proxy's cache of a node's own result column definitions (a UNION loses table names and key flags) */
    private volatile Object resultColumns;
    private final List<DataNode> nodes;
    private final String[] nodeSql;
    private final boolean distinct;
    private final List<Aggregate> items;
    private final List<Order> order;
    private final long offset;
    private final long limit;
    private final int parameterCount;

    private ScatterTemplate(TableRule.Sharded table, String[] nodeSql, List<Part> parts, boolean distinct,
                            List<Aggregate> items, List<Order> order, long offset, long limit, int parameterCount) {
        this.table = table;
        this.parts = List.copyOf(parts);
        this.nodes = table.dataNodes();
        this.nodeSql = nodeSql;
        this.distinct = distinct;
        this.items = List.copyOf(items);
        this.order = List.copyOf(order);
        this.offset = offset;
        this.limit = limit;
        this.parameterCount = parameterCount;
    }

    public TableRule.Sharded table() {
        return table;
    }

    public int nodeCount() {
        return nodes.size();
    }

    public DataNode node(int index) {
        return nodes.get(index);
    }

    /** The text for data node {@code index}: the table renamed, and LIMIT o, n sent as LIMIT o+n. */
    public String sql(int index) {
        return nodeSql[index];
    }

    /** One statement per group, in the order the groups first appear among the data nodes. */
    public List<Part> parts() {
        return parts;
    }

    /** What the proxy cached of a node's own result columns (see {@link #resultColumns(Object)}), or null. */
    public Object resultColumns() {
        return resultColumns;
    }

    /** Caches a node's own result column definitions, for answering the groups' UNION results with them. */
    public void resultColumns(Object columns) {
        this.resultColumns = columns;
    }

    public boolean distinct() {
        return distinct;
    }

    /** How each select item is merged; empty when the list has {@code *} (then no item is an aggregate). */
    public List<Aggregate> items() {
        return items;
    }

    public boolean aggregates() {
        return !items.isEmpty() && items.get(0) != Aggregate.NONE;
    }

    public List<Order> order() {
        return order;
    }

    /** Rows of the merged result to skip; 0 without LIMIT. */
    public long offset() {
        return offset;
    }

    /** Rows of the merged result to return after the offset; -1 without LIMIT. */
    public long limit() {
        return limit;
    }

    public int parameterCount() {
        return parameterCount;
    }

    /** The template of {@code sql}, or empty when it is not a SELECT of the shape above on a sharded table. */
    public static Optional<ScatterTemplate> analyze(String sql, ClusterConfig config) {
        List<Token> t = SqlTokens.tokenize(sql);
        if (t == null || t.size() < 4 || !t.get(0).is("SELECT")) {
            return Optional.empty();
        }
        int selects = 0;
        int from = -1;
        int orderAt = -1;
        int limitAt = -1;
        int params = 0;
        for (int i = 0; i < t.size(); i++) {
            Token x = t.get(i);
            String word = x.kind() == Kind.WORD ? x.text().toUpperCase(Locale.ROOT) : "";
            if (RouteTemplate.REJECT_WORDS.contains(word) || REJECT.contains(word) || x.isSymbol(";") || x.isSymbol("@")
                    || x.isSymbol(":") || x.kind() == Kind.SYSTEM_VARIABLE) {
                return Optional.empty();
            }
            if (word.equals("SELECT")) {
                selects++;
            }
            if (x.kind() == Kind.PARAM) {
                params++;
            }
            if (x.depth() == 0) {
                if (from < 0 && word.equals("FROM")) {
                    from = i;
                } else if (word.equals("ORDER") && orderAt < 0) {
                    orderAt = i;
                } else if (word.equals("LIMIT") && limitAt < 0) {
                    limitAt = i;
                }
            }
        }
        if (selects != 1 || from < 0 || orderAt >= 0 && orderAt < from || limitAt >= 0 && (limitAt < from || limitAt < orderAt)) {
            return Optional.empty();
        }
        RouteTemplate.Parsed p = RouteTemplate.tableAt(t, from + 1, "SELECT");
        if (p == null || !(RouteTemplate.lookup(config.tables(), p.tableToken.name()) instanceof TableRule.Sharded rule)) {
            return Optional.empty();
        }
        String tableName = p.tableToken.name();
        String qualifier = p.alias != null ? p.alias : tableName;

        // the select list
        int at = 1;
        boolean distinct = false;
        if (t.get(at).is("DISTINCT") || t.get(at).is("DISTINCTROW")) {
            distinct = true;
            at++;
        }
        List<List<Token>> rawItems = split(t, at, from);
        if (rawItems == null) {
            return Optional.empty();
        }
        boolean star = false;
        List<Aggregate> aggregates = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        List<String> columns = new ArrayList<>();
        for (List<Token> item : rawItems) {
            if (item.size() == 1 && item.get(0).isSymbol("*")
                    || item.size() == 3 && item.get(1).isSymbol(".") && item.get(2).isSymbol("*")
                    && qualifier.equalsIgnoreCase(item.get(0).name())) {
                star = true;
                continue;
            }
            Item parsed = item(item, qualifier);
            if (parsed == null) {
                return Optional.empty();
            }
            aggregates.add(parsed.aggregate);
            labels.add(parsed.label);
            columns.add(parsed.column);
        }
        boolean anyAggregate = aggregates.stream().anyMatch(a -> a != Aggregate.NONE);
        if (anyAggregate && (star || distinct || orderAt >= 0 || limitAt >= 0
                || aggregates.stream().anyMatch(a -> a == Aggregate.NONE))) {
            return Optional.empty();
        }

        // ORDER BY
        List<Order> order = new ArrayList<>();
        if (orderAt >= 0) {
            if (orderAt + 1 >= t.size() || !t.get(orderAt + 1).is("BY")) {
                return Optional.empty();
            }
            List<List<Token>> keys = split(t, orderAt + 2, limitAt < 0 ? t.size() : limitAt);
            if (keys == null) {
                return Optional.empty();
            }
            for (List<Token> key : keys) {
                boolean descending = false;
                List<Token> column = key;
                Token last = key.get(key.size() - 1);
                if (last.is("ASC") || last.is("DESC")) {
                    descending = last.is("DESC");
                    column = key.subList(0, key.size() - 1);
                }
                String name = columnName(column, qualifier);
                if (name == null) {
                    return Optional.empty();
                }
                int item = -1;
                if (!star) {
                    item = indexOfIgnoreCase(labels, name);
                    if (item < 0) {
                        item = indexOfIgnoreCase(columns, name);
                    }
                    if (item < 0) {
                        return Optional.empty(); // not in the select list: ShardingSphere adds it and takes it off again
                    }
                }
                order.add(new Order(name, item, descending));
            }
        }
        if (distinct) {
            BitSet covered = new BitSet();
            order.forEach(o -> covered.set(Math.max(o.item(), 0)));
            if (star || order.isEmpty() || covered.cardinality() != aggregates.size()) {
                return Optional.empty();
            }
        }

        // LIMIT
        long offset = 0;
        long limit = -1;
        if (limitAt >= 0) {
            List<Token> l = t.subList(limitAt + 1, t.size());
            Long a = l.size() >= 1 ? count(l.get(0)) : null;
            if (a == null) {
                return Optional.empty();
            }
            if (l.size() == 1) {
                limit = a;
            } else if (l.size() == 3 && l.get(1).isSymbol(",") && count(l.get(2)) != null) {
                offset = a;
                limit = count(l.get(2));
            } else if (l.size() == 3 && l.get(1).is("OFFSET") && count(l.get(2)) != null) {
                limit = a;
                offset = count(l.get(2));
            } else {
                return Optional.empty();
            }
            if (offset + limit < 0) {
                return Optional.empty();
            }
        }

        // each node's text, and each group's
        List<DataNode> nodes = rule.dataNodes();
        String[] nodeSql = new String[nodes.size()];
        String[] bodies = new String[nodes.size()];
        int end = limitAt < 0 ? sql.length() : t.get(limitAt).start();
        int bodyEnd = orderAt >= 0 ? t.get(orderAt).start() : end;
        for (int n = 0; n < nodes.size(); n++) {
            String renamed = renamed(sql, t, p, tableName, nodes.get(n).table(), end);
            nodeSql[n] = limitAt >= 0 ? renamed + "LIMIT " + (offset + limit) : renamed;
            bodies[n] = renamed(sql, t, p, tableName, nodes.get(n).table(), bodyEnd).stripTrailing();
        }
        StringBuilder outer = new StringBuilder();
        for (Order o : order) {
            outer.append(outer.length() == 0 ? " ORDER BY " : ", ")
                    .append(o.item() >= 0 ? Integer.toString(o.item() + 1) : "`" + o.name().replace("`", "``") + "`")
                    .append(o.descending() ? " DESC" : "");
        }
        if (limitAt >= 0) {
            outer.append(" LIMIT ").append(offset + limit);
        }
        java.util.Map<String, List<Integer>> byGroup = new java.util.LinkedHashMap<>();
        for (int n = 0; n < nodes.size(); n++) {
            byGroup.computeIfAbsent(nodes.get(n).group(), g -> new ArrayList<>()).add(n);
        }
        List<Part> parts = new ArrayList<>();
        for (java.util.Map.Entry<String, List<Integer>> e : byGroup.entrySet()) {
            List<Integer> members = e.getValue();
            int[] indexes = members.stream().mapToInt(Integer::intValue).toArray();
            String tables = String.join(",", members.stream().map(n -> nodes.get(n).table()).toList());
            if (members.size() == 1) {
                parts.add(new Part(e.getKey(), indexes, nodeSql[indexes[0]], 1, tables));
                continue;
            }
            StringBuilder b = new StringBuilder();
            for (int n : indexes) {
                b.append(b.length() == 0 ? "" : " UNION ALL ").append(bodies[n]);
            }
            parts.add(new Part(e.getKey(), indexes, b.append(outer).toString(), members.size(), tables));
        }
        return Optional.of(new ScatterTemplate(rule, nodeSql, parts, distinct, star ? List.of() : aggregates, order, offset,
                limit, params));
    }

    /** The text up to {@code end} with the table (and its use as a qualifier) named {@code physical}. */
    private static String renamed(String sql, List<Token> t, RouteTemplate.Parsed p, String tableName, String physical, int end) {
        StringBuilder b = new StringBuilder(sql.length() + 16);
        int copied = 0;
        for (int i = 0; i < t.size() && t.get(i).start() < end; i++) {
            Token x = t.get(i);
            boolean use = x == p.tableToken || p.alias == null && tableName.equalsIgnoreCase(x.name())
                    && i + 1 < t.size() && t.get(i + 1).isSymbol(".");
            if (use) {
                b.append(sql, copied, x.start()).append(physical);
                copied = x.end();
            }
        }
        return b.append(sql, copied, end).toString();
    }

    private record Item(Aggregate aggregate, String label, String column) {
    }

    /** One select item: a column, an aggregate or another expression, with its [AS] alias; null when it cannot be merged. */
    private static Item item(List<Token> item, String qualifier) {
        String alias = null;
        List<Token> body = item;
        int n = item.size();
        if (n >= 3 && item.get(n - 2).is("AS") && item.get(n - 1).name() != null) {
            alias = item.get(n - 1).name();
            body = item.subList(0, n - 2);
        } else if (n >= 2 && item.get(n - 1).name() != null && item.get(n - 1).depth() == item.get(0).depth()
                && (item.get(n - 2).name() != null || item.get(n - 2).isSymbol(")"))) {
            alias = item.get(n - 1).name(); // an alias without AS
            body = item.subList(0, n - 1);
        }
        String column = columnName(body, qualifier);
        if (column != null) {
            return new Item(Aggregate.NONE, alias != null ? alias : column, column);
        }
        Token first = body.get(0);
        String word = first.kind() == Kind.WORD ? first.text().toUpperCase(Locale.ROOT) : "";
        if (body.size() >= 3 && body.get(1).isSymbol("(") && body.get(body.size() - 1).isSymbol(")")
                && List.of("COUNT", "SUM", "MIN", "MAX").contains(word)) {
            for (int i = 2; i < body.size() - 1; i++) {
                Token x = body.get(i);
                if (x.is("DISTINCT") || x.kind() == Kind.WORD && AGGREGATES.contains(x.text().toUpperCase(Locale.ROOT))
                        || x.depth() == first.depth() && x.isSymbol(")")) {
                    return null; // DISTINCT inside, a nested aggregate, or more after the call
                }
            }
            return new Item(Aggregate.valueOf(word), alias, null);
        }
        for (int i = 0; i + 1 < body.size(); i++) {
            Token x = body.get(i);
            if (x.kind() == Kind.WORD && AGGREGATES.contains(x.text().toUpperCase(Locale.ROOT)) && body.get(i + 1).isSymbol("(")) {
                return null; // an aggregate inside an expression
            }
        }
        return new Item(Aggregate.NONE, alias, null);
    }

    /** {@code name} or {@code qualifier.name}: the column's name; else null. */
    private static String columnName(List<Token> c, String qualifier) {
        if (c.size() == 1 && c.get(0).name() != null && !isReserved(c.get(0))) {
            return c.get(0).name();
        }
        if (c.size() == 3 && c.get(1).isSymbol(".") && qualifier.equalsIgnoreCase(c.get(0).name()) && c.get(2).name() != null) {
            return c.get(2).name();
        }
        return null;
    }

    private static boolean isReserved(Token x) {
        if (x.kind() != Kind.WORD) {
            return false;
        }
        String w = x.text().toUpperCase(Locale.ROOT);
        return w.equals("NULL") || w.equals("TRUE") || w.equals("FALSE") || w.startsWith("CURRENT_") || w.equals("DEFAULT");
    }

    /** The tokens from {@code from} to {@code to}, cut at top-level commas; null when a part is empty. */
    private static List<List<Token>> split(List<Token> t, int from, int to) {
        if (from >= to) {
            return null;
        }
        int depth = t.get(from).depth();
        List<List<Token>> parts = new ArrayList<>();
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || t.get(i).depth() == depth && t.get(i).isSymbol(",")) {
                if (i == start) {
                    return null;
                }
                parts.add(t.subList(start, i));
                start = i + 1;
            }
        }
        return parts;
    }

    private static int indexOfIgnoreCase(List<String> names, String name) {
        for (int i = 0; i < names.size(); i++) {
            if (name.equalsIgnoreCase(names.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static Long count(Token x) {
        if (x.kind() != Kind.NUMBER) {
            return null;
        }
        try {
            long v = Long.parseLong(x.text());
            return v >= 0 ? v : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
