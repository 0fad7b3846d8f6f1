package dev.ballast.it.keys;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;

/**
 * One application process of the multi-process key test: opens {@code jdbc:ballast:<config>}, says it is ready
 * ({@code ready-<n>} in the directory), waits for {@code go}, then inserts {@code rows} rows into {@code t_key} leaving
 * the generated key out, in batches, and exits. Stops by itself after {@code deadlineSeconds}.
 *
 * <p>Arguments: url, process number, rows, directory, deadline in seconds.
 */
public final class KeyWriter {

    private KeyWriter() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int n = Integer.parseInt(args[1]);
        int rows = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        long deadlineSeconds = Long.parseLong(args[4]);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(deadlineSeconds * 1_000);
                System.err.println("writer " + n + ": deadline of " + deadlineSeconds + " s passed; exiting");
                Runtime.getRuntime().halt(3);
            } catch (InterruptedException ignored) {
                // done in time
            }
        }, "deadline");
        watchdog.setDaemon(true);
        watchdog.start();
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("INSERT INTO t_key (user_id, writer) VALUES (?, ?)")) {
            Files.writeString(dir.resolve("ready-" + n), "ready");
            while (!Files.exists(dir.resolve("go"))) {
                Thread.sleep(2);
            }
            for (int i = 0; i < rows; i++) {
                ps.setInt(1, n * 1_000_000 + i);
                ps.setInt(2, n);
                ps.addBatch();
                if (i % 100 == 99) {
                    ps.executeBatch();
                }
            }
            ps.executeBatch();
        }
        System.out.println("writer " + n + ": inserted " + rows + " rows");
        System.exit(0); // the driver's shutdown hook closes the data source, which releases the lease
    }
}
