package dev.ballast.schema;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchemaDiffTest {

    static TableShape shape(Map<String, TableShape.Column> cols, Map<String, TableShape.Index> idx) {
        return new TableShape(true, "InnoDB", "utf8mb4_general_ci", cols, idx);
    }

    static final TableShape.Column ID = new TableShape.Column("bigint(20)", false, "NULL", "", "", "");
    static final TableShape.Column NOTE = new TableShape.Column("varchar(10)", true, "NULL", "utf8mb4", "utf8mb4_general_ci", "");
    static final TableShape.Index PK = new TableShape.Index(true, List.of("id"));

    static SchemaDiff.Place place(String node) {
        return new SchemaDiff.Place("g0", node, "replica", "t_0");
    }

    @Test
    void theMajorityIsTheReferenceAndEachOtherServerGetsWhatDiffers() {
        TableShape good = shape(Map.of("id", ID, "note", NOTE), Map.of("PRIMARY", PK));
        Map<String, TableShape.Column> cols = new LinkedHashMap<>();
        cols.put("id", ID);
        cols.put("note", new TableShape.Column("varchar(20)", false, "'x'", "latin1", "latin1_swedish_ci", ""));
        cols.put("extra", ID);
        TableShape bad = shape(cols, Map.of("PRIMARY", PK, "i_x", new TableShape.Index(false, List.of("note"))));
        Map<SchemaDiff.Place, TableShape> shapes = new LinkedHashMap<>();
        shapes.put(place("a:1"), bad);
        shapes.put(place("b:1"), good);
        shapes.put(place("c:1"), good);
        shapes.put(place("d:1"), TableShape.MISSING);
        SchemaDiff.TableReport r = SchemaDiff.compare("t", shapes);
        assertEquals(place("b:1"), r.reference());
        assertEquals(2, r.drift().size());
        assertEquals(List.of("column note type varchar(20), expected varchar(10)", "column note NOT NULL, expected NULL",
                "column note default 'x', expected NULL",
                "column note charset latin1/latin1_swedish_ci, expected utf8mb4/utf8mb4_general_ci",
                "extra column extra bigint(20)", "extra index i_x [note]"), r.drift().get(place("a:1").toString()));
        assertEquals(List.of("missing physical table"), r.drift().get(place("d:1").toString()));
        assertTrue(new SchemaDiff.Report(List.of(r)).render().contains("DRIFT on 2 of 4"));
    }

    @Test
    void sameDefinitionsAreClean() {
        TableShape good = shape(Map.of("id", ID), Map.of("PRIMARY", PK));
        SchemaDiff.TableReport r = SchemaDiff.compare("t", Map.of(place("a:1"), good, place("b:1"), good));
        assertTrue(r.clean());
        assertTrue(good.satisfies("+table") && good.satisfies("+column:ID") && good.satisfies("-column:note")
                && good.satisfies("+index:primary") && !good.satisfies("-index:PRIMARY"));
    }
}
