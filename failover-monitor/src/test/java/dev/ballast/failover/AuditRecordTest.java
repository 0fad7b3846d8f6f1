package dev.ballast.failover;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ballast.replication.Documents;
import dev.ballast.replication.GroupTopology;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditRecordTest {

    @Test
    void problemsWithQuotesBackslashesAndNonAsciiAreStoredAndReadBackAsWritten() {
        // A problem text carries server messages verbatim: quotes, backslashes, newlines, non-ASCII.
        String problem = "DeadMaster: \"Can't connect\" to 'h' \\ (111)\nnext — 漢字 😀";
        GroupTopology before = new GroupTopology("g\"0", NodeAddress.parse("127.0.0.1:3311"),
                List.of(NodeAddress.parse("127.0.0.1:3312")), 4, GroupTopology.Phase.SERVING);
        AuditRecord audit = new AuditRecord("failover", "g\"0", "monitor-\\1").text("problem", problem)
                .topology("before", before).value("verdicts", List.of(Map.of("node", "127.0.0.1:3312", "reason", "a \"b\"")));
        audit.step("plan").state("done");
        String json = audit.toJson();
        JsonNode o = Documents.readObject(json, "audit record");
        assertEquals(problem, o.get("problem").asText());
        assertEquals(before, GroupTopology.fromDocument(o.get("before")));
        assertEquals("a \"b\"", o.get("verdicts").get(0).get("reason").asText());
        assertTrue(o.get("timings").has("planMs"));
        assertTrue(o.get("timings").has("totalMs"));
        AuditRecord.Summary s = AuditRecord.summary(json);
        assertEquals("failover", s.kind());
        assertEquals("g\"0", s.group());
        assertEquals("done", s.state());
        assertFalse(s.acknowledged());
    }

    @Test
    void acknowledgingKeepsEveryOtherField() {
        String json = new AuditRecord("failover", "g0", "m1").text("problem", "x").state("done").toJson();
        String acked = AuditRecord.acknowledged(json, "ops@cli");
        assertTrue(AuditRecord.summary(acked).acknowledged());
        JsonNode o = Documents.readObject(acked, "audit record");
        assertEquals("x", o.get("problem").asText());
        assertEquals("ops@cli", o.get("acknowledgedBy").asText());
    }

    @Test
    void aRecordThatIsNotAnAuditRecordIsRefusedNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AuditRecord.summary("{\"kind\":\"failover\"}"));
        assertTrue(e.getMessage().contains("'group'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AuditRecord.summary("[1,2"));
    }
}
