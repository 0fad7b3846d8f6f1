package dev.ballast.jdbc.health;

import dev.ballast.replication.Position;
import dev.ballast.rules.Flavour;
import dev.ballast.rules.NodeAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ReplicaStatusTest {

    @ParameterizedTest(name = "reachable={0} replicating={1} lag={2}: {3}")
    @CsvSource(nullValues = "null", value = {
            "true,  null,  0,    true",
            "true,  true,  1000, true",
            "true,  true,  1001, false",
            "true,  false, 0,    false",
            "true,  null,  -1,   false",
            "false, null,  0,    false",
            "false, true,  0,    false",
    })
    void qualifiesWhenReachableNotStoppedAndLagKnownAndSmallEnough(boolean reachable, Boolean replicating, long lag,
                                                                   boolean expected) {
        ReplicaStatus s = new ReplicaStatus(new NodeAddress("127.0.0.1", 3312), reachable, replicating, lag,
                Position.empty(Flavour.MARIADB), 0, "");
        assertEquals(expected, s.qualifies(1000));
    }
}
