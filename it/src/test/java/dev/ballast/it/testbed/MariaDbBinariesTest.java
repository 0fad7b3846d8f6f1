package dev.ballast.it.testbed;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 10, unit = TimeUnit.SECONDS)
class MariaDbBinariesTest {

    @Test
    void homeWithoutBinariesIsAnErrorThatNamesTheFix(@TempDir Path empty) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MariaDbBinaries.locate(Map.of(MariaDbBinaries.HOME_VARIABLE, empty.toString(), "PATH", "/usr/sbin:/usr/bin")));
        assertTrue(e.getMessage().contains("BALLAST_MARIADB_HOME=" + empty), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install -y mariadb-server"), e.getMessage());
    }

    @Test
    void homeWithTarballLayoutFindsInstallDbInScripts(@TempDir Path home) throws IOException {
        Path server = executable(home.resolve("bin/mariadbd"));
        Path installDb = executable(home.resolve("scripts/mariadb-install-db"));
        MariaDbBinaries b = MariaDbBinaries.locate(Map.of(MariaDbBinaries.HOME_VARIABLE, home.toString()));
        assertEquals(server, b.mariadbd());
        assertEquals(installDb, b.installDb());
        assertEquals(home, b.baseDir().orElseThrow());
    }

    @Test
    void pathComesBeforeTheDebianDirectories(@TempDir Path dir) throws IOException {
        Path server = executable(dir.resolve("mariadbd"));
        Path installDb = executable(dir.resolve("mariadb-install-db"));
        MariaDbBinaries b = MariaDbBinaries.locate(Map.of("PATH", dir.toString()));
        assertEquals(server, b.mariadbd());
        assertEquals(installDb, b.installDb());
    }

    @Test
    void badSpecIsRefusedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestBed.Spec.of(1, 1).withDatabase("no-dash"));
        assertTrue(e.getMessage().contains("'no-dash'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TestBed.Spec.of(-1, 0));
    }

    private static Path executable(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }
}
