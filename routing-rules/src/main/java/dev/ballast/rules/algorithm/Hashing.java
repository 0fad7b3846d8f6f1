package dev.ballast.rules.algorithm;

/**
 * The 64-bit hash behind every hash-based placement: FNV-1a over the bytes, then the murmur3 {@code fmix64}
 * finalizer so that keys differing in one byte spread over the whole range.
 *
 * <p>Data placement depends on this function: rows already written sit on the shard it chose. It must never
 * change, on any JVM or platform; a different hash needs a new algorithm name and a data migration.
 */
public final class Hashing {

    private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Hashing() {
    }

    /** @throws IllegalArgumentException if bytes is null */
    public static long hash64(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("bytes is null; expected the bytes to hash");
        }
        long h = FNV_OFFSET_BASIS;
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= FNV_PRIME;
        }
        return fmix64(h);
    }

    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
