package dev.ballast.it.proxy;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sample configuration moved to a test's ports: only addresses change, every other line stays as written. */
class HaproxyFrontTest {

    @Test
    void theSampleKeepsItsSettingsAndGetsTheTestsPortsAndAStatsSocket() throws Exception {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (!Files.exists(dir.resolve("samples/haproxy/haproxy.cfg"))) {
            dir = dir.getParent();
        }
        String sample = Files.readString(dir.resolve("samples/haproxy/haproxy.cfg"));
        String moved = HaproxyFront.adapt(sample, 4000, List.of(new HaproxyFront.Backend("proxy1", 4001, 4002),
                new HaproxyFront.Backend("proxy2", 4003, 4004)), Path.of("/tmp/x/stats.sock"));
        assertTrue(moved.contains("bind 127.0.0.1:4000 name mysql"), moved);
        assertTrue(moved.contains("server proxy1 127.0.0.1:4001 check port 4002"), moved);
        assertTrue(moved.contains("server proxy2 127.0.0.1:4003 check port 4004"), moved);
        assertTrue(moved.contains("global\n    stats socket /tmp/x/stats.sock mode 600 level admin"), moved);
        assertEquals(sample.lines().filter(l -> !l.contains("bind ") && !l.contains("server ")).toList(),
                moved.lines().filter(l -> !l.contains("bind ") && !l.contains("server ") && !l.contains("stats socket")).toList());
    }

    @Test
    void aServerTheConfigurationDoesNotNameIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HaproxyFront.adapt(
                "global\nfrontend f\n    bind 127.0.0.1:1 name x\nbackend b\n    server a 127.0.0.1:2 check port 3\n", 5,
                List.of(new HaproxyFront.Backend("proxy9", 6, 7)), Path.of("/tmp/s")));
        assertTrue(e.getMessage().contains("server proxy9"), e.getMessage());
    }
}
