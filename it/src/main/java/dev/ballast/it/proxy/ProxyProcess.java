package dev.ballast.it.proxy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Ballast proxy as its own JVM ({@code ballast proxy --config FILE}, as {@code bin/ballast-proxy} runs it), so that a
 * test can {@code kill -9} it for real. Output goes to a log file; stopped by its PID only.
 */
public final class ProxyProcess implements AutoCloseable {

    private final Path config;
    private final Path log;
    private Process process;

    private ProxyProcess(Path config, Path log) {
        this.config = config;
        this.log = log;
    }

    /** Starts {@code ballast proxy --config config}; returns once it prints that it listens (at most {@code timeout}). */
    public static ProxyProcess start(Path config, Path log, long timeoutMs) throws IOException, InterruptedException {
        ProxyProcess p = new ProxyProcess(config, log);
        p.restart(timeoutMs);
        return p;
    }

    /** Starts the process again (after {@link #kill9()} or {@link #terminate}); returns once it listens. */
    public void restart(long timeoutMs) throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("proxy " + config + " still runs as PID " + process.pid());
        }
        Files.deleteIfExists(log);
        Files.createFile(log);
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "dev.ballast.cli.BallastCli", "proxy", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!Files.readString(log).contains("listening on")) {
            if (!process.isAlive()) {
                throw new IllegalStateException("proxy " + config + " exited with " + process.exitValue() + ":\n" + tail());
            }
            if (System.nanoTime() > deadline) {
                kill9();
                throw new IllegalStateException("proxy " + config + " did not listen within " + timeoutMs + " ms:\n" + tail());
            }
            Thread.sleep(50);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL to this process's PID; returns once it is gone. */
    public void kill9() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** SIGTERM to this process's PID; true when it exited within {@code timeoutMs}. */
    public boolean terminate(long timeoutMs) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS);
    }

    public int exitValue() {
        return process.exitValue();
    }

    /** The last 40 lines of its log. */
    public String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log " + log + ": " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill9();
    }
}
