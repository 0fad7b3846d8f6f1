package dev.ballast.schema;

import java.util.Map;
import java.util.Optional;

/**
 * What the servers said about each statement before the plan, gathered by {@link FactProbe}: whether a copy of the
 * physical table on a master accepts the statement with {@code ALGORITHM=INSTANT}, and with {@code LOCK=NONE}; empty
 * = accepted, else the server's refusal. Plus whether {@code binlog_alter_two_phase} exists on every master.
 *
 * @param instant   per statement number: empty when every master accepted ALGORITHM=INSTANT, else why not
 * @param lockNone  per statement number: empty when every master accepted LOCK=NONE, else why not
 * @param twoPhase  every master has {@code binlog_alter_two_phase} (MariaDB >= 10.8) and every replica applies in
 *                  parallel ({@code slave_parallel_threads > 0}), so online ALTERs are logged in two phases
 * @param probedOn  which servers answered ("g0 127.0.0.1:3311, g1 ..."), for the plan's reasons
 */
public record ServerFacts(Map<Integer, Optional<String>> instant, Map<Integer, Optional<String>> lockNone,
                          boolean twoPhase, String probedOn) {

    public ServerFacts {
        instant = Map.copyOf(instant);
        lockNone = Map.copyOf(lockNone);
    }

    Optional<String> instantRefusal(int statement) {
        return instant.getOrDefault(statement, Optional.of("not probed"));
    }

    Optional<String> lockNoneRefusal(int statement) {
        return lockNone.getOrDefault(statement, Optional.of("not probed"));
    }
}
