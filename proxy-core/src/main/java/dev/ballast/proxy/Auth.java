package dev.ballast.proxy;

import dev.ballast.rules.ProxySettings;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Password checks of the two MySQL authentication methods, against stored hashes only (the proxy never knows a
 * password): {@code mysql_native_password} against SHA1(SHA1(password)) and {@code caching_sha2_password}'s fast
 * authentication against SHA256(SHA256(password)).
 */
public final class Auth {

    static final String NATIVE = "mysql_native_password";
    static final String SHA2 = "caching_sha2_password";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Auth() {
    }

    /** 20 bytes of printable, non-NUL scramble, as servers send. */
    static byte[] nonce() {
        byte[] n = new byte[20];
        for (int i = 0; i < n.length; i++) {
            n[i] = (byte) (33 + RANDOM.nextInt(94));
        }
        return n;
    }

    /** {@code *} + upper-case hex of SHA1(SHA1(password)): what {@code PASSWORD()} and {@code mysql.user} hold. */
    public static String nativeHash(String password) {
        return "*" + HexFormat.of().withUpperCase().formatHex(sha1(sha1(password.getBytes(StandardCharsets.UTF_8))));
    }

    /** Lower-case hex of SHA256(SHA256(password)). */
    public static String sha2Hash(String password) {
        return HexFormat.of().formatHex(sha256(sha256(password.getBytes(StandardCharsets.UTF_8))));
    }

    /**
     * mysql_native_password: the client sends SHA1(pw) XOR SHA1(nonce + SHA1(SHA1(pw))). Recover SHA1(pw) with the stored
     * hash and check that its SHA1 is the stored hash.
     */
    static boolean checkNative(ProxySettings.ProxyUser user, byte[] nonce, byte[] response) {
        if (user.nativeHash().isEmpty()) {
            return false;
        }
        byte[] stage2 = HexFormat.of().parseHex(user.nativeHash().get().substring(1));
        if (response.length == 0) {
            return false;
        }
        if (response.length != 20) {
            return false;
        }
        byte[] mask = sha1(concat(nonce, stage2));
        byte[] stage1 = xor(response, mask);
        return MessageDigest.isEqual(sha1(stage1), stage2);
    }

    /**
     * caching_sha2_password fast path: the client sends SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce). Recover
     * SHA256(pw) with the stored SHA256(SHA256(pw)) and check that its SHA256 is the stored hash.
     */
    static boolean checkSha2(ProxySettings.ProxyUser user, byte[] nonce, byte[] response) {
        if (user.sha2Hash().isEmpty() || response.length != 32) {
            return false;
        }
        byte[] stage2 = HexFormat.of().parseHex(user.sha2Hash().get());
        byte[] mask = sha256(concat(stage2, nonce));
        byte[] stage1 = xor(response, mask);
        return MessageDigest.isEqual(sha256(stage1), stage2);
    }

    /** What a client computes for mysql_native_password (used by tests). */
    public static byte[] nativeResponse(String password, byte[] nonce) {
        byte[] stage1 = sha1(password.getBytes(StandardCharsets.UTF_8));
        return xor(stage1, sha1(concat(nonce, sha1(stage1))));
    }

    /** What a client computes for caching_sha2_password's fast path (used by tests). */
    static byte[] sha2Response(String password, byte[] nonce) {
        byte[] stage1 = sha256(password.getBytes(StandardCharsets.UTF_8));
        return xor(stage1, sha256(concat(sha256(stage1), nonce)));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i % b.length]);
        }
        return out;
    }

    static byte[] sha1(byte[] in) {
        return digest("SHA-1", in);
    }

    static byte[] sha256(byte[] in) {
        return digest("SHA-256", in);
    }

    private static byte[] digest(String algorithm, byte[] in) {
        try {
            return MessageDigest.getInstance(algorithm).digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
