package dev.ballast.rules.algorithm;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HashingTest {

    /** Pinned outputs (cross-checked with an independent Python FNV-1a + fmix64): placement of stored rows depends on them. */
    @Test
    void hashOfKnownBytesNeverChanges() {
        assertEquals(0xefd01f60ba992926L, Hashing.hash64(new byte[0]));
        assertEquals(0x82a2a958a9bece5bL, hash("a"));
        assertEquals(0x810b196a56ee3cecL, hash("42"));
        assertEquals(0xd948cb55936e65c7L, hash("g0#0"));
        assertEquals(0xc66d98ab3212d4beL, hash("訂單"));
    }

    @Test
    void keysDifferingInOneCharacterSpreadOverTheHighBits() {
        Set<Long> topBytes = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            topBytes.add(hash("key" + i) >>> 56);
        }
        // 1000 keys over 256 top-byte values: a weak mix (plain FNV) would cluster; well mixed covers nearly all
        assertTrue(topBytes.size() > 240, "distinct top bytes: " + topBytes.size());
    }

    @Test
    void nullBytesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Hashing.hash64(null));
        assertEquals("bytes is null; expected the bytes to hash", e.getMessage());
    }

    private static long hash(String s) {
        return Hashing.hash64(s.getBytes(StandardCharsets.UTF_8));
    }
}
