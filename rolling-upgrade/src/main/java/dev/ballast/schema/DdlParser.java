package dev.ballast.schema;

import dev.ballast.schema.Ddl.Spec;
import dev.ballast.schema.SqlLexer.Kind;
import dev.ballast.schema.SqlLexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads a change file into {@link Ddl}s on logical tables, or refuses it as a whole (nothing is run when any statement
 * is refused). Accepted: {@code CREATE TABLE} of a table the config lists, {@code ALTER TABLE}, {@code CREATE [UNIQUE]
 * INDEX ... ON}, {@code DROP INDEX ... ON}, {@code DROP TABLE} (only with {@code allowDrop}). Everything else (DML,
 * other DDL, a table the config does not list, a name with a schema, RENAME, an ALGORITHM or LOCK clause, foreign
 * keys, text the lexer cannot read) is refused with the statement's number and the reason.
 */
public final class DdlParser {

    private static final String ACCEPTED = "accepted: CREATE TABLE, ALTER TABLE, CREATE [UNIQUE] INDEX ... ON, DROP INDEX"
            + " ... ON, DROP TABLE (with --allow-drop)";

    private final Set<String> tables;
    private final boolean allowDrop;

    /** @param tables the logical tables the config lists */
    public DdlParser(Set<String> tables, boolean allowDrop) {
        this.tables = Set.copyOf(tables);
        this.allowDrop = allowDrop;
    }

