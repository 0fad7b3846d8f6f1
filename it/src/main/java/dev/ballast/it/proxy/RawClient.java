package dev.ballast.it.proxy;

import dev.ballast.proxy.Auth;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A MySQL-protocol client on a bare socket, for tests that need the wire itself (fuzzing, many cheap connections). */
public final class RawClient {

    private RawClient() {
    }

    /** A socket connected to {@code 127.0.0.1:port}, nothing read or sent yet. */
    public static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(5000);
        return s;
    }

    /** A socket that has completed the handshake with mysql_native_password. */
    public static Socket login(int port, String user, String password) throws IOException {
        Socket s = connect(port);
        try {
            InputStream in = s.getInputStream();
            byte[] greeting = readPacket(in);
            int i = 1;
            while (greeting[i] != 0) {
                i++; // server version
            }
            i += 1 + 4; // NUL, connection id
            byte[] nonce = new byte[20];
            System.arraycopy(greeting, i, nonce, 0, 8);
            i += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10; // filler, caps, charset, status, caps, auth length, reserved
            System.arraycopy(greeting, i, nonce, 8, 12);
            byte[] scramble = Auth.nativeResponse(password, nonce);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int caps = 0x200 | 0x8000 | 0x80000 | 0x200000; // PROTOCOL_41, SECURE_CONNECTION, PLUGIN_AUTH, LENENC auth data
            b.writeBytes(new byte[]{(byte) caps, (byte) (caps >> 8), (byte) (caps >> 16), (byte) (caps >> 24), 0, 0, 0, 1, 45});
            b.writeBytes(new byte[23]);
            b.writeBytes(user.getBytes(StandardCharsets.UTF_8));
            b.write(0);
            b.write(scramble.length);
            b.writeBytes(scramble);
            b.writeBytes("mysql_native_password\0".getBytes(StandardCharsets.US_ASCII));
            writePacket(s.getOutputStream(), 1, b.toByteArray());
            byte[] ok = readPacket(in);
            if (ok[0] != 0) {
                throw new IOException("login failed: " + new String(ok, StandardCharsets.UTF_8));
            }
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public static byte[] readPacket(InputStream in) throws IOException {
        byte[] h = in.readNBytes(4);
        if (h.length < 4) {
            throw new IOException("closed");
        }
        int n = (h[0] & 0xff) | (h[1] & 0xff) << 8 | (h[2] & 0xff) << 16;
        return in.readNBytes(n);
    }

    public static void writePacket(OutputStream out, int seq, byte[] payload) throws IOException {
        out.write(new byte[]{(byte) payload.length, (byte) (payload.length >> 8), (byte) (payload.length >> 16), (byte) seq});
        out.write(payload);
        out.flush();
    }

    /** Resident memory of a process, from /proc (Linux). */
    public static long rssKb(long pid) throws IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }
}
