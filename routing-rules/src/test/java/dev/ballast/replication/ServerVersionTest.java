package dev.ballast.replication;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerVersionTest {

    static ServerVersion v(String text) {
        return ServerVersion.parse(text).orElseThrow();
    }

    @Test
    void versionsCompareNumericallyNotAsText() {
        assertTrue(v("10.11.6-MariaDB-0+deb12u1-log").olderThan(v("11.4.5-MariaDB")));
        assertTrue(v("10.9.8-MariaDB").olderThan(v("10.11.2-MariaDB")), "10.9 < 10.11 although '9' > '1' as text");
        assertTrue(v("11.4.4-MariaDB").olderThan(v("11.4.5-MariaDB-log")));
        assertFalse(v("11.4.5-MariaDB").olderThan(v("11.4.5-MariaDB-log")), "the suffix does not count");
        assertEquals(0, v("11.4").compareTo(v("11.4.0")));
        assertTrue(v("8.0.36").olderThan(v("8.4.0")));
    }

    @Test
    void theNumberIsTheLeadingDottedDigits() {
        assertEquals("10.11.6", v("10.11.6-MariaDB-0+deb12u1-log").number());
        assertEquals("8.0.36", v("8.0.36").number());
    }

    @Test
    void blankOrNonNumericTextIsUnknown() {
        assertTrue(ServerVersion.parse("").isEmpty());
        assertTrue(ServerVersion.parse(null).isEmpty());
        assertTrue(ServerVersion.parse("MariaDB").isEmpty());
    }
}
