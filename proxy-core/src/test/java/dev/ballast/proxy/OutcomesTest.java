package dev.ballast.proxy;

import dev.ballast.proxy.Outcomes.Failure;
import dev.ballast.proxy.Outcomes.Mode;
import dev.ballast.proxy.Outcomes.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The relay's outcomes, row by row: what happened → what the client is told. */
class OutcomesTest {

    @ParameterizedTest(name = "{0} read={1} executeSent={2} forwarded={3} startedTx={4} rollback={5} clientGone={6} -> {7}")
    @CsvSource({
            // autocommit statements
            "SINGLE,         true,  false, false, false, false, false, EJECT_AND_FALL_BACK",
            "SINGLE,         true,  true,  false, false, false, false, EJECT_AND_FALL_BACK",
            "SINGLE,         true,  true,  true,  false, false, false, CONNECTION_LOST",
            "SINGLE,         false, false, false, false, false, false, FALL_BACK",
            "SINGLE,         false, true,  false, false, false, false, OUTCOME_UNKNOWN",
            "SINGLE,         false, true,  true,  false, false, false, CONNECTION_LOST",
            "SINGLE,         false, true,  false, false, false, true,  NOTHING",
            // the first statement of a relayed transaction
            "IN_TRANSACTION, false, false, false, true,  false, false, FALL_BACK",
            "IN_TRANSACTION, false, true,  false, true,  false, false, TRANSACTION_LOST",
            // later statements
            "IN_TRANSACTION, false, false, false, false, false, false, TRANSACTION_LOST",
            "IN_TRANSACTION, false, true,  false, false, false, false, TRANSACTION_LOST",
            "IN_TRANSACTION, false, true,  true,  false, false, false, CONNECTION_LOST",
            "IN_TRANSACTION, false, true,  true,  false, false, true,  NOTHING",
            // the end of a relayed transaction
            "END,            false, true,  false, false, false, false, OUTCOME_UNKNOWN",
            "END,            false, false, false, false, false, false, OUTCOME_UNKNOWN",
            "END,            false, true,  false, false, true,  false, ROLLED_BACK",
            "END_AUTOCOMMIT, false, true,  false, false, false, false, OUTCOME_UNKNOWN",
            "END,            false, true,  false, false, false, true,  NOTHING",
    })
    void aBrokenServerConnection(Mode mode, boolean read, boolean executeSent, boolean forwarded, boolean startedTx,
                                 boolean rollback, boolean clientGone, Outcome expected) {
        assertEquals(expected, Outcomes.connectionBroke(new Failure(mode, read, executeSent, forwarded, startedTx, rollback,
                clientGone)));
    }

    @ParameterizedTest(name = "{0} read={1} forwarded={2} error {3} -> {4}")
    @CsvSource({
            "SINGLE,         false, false, 1290, FALL_BACK",
            "SINGLE,         true,  false, 1290, PASS_ON",
            "SINGLE,         false, true,  1290, PASS_ON",
            "IN_TRANSACTION, false, false, 1290, PASS_ON",
            "END,            false, false, 1290, PASS_ON",
            "SINGLE,         false, false, 1062, PASS_ON",
            "SINGLE,         false, false, 1213, PASS_ON",
    })
    void anErrorFromTheServer(Mode mode, boolean read, boolean forwarded, int code, Outcome expected) {
        assertEquals(expected, Outcomes.serverError(mode, read, forwarded, code));
    }

    @ParameterizedTest(name = "{0} clientGone={1} -> {2}")
    @CsvSource({
            "SINGLE,         false, FALL_BACK",
            "SINGLE,         true,  NOTHING",
            "IN_TRANSACTION, false, PASS_ON",
            "END,            false, PASS_ON",
            "IN_TRANSACTION, true,  NOTHING",
    })
    void aPrepareTheServerRefused(Mode mode, boolean clientGone, Outcome expected) {
        assertEquals(expected, Outcomes.prepareFailed(mode, clientGone));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"ROLLBACK, ROLLED_BACK", "COMMIT, TRANSACTION_LOST", "BEGIN, TRANSACTION_LOST", "SELECT, TRANSACTION_LOST",
            "INSERT, TRANSACTION_LOST"})
    void aStatementAfterTheTransactionWasLost(String first, Outcome expected) {
        assertEquals(expected, Outcomes.afterLostTransaction(first));
    }
}