    /** Every statement of {@code script}, or a {@link SchemaException} naming each refused one. */
    public List<Ddl> parse(String script) {
        List<String> texts;
        try {
            texts = SqlLexer.statements(script);
        } catch (SchemaException e) {
            throw new SchemaException("cannot read the file: " + e.getMessage() + "; nothing was changed");
        }
        if (texts.isEmpty()) {
            throw new SchemaException("the file has no statement; nothing was changed");
        }
        List<Ddl> out = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            try {
                out.add(statement(i + 1, texts.get(i)));
            } catch (SchemaException e) {
                refused.add("#" + (i + 1) + " " + brief(texts.get(i)) + ": " + e.getMessage());
            }
        }
        if (!refused.isEmpty()) {
            throw new SchemaException("refused " + refused.size() + " of " + texts.size() + " statements, nothing was"
                    + " changed:\n  " + String.join("\n  ", refused));
        }
        return out;
    }

    Ddl statement(int number, String text) {
        List<Token> t = SqlLexer.tokens(text);
        Cursor c = new Cursor(t, text);
        if (c.accept("CREATE")) {
            if (c.peekIs("OR")) {
                throw new SchemaException("CREATE OR REPLACE drops the table first; use DROP TABLE (with --allow-drop)"
                        + " and CREATE TABLE");
            }
            if (c.accept("TEMPORARY")) {
                throw new SchemaException("a TEMPORARY table lives in one session; nothing to roll out");
            }
            if (c.accept("TABLE")) {
                c.acceptAll("IF", "NOT", "EXISTS");
                Token name = c.tableName();
                if (c.peekIs("LIKE") || c.peekIs("AS") || c.peekIs("SELECT") || c.peekIs("REPLACE") || c.peekIs("IGNORE")) {
                    throw new SchemaException("CREATE TABLE ... " + c.peek().text().toUpperCase() + " is not accepted; give"
                            + " the table's columns");
                }
                refuseForeignKeys(t);
                return new Ddl(number, Ddl.Kind.CREATE_TABLE, name.name(), text, text.substring(0, name.start()),
                        text.substring(name.end()), List.of());
            }
            boolean unique = c.accept("UNIQUE");
            if (!unique && (c.peekIs("FULLTEXT") || c.peekIs("SPATIAL"))) {
                throw new SchemaException(c.peek().text().toUpperCase() + " indexes are not accepted (their build is not"
                        + " online in InnoDB)");
            }
            if (c.accept("INDEX")) {
                boolean ifNotExists = c.acceptAll("IF", "NOT", "EXISTS");
                Token index = c.name("index name");
                c.expect("ON");
                Token table = c.tableName();
                String rest = text.substring(table.end()).strip();
                if (!rest.startsWith("(")) {
                    throw new SchemaException("expected the index's columns in parentheses after ON " + table.name());
                }
                refuseAlgorithmLock(t);
                String spec = "ADD " + (unique ? "UNIQUE " : "") + "INDEX " + (ifNotExists ? "IF NOT EXISTS " : "")
                        + Ddl.quote(index.name()) + " " + rest;
                return new Ddl(number, Ddl.Kind.ALTER_TABLE, table.name(), text, "ALTER TABLE ", " " + spec,
                        List.of(new Spec(Spec.Op.ADD_INDEX, index.name(), true, true, unique, spec)));
            }
            throw new SchemaException("not a schema change Ballast rolls out (" + ACCEPTED + ")");
        }
        if (c.accept("ALTER")) {
            c.accept("ONLINE");
            if (c.peekIs("IGNORE")) {
                throw new SchemaException("ALTER IGNORE silently drops rows; not accepted");
            }
            c.expect("TABLE");
            c.acceptAll("IF", "EXISTS");
            Token name = c.tableName();
            if (c.atEnd()) {
                throw new SchemaException("ALTER TABLE " + name.name() + " changes nothing");
            }
            refuseAlgorithmLock(t);
            refuseForeignKeys(t);
            List<Spec> specs = specs(t.subList(c.pos, t.size()), text);
            return new Ddl(number, Ddl.Kind.ALTER_TABLE, name.name(), text, text.substring(0, name.start()),
                    text.substring(name.end()), specs);
        }
        if (c.accept("DROP")) {
            if (c.accept("INDEX")) {
                boolean ifExists = c.acceptAll("IF", "EXISTS");
                Token index = c.name("index name");
                c.expect("ON");
                Token table = c.tableName();
                if (!c.atEnd()) {
                    throw new SchemaException("unexpected '" + c.peek().text() + "' after DROP INDEX ... ON " + table.name());
                }
                String spec = "DROP INDEX " + (ifExists ? "IF EXISTS " : "") + Ddl.quote(index.name());
                return new Ddl(number, Ddl.Kind.ALTER_TABLE, table.name(), text, "ALTER TABLE ", " " + spec,
                        List.of(new Spec(Spec.Op.DROP_INDEX, index.name(), true, true, false, spec)));
            }
            if (c.peekIs("TEMPORARY")) {
                throw new SchemaException("a TEMPORARY table lives in one session; nothing to roll out");
            }
            if (c.accept("TABLE")) {
                c.acceptAll("IF", "EXISTS");
                Token name = c.tableName();
                if (!c.atEnd()) {
                    throw new SchemaException("drop one table per statement (unexpected '" + c.peek().text() + "')");
                }
                if (!allowDrop) {
                    throw new SchemaException("DROP TABLE " + name.name() + " deletes its rows on every shard; run with"
                            + " --allow-drop if that is what you want");
                }
                return new Ddl(number, Ddl.Kind.DROP_TABLE, name.name(), text, text.substring(0, name.start()),
                        text.substring(name.end()), List.of());
            }
        }
        throw new SchemaException(t.isEmpty() ? "empty statement" : "not a schema change Ballast rolls out (" + ACCEPTED + ")");
    }

    /** The ALTER's specifications, split at top-level commas and classified. */
    private List<Spec> specs(List<Token> t, String text) {
        List<Spec> out = new ArrayList<>();
        int depth = 0;
        int from = 0;
        for (int i = 0; i <= t.size(); i++) {
            if (i == t.size() || depth == 0 && t.get(i).isSymbol(',')) {
                if (i == from) {
                    throw new SchemaException("empty ALTER specification");
                }
                List<Token> part = t.subList(from, i);
                out.add(spec(part, text.substring(part.get(0).start(), part.get(part.size() - 1).end())));
                from = i + 1;
            } else if (t.get(i).isSymbol('(')) {
                depth++;
            } else if (t.get(i).isSymbol(')')) {
                depth--;
            }
        }
        return out;
    }

    private Spec spec(List<Token> t, String text) {
        Cursor c = new Cursor(t, text);
        if (c.peekIs("RENAME")) {
            if (t.size() > 1 && (t.get(1).is("COLUMN") || t.get(1).is("INDEX") || t.get(1).is("KEY"))) {
                return new Spec(Spec.Op.OTHER, "", true, true, false, text);
            }
            throw new SchemaException("renaming a logical table changes the config, not only the schema; not accepted");
        }
        if (c.accept("ADD")) {
            boolean unique = false;
            if (c.peekIs("CONSTRAINT") || c.peekIs("PRIMARY") || c.peekIs("FULLTEXT") || c.peekIs("SPATIAL")
                    || c.peekIs("CHECK") || c.peekIs("PERIOD") || c.peekIs("SYSTEM") || c.peekIs("PARTITION")) {
                return new Spec(Spec.Op.OTHER, "", true, true, false, text);
            }
            if (c.accept("UNIQUE")) {
                unique = true;
                if (!c.accept("INDEX")) {
                    c.accept("KEY");
                }
            } else if (!c.accept("INDEX") && !c.accept("KEY")) {
                // a column
                c.accept("COLUMN");
                c.acceptAll("IF", "NOT", "EXISTS");
                if (c.peek() != null && c.peek().isSymbol('(')) {
                    return new Spec(Spec.Op.OTHER, "", true, true, false, text);
                }
                Token col = c.name("column name");
                boolean atEnd = true;
                boolean notNull = false;
                boolean hasDefault = false;
                int depth = 0;
                for (int i = c.pos; i < t.size(); i++) {
                    Token k = t.get(i);
                    if (k.isSymbol('(')) {
                        depth++;
                    } else if (k.isSymbol(')')) {
                        depth--;
                    } else if (depth == 0) {
                        if (k.is("FIRST") || k.is("AFTER")) {
                            atEnd = false;
                        } else if (k.is("NOT") && i + 1 < t.size() && t.get(i + 1).is("NULL")) {
                            notNull = true;
                        } else if (k.is("DEFAULT") || k.is("AUTO_INCREMENT") || k.is("AS") || k.is("GENERATED")) {
                            hasDefault = true;
                        }
                    }
                }
                return new Spec(Spec.Op.ADD_COLUMN, col.name(), atEnd, !notNull || hasDefault, false, text);
            }
            c.acceptAll("IF", "NOT", "EXISTS");
            if (c.peek() == null || !c.peek().isName()) {
                throw new SchemaException("name the index ('" + text + "'): its name is how a resumed change knows it exists");
            }
            Token idx = c.name("index name");
            return new Spec(Spec.Op.ADD_INDEX, idx.name(), true, true, unique, text);
        }
        if (c.accept("DROP")) {
            if (c.accept("INDEX") || c.accept("KEY")) {
                c.acceptAll("IF", "EXISTS");
                return new Spec(Spec.Op.DROP_INDEX, c.name("index name").name(), true, true, false, text);
            }
            if (c.peekIs("PRIMARY") || c.peekIs("FOREIGN") || c.peekIs("CONSTRAINT") || c.peekIs("CHECK")
                    || c.peekIs("PARTITION") || c.peekIs("SYSTEM") || c.peekIs("PERIOD")) {
                return new Spec(Spec.Op.OTHER, "", true, true, false, text);
            }
            c.accept("COLUMN");
            c.acceptAll("IF", "EXISTS");
            return new Spec(Spec.Op.DROP_COLUMN, c.name("column name").name(), true, true, false, text);
        }
        return new Spec(Spec.Op.OTHER, "", true, true, false, text);
    }

    private static void refuseAlgorithmLock(List<Token> t) {
        for (Token k : t) {
            if (k.is("ALGORITHM") || k.is("LOCK")) {
                throw new SchemaException(k.text().toUpperCase() + " is chosen by Ballast per strategy (shown in the plan);"
                        + " remove it, or force a strategy with --strategy");
            }
        }
    }

    private static void refuseForeignKeys(List<Token> t) {
        for (Token k : t) {
            if (k.is("FOREIGN") || k.is("REFERENCES")) {
                throw new SchemaException("foreign keys are not accepted: rows of a sharded table live on several servers,"
                        + " and constraint names are per schema");
            }
        }
    }

    private static String brief(String text) {
        String s = text.replaceAll("\\s+", " ");
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** Walks a token list. */
    private final class Cursor {
        final List<Token> t;
        final String text;
        int pos;

        Cursor(List<Token> t, String text) {
            this.t = t;
            this.text = text;
        }

        Token peek() {
            return pos < t.size() ? t.get(pos) : null;
        }

        boolean peekIs(String keyword) {
            return peek() != null && peek().is(keyword);
        }

        boolean atEnd() {
            return pos >= t.size();
        }

        boolean accept(String keyword) {
            if (peekIs(keyword)) {
                pos++;
                return true;
            }
            return false;
        }

        boolean acceptAll(String... keywords) {
            for (int i = 0; i < keywords.length; i++) {
                if (pos + i >= t.size() || !t.get(pos + i).is(keywords[i])) {
                    return false;
                }
            }
            pos += keywords.length;
            return true;
        }

        void expect(String keyword) {
            if (!accept(keyword)) {
                throw new SchemaException("expected " + keyword + (atEnd() ? " at the end" : " at '" + peek().text() + "'"));
            }
        }

        Token name(String what) {
            Token n = peek();
            if (n == null || !n.isName()) {
                throw new SchemaException("expected the " + what + (n == null ? " at the end" : " at '" + n.text() + "'"));
            }
            pos++;
            return n;
        }

        /** A logical table the config lists, without a schema. */
        Token tableName() {
            Token n = name("table name");
            if (peek() != null && peek().isSymbol('.')) {
                throw new SchemaException("give the logical table without a schema ('" + n.name() + "." + t.get(pos + 1).text()
                        + "'): Ballast writes it into every shard's schema");
            }
            if (!tables.contains(n.name())) {
                throw new SchemaException("table '" + n.name() + "' is not in the config (tables: " + String.join(", ",
                        new java.util.TreeSet<>(tables)) + "); add it to the config first");
            }
            return n;
        }
    }
}
