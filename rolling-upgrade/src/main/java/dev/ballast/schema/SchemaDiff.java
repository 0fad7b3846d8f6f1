package dev.ballast.schema;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Compares the definitions of every physical table of a logical table on every server (a pure function): the shape most
 * servers hold is the reference (on a tie, the first one read: the first data node's master), and every other server
 * gets the list of what differs from it.
 */
public final class SchemaDiff {

    /** Where one definition was read: a data node's physical table on one server of its group. */
    public record Place(String group, String node, String role, String physical) {
        @Override
        public String toString() {
            return group + " " + node + " (" + role + ") " + physical;
        }
    }

    /** The servers of one logical table that differ from the reference, with what differs. */
    public record TableReport(String table, Place reference, int places, Map<String, List<String>> drift) {
        public boolean clean() {
            return drift.isEmpty();
        }
    }

    public record Report(List<TableReport> tables) {
        public boolean clean() {
            return tables.stream().allMatch(TableReport::clean);
        }

        /** One block per logical table: "clean on N servers", or the reference and one line per difference per server. */
        public String render() {
            StringBuilder b = new StringBuilder();
            for (TableReport t : tables) {
                if (t.clean()) {
                    b.append(t.table()).append(": same definition in all ").append(t.places())
                            .append(" copies (every physical table on every server of its group)\n");
                    continue;
                }
                b.append(t.table()).append(": DRIFT on ").append(t.drift().size()).append(" of ").append(t.places())
                        .append(" (reference: ").append(t.reference()).append(")\n");
                t.drift().forEach((place, diffs) -> {
                    b.append("  ").append(place).append('\n');
                    diffs.forEach(d -> b.append("    ").append(d).append('\n'));
                });
            }
            return b.toString();
        }
    }

    private SchemaDiff() {
    }

    /** @param shapes every place of the table in read order, with what was read there */
    public static TableReport compare(String table, Map<Place, TableShape> shapes) {
        Map<TableShape, Integer> votes = new LinkedHashMap<>();
        shapes.values().forEach(s -> votes.merge(s, 1, Integer::sum));
        TableShape reference = votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Place refPlace = shapes.entrySet().stream().filter(e -> e.getValue().equals(reference)).findFirst().orElseThrow().getKey();
        Map<String, List<String>> drift = new LinkedHashMap<>();
        shapes.forEach((place, shape) -> {
            List<String> d = differences(reference, shape);
            if (!d.isEmpty()) {
                drift.put(place.toString(), d);
            }
        });
        return new TableReport(table, refPlace, shapes.size(), drift);
    }

    /** What {@code actual} lacks, has in excess or has otherwise than {@code reference}; empty when equal. */
    static List<String> differences(TableShape reference, TableShape actual) {
        List<String> out = new ArrayList<>();
        if (reference.exists() != actual.exists()) {
            out.add(actual.exists() ? "extra physical table (the others do not have it)" : "missing physical table");
            return out;
        }
        if (!reference.engine().equalsIgnoreCase(actual.engine())) {
            out.add("engine " + actual.engine() + ", expected " + reference.engine());
        }
        if (!reference.collation().equals(actual.collation())) {
            out.add("table collation " + actual.collation() + ", expected " + reference.collation());
        }
        reference.columns().forEach((name, col) -> {
            TableShape.Column other = actual.columns().get(name);
            if (other == null) {
                out.add("missing column " + name + " " + col.type());
                return;
            }
            if (!col.type().equals(other.type())) {
                out.add("column " + name + " type " + other.type() + ", expected " + col.type());
            }
            if (col.nullable() != other.nullable()) {
                out.add("column " + name + (other.nullable() ? " NULL" : " NOT NULL") + ", expected"
                        + (col.nullable() ? " NULL" : " NOT NULL"));
            }
            if (!Objects.equals(col.defaultValue(), other.defaultValue())) {
                out.add("column " + name + " default " + other.defaultValue() + ", expected " + col.defaultValue());
            }
            if (!col.charset().equals(other.charset()) || !col.collation().equals(other.collation())) {
                out.add("column " + name + " charset " + other.charset() + "/" + other.collation() + ", expected "
                        + col.charset() + "/" + col.collation());
            }
            if (!col.extra().equalsIgnoreCase(other.extra())) {
                out.add("column " + name + " extra '" + other.extra() + "', expected '" + col.extra() + "'");
            }
        });
        actual.columns().forEach((name, col) -> {
            if (!reference.columns().containsKey(name)) {
                out.add("extra column " + name + " " + col.type());
            }
        });
        if (out.isEmpty() && !new ArrayList<>(reference.columns().keySet()).equals(new ArrayList<>(actual.columns().keySet()))) {
            out.add("column order " + actual.columns().keySet() + ", expected " + reference.columns().keySet());
        }
        reference.indexes().forEach((name, idx) -> {
            TableShape.Index other = actual.indexes().get(name);
            if (other == null) {
                out.add("missing index " + name + (idx.unique() ? " UNIQUE " : " ") + idx.columns());
            } else if (!idx.equals(other)) {
                out.add("index " + name + (other.unique() ? " UNIQUE " : " ") + other.columns() + ", expected"
                        + (idx.unique() ? " UNIQUE " : " ") + idx.columns());
            }
        });
        actual.indexes().forEach((name, idx) -> {
            if (!reference.indexes().containsKey(name)) {
                out.add("extra index " + name + (idx.unique() ? " UNIQUE " : " ") + idx.columns());
            }
        });
        return out;
    }
}
