package dev.ballast.upgrade.server;

import dev.ballast.rules.NodeAddress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the operator's commands ({@code upgrade.stopCommand} ...) with {@code /bin/sh -c}, bounded in time. The
 * output goes to a file, not a pipe, so a command that starts a server in the background returns when the shell does
 * (a pipe would stay open as long as the server holds it). Shared by the MariaDB upgrade and the MongoDB one
 * ({@code dev.ballast.upgrade.mongo}).
 */
public final class Shell {

    /** How a command ended: its exit status and the last lines of its output. */
    public record Outcome(int exitStatus, String tail) {
    }

    private Shell() {
    }

    /**
     * @throws IllegalStateException naming the command, the node, the status or the timeout, and the output's tail
     */
    public static Outcome run(String what, String command, NodeAddress node, String version, long timeoutMs)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("ballast-upgrade-", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command);
            pb.redirectErrorStream(true);
            pb.redirectOutput(out.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            Map<String, String> env = pb.environment();
            env.put("BALLAST_HOST", node.host());
            env.put("BALLAST_PORT", Integer.toString(node.port()));
            env.put("BALLAST_NODE", node.toString());
            env.put("BALLAST_VERSION", version);
            Process p = pb.start();
            if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IllegalStateException(what + " for " + node + " did not finish within upgrade.commandTimeoutMs="
                        + timeoutMs + " ms and was killed: '" + command + "'" + tail(out));
            }
            String tail = tailText(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(what + " for " + node + " exited with status " + p.exitValue() + ": '"
                        + command + "'" + (tail.isEmpty() ? "" : "; output: " + tail));
            }
            return new Outcome(0, tail);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String tail(Path out) {
        String t = tailText(out);
        return t.isEmpty() ? "" : "; output: " + t;
    }

    /** The last 600 characters of the output, on one line. */
    private static String tailText(Path out) {
        try {
            String s = Files.readString(out, StandardCharsets.UTF_8).strip();
            if (s.length() > 600) {
                s = "..." + s.substring(s.length() - 600);
            }
            return s.replace('\n', ' ').replace('\r', ' ');
        } catch (IOException e) {
            return "";
        }
    }
}
