package dev.ballast.it.testbed;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Owns the JVM's test-bed directory ({@code java.io.tmpdir/ballast-testbed-<pid>-<n>}) and makes sure nothing
 * outlives the JVM: a shutdown hook kills every server process still running and deletes the directory.
 *
 * <p>A JVM that is itself killed ({@code kill -9}, a build timeout) runs no hook. The next JVM that starts a test
 * bed looks for such leftovers: a {@code ballast-testbed-*} directory whose owner JVM (PID and start time in its
 * {@code owner} file) is gone. It deletes the directory when no server runs on it any more; servers that still
 * run there were started by another JVM, so it does not kill them: it logs their PIDs and how to stop them.
 */
final class Janitor {

    private static final Logger log = LoggerFactory.getLogger(Janitor.class);
    private static final String PREFIX = "ballast-testbed-";
    private static final String OWNER_FILE = "owner";

    private static final Set<Runnable> onExit = ConcurrentHashMap.newKeySet();
    private static Path root;

    private Janitor() {
    }

    /** This JVM's directory, created (with the shutdown hook) on first use. */
    static synchronized Path root() {
        if (root == null) {
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            reapStale(tmp);
            try {
                Path dir = Files.createTempDirectory(tmp, PREFIX + ProcessHandle.current().pid() + "-");
                Files.writeString(dir.resolve(OWNER_FILE), ownerLine(ProcessHandle.current()));
                root = dir;
            } catch (IOException e) {
                throw new IllegalStateException("cannot create the test-bed directory in " + tmp + ": " + e.getMessage(), e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(Janitor::shutdown, "ballast-testbed-janitor"));
        }
        return root;
    }

    /** Registers an action for the shutdown hook (killing one process); removed again with {@link #forget}. */
    static void atExit(Runnable action) {
        onExit.add(action);
    }

    static void forget(Runnable action) {
        onExit.remove(action);
    }

    private static void shutdown() {
        for (Runnable action : List.copyOf(onExit)) {
            try {
                action.run();
            } catch (RuntimeException e) {
                System.err.println("ballast test bed: cleanup at exit failed: " + e);
            }
        }
        Path dir;
        synchronized (Janitor.class) {
            dir = root;
        }
        if (dir != null) {
            try {
                Os.deleteTree(dir);
            } catch (IOException e) {
                System.err.println("ballast test bed: cannot delete " + dir + ": " + e.getMessage());
            }
        }
    }

    private static String ownerLine(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    private static void reapStale(Path tmp) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER_FILE);
                if (!Files.isRegularFile(owner) || ownerAlive(Files.readString(owner).trim())) {
                    continue;
                }
                List<Long> live = liveServersIn(dir);
                if (live.isEmpty()) {
                    log.warn("removing a test bed left behind by a JVM that is gone: {}", dir);
                    Os.deleteTree(dir);
                } else {
                    log.warn("a test bed left behind by a JVM that is gone still runs servers {} in {}; this JVM did not "
                            + "start them and leaves them alone: stop them with kill -9 <pid> and delete the directory", live, dir);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.warn("could not reap old test beds in {}: {}", tmp, e.toString());
        }
    }

    private static boolean ownerAlive(String line) {
        String[] parts = line.split(" ");
        try {
            long pid = Long.parseLong(parts[0]);
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            return handle.isPresent() && handle.get().isAlive() && (parts.length < 2 || ownerLine(handle.get()).equals(line));
        } catch (NumberFormatException e) {
            return true; // not ours to judge
        }
    }

    private static List<Long> liveServersIn(Path dir) throws IOException {
        List<Path> pidFiles;
        try (Stream<Path> walk = Files.walk(dir, 3)) {
            pidFiles = walk.filter(p -> p.getFileName().toString().equals(MariaDbNode.PID_FILE)).toList();
        }
        List<Long> live = new java.util.ArrayList<>();
        for (Path pidFile : pidFiles) {
            long pid;
            try {
                pid = Long.parseLong(new String(Files.readAllBytes(pidFile), StandardCharsets.UTF_8).trim());
            } catch (IOException | NumberFormatException e) {
                continue;
            }
            // the PID may have been reused: only a process that runs on this very data directory counts
            if (!Os.isDead(pid) && Os.commandLine(pid).contains("--datadir=" + pidFile.getParent() + " ")) {
                live.add(pid);
            }
        }
        return live;
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
