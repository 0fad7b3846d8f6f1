package dev.ballast.it.proxy;

import dev.ballast.it.ClusterYaml;
import dev.ballast.it.testbed.TestBed;
import dev.ballast.proxy.ProxyServer;
import dev.ballast.rules.ClusterConfigLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS between clients and the proxy (a self-signed certificate made with openssl), optional and required. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProxyTlsTest {

    static TestBed bed;
    static ProxyServer optional;
    static ProxyServer required;

    @BeforeAll
    static void start() throws Exception {
        bed = TestBed.start(1, 1);
        Path dir = bed.directory();
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(), "-days", "2", "-subj", "/CN=127.0.0.1")
                .redirectErrorStream(true).start();
        String out = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0, out);
        String tls = "tls:\n  certificate: " + dir.resolve("cert.pem") + "\n  privateKey: " + dir.resolve("key.pem");
        String base = ClusterYaml.forBed("tls", bed).with("tables:\n  t_kv:\n    group: g0\n").text();
        optional = new ProxyServer(ClusterConfigLoader.parse(base + ClusterYaml.proxySection("tl", "tl_pw", true, tls),
                System::getenv)).start();
        required = new ProxyServer(ClusterConfigLoader.parse(base + ClusterYaml.proxySection("tl", "tl_pw", true,
                tls + "\n  required: true"), System::getenv)).start();
    }

    @AfterAll
    static void stop() {
        if (optional != null) {
            optional.close();
        }
        if (required != null) {
            required.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    static String[] cli(int port, String... extra) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("mariadb", "--no-defaults", "--protocol=tcp",
                "-h127.0.0.1", "-P" + port, "-utl", "-ptl_pw", "--batch"));
        cmd.addAll(java.util.List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String[]{Integer.toString(p.exitValue()), out};
    }

    @Test
    void mariadbCliOverTls() throws Exception {
        String[] r = cli(optional.port(), "--ssl", "-e", "\\s");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("Cipher in use"), r[1]);
        r = cli(optional.port(), "--skip-ssl", "-e", "SELECT 40 + 2 AS answer");
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("answer\n42"), r[1]);
    }

    @Test
    void jdbcClientsOverTlsWithBothPasswordMethods() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + required.port() + "/" + bed.database()
                + "?sslMode=REQUIRED&defaultAuthenticationPlugin=caching_sha2_password", "tl", "tl_pw");
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 7")) {
            assertTrue(rs.next());
            assertEquals(7, rs.getInt(1));
        }
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + required.port() + "/" + bed.database()
                + "?sslMode=trust", "tl", "tl_pw"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 8")) {
            assertTrue(rs.next());
            assertEquals(8, rs.getInt(1));
        }
    }

    @Test
    void requiredTlsRefusesPlainClients() {
        SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:mysql://127.0.0.1:"
                + required.port() + "/?sslMode=DISABLED&allowPublicKeyRetrieval=true", "tl", "tl_pw"));
        assertEquals(3159, e.getErrorCode(), e.getMessage());
    }
}
