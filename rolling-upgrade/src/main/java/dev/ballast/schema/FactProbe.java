package dev.ballast.schema;

import dev.ballast.rules.DataNode;
import dev.ballast.rules.NodeAddress;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Asks the masters, not a table of versions, which strategy each ALTER can use: on every master holding the table it
 * copies the definition of one physical table into an empty scratch table ({@code CREATE TABLE ... LIKE}, with
 * {@code sql_log_bin=0} so nothing replicates), runs the ALTER on it with {@code ALGORITHM=INSTANT}, then on a fresh
 * copy with {@code LOCK=NONE}, and drops it. The server's refusal is the reason shown in the plan. Changes nothing
 * else.
 *
 * <p>Not guaranteed: an empty copy accepts what the full table may still fail on for its data (a UNIQUE index over
 * duplicates, a NOT NULL over NULLs); such a step fails on the master and the operation pauses.
 */
final class FactProbe {

    private final Servers servers;

    FactProbe(Servers servers) {
        this.servers = servers;
    }

    /**
     * @param replicas every group's replicas: two-phase ALTER logging only pays when each of them applies in parallel
     *                 ({@code slave_parallel_threads > 0}); a serial replica still runs the ALTER before the next event
     */
    ServerFacts probe(List<Ddl> ddls, Map<String, NodeAddress> masters, Map<String, List<NodeAddress>> replicas)
            throws SQLException {
        Map<Integer, Optional<String>> instant = new HashMap<>();
        Map<Integer, Optional<String>> lockNone = new HashMap<>();
        Map<String, String> probed = new LinkedHashMap<>();
        boolean twoPhase = true;
        for (Map.Entry<String, NodeAddress> m : masters.entrySet()) {
            try (Connection c = servers.open(m.getValue(), 60_000); Statement s = c.createStatement()) {
                s.executeQuery("SELECT @@binlog_alter_two_phase").close();
            } catch (SQLException e) {
                if (e.getErrorCode() != 1193) { // unknown system variable
                    throw e;
                }
                twoPhase = false;
            }
        }
        for (List<NodeAddress> rs : replicas.values()) {
            for (NodeAddress r : rs) {
                if (!twoPhase) {
                    break;
                }
                try (Connection c = servers.open(r, 60_000); Statement s = c.createStatement();
                     java.sql.ResultSet v = s.executeQuery("SELECT @@slave_parallel_threads")) {
                    twoPhase = v.next() && v.getInt(1) > 0;
                }
            }
        }
        String scratch = "_ballast_probe_" + ProcessHandle.current().pid();
        for (Ddl d : ddls) {
            if (d.kind() != Ddl.Kind.ALTER_TABLE) {
                continue;
            }
            Map<String, String> firstTable = new LinkedHashMap<>();
            for (DataNode n : servers.config().table(d.table()).orElseThrow().dataNodes()) {
                firstTable.putIfAbsent(n.group(), n.table());
            }
            List<String> instantNo = new ArrayList<>();
            List<String> lockNo = new ArrayList<>();
            for (Map.Entry<String, String> g : firstTable.entrySet()) {
                NodeAddress master = masters.get(g.getKey());
                probed.put(g.getKey(), g.getKey() + " " + master);
                try (Connection c = servers.open(master, 60_000); Statement s = c.createStatement()) {
                    s.execute("SET SESSION sql_log_bin=0");
                    refusal(s, scratch, g.getValue(), d.sqlFor(scratch) + ", ALGORITHM=INSTANT")
                            .ifPresent(r -> instantNo.add(g.getKey() + ": " + r));
                    refusal(s, scratch, g.getValue(), d.sqlFor(scratch) + ", LOCK=NONE")
                            .ifPresent(r -> lockNo.add(g.getKey() + ": " + r));
                }
            }
            instant.put(d.number(), instantNo.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", instantNo)));
            lockNone.put(d.number(), lockNo.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", lockNo)));
        }
        return new ServerFacts(instant, lockNone, twoPhase, String.join(", ", probed.values()));
    }

    private static Optional<String> refusal(Statement s, String scratch, String physical, String alter) throws SQLException {
        s.execute("DROP TABLE IF EXISTS " + Ddl.quote(scratch));
        try {
            s.execute("CREATE TABLE " + Ddl.quote(scratch) + " LIKE " + Ddl.quote(physical));
        } catch (SQLException e) {
            return Optional.of("cannot copy the definition of " + physical + ": " + e.getMessage());
        }
        try {
            s.execute(alter);
            return Optional.empty();
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        } finally {
            s.execute("DROP TABLE IF EXISTS " + Ddl.quote(scratch));
        }
    }
}
