package dev.ballast.it.testbed;

import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The data directory every node starts from: {@code mariadb-install-db} runs once per JVM (about 2 s), with the
 * users of {@link TestBedUsers}; each node then gets a copy (26 MB, a few tens of ms).
 */
final class Template {

    /** InnoDB file sizes: fixed when the data directory is created, so the nodes are started with the same ones. */
    static final List<String> INNODB_FILES = List.of(
            "--innodb-log-file-size=8M",
            "--innodb-data-file-path=ibdata1:12M:autoextend");

    private static Path dir;

    private Template() {
    }

    static synchronized Path dataDir(MariaDbBinaries binaries) {
        if (dir == null) {
            long t0 = System.nanoTime();
            dir = create(binaries, Janitor.root().resolve("template"));
            LoggerFactory.getLogger(Template.class).info("template data directory {} created in {} ms", dir,
                    (System.nanoTime() - t0) / 1_000_000);
        }
        return dir;
    }

    private static Path create(MariaDbBinaries binaries, Path target) {
        Path bootstrap = target.resolveSibling("template-users.sql");
        Path log = target.resolveSibling("template-install.log");
        List<String> command = new ArrayList<>(List.of(binaries.installDb().toString(), "--no-defaults"));
        binaries.baseDir().ifPresent(base -> command.add("--basedir=" + base));
        command.add("--datadir=" + target);
        if (Os.runningAsRoot()) {
            command.add("--user=root");
        }
        command.addAll(List.of("--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve",
                "--extra-file=" + bootstrap, "--innodb-buffer-pool-size=32M"));
        command.addAll(INNODB_FILES);
        try {
            Files.writeString(bootstrap, TestBedUsers.bootstrapSql());
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within 120 s; its output "
                        + log + " ends with:\n" + Os.tail(log, 30));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed with exit code " + p.exitValue()
                        + "; its output " + log + " ends with:\n" + Os.tail(log, 30));
            }
            return target;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + binaries.installDb() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the template data directory", e);
        }
    }

    /** Copies the template into {@code target}, which must not exist yet. */
    static void copyTo(MariaDbBinaries binaries, Path target) {
        Path source = dataDir(binaries);
        try {
            Files.walkFileTree(source, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    Files.createDirectories(target.resolve(source.relativize(d)));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    Files.copy(f, target.resolve(source.relativize(f)));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy the template data directory " + source + " to " + target + ": "
                    + e.getMessage(), e);
        }
    }
}
