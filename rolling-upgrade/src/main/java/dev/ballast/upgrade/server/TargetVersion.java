package dev.ballast.upgrade.server;

import dev.ballast.replication.ServerVersion;

import java.util.List;

/**
 * The version an upgrade goes to, as the operator writes it: {@code 11.4} or {@code 11.4.5}. A server is at the target
 * when its version starts with the target's numbers ({@code 11.4.5-MariaDB} is at {@code 11.4}); it is newer when
 * those numbers compare higher ({@code 11.4.6} against {@code 11.4.5}, {@code 11.8.1} against {@code 11.4}).
 */
public record TargetVersion(String text, List<Integer> numbers) {

    public TargetVersion {
        numbers = List.copyOf(numbers);
    }

    /**
     * @throws IllegalArgumentException when {@code text} is not one to three dotted numbers
     */
    public static TargetVersion parse(String text) {
        if (text == null || !text.trim().matches("\\d{1,5}(\\.\\d{1,5}){0,2}")) {
            throw new IllegalArgumentException("'" + text + "' is not a server version such as 11.4 or 11.4.5");
        }
        ServerVersion v = ServerVersion.parse(text.trim()).orElseThrow();
        return new TargetVersion(v.number(), v.numbers());
    }

    /** Compares {@code server}'s first numbers with the target's: negative older, 0 at the target, positive newer. */
    public int compare(ServerVersion server) {
        for (int i = 0; i < numbers.size(); i++) {
            int a = i < server.numbers().size() ? server.numbers().get(i) : 0;
            int b = numbers.get(i);
            if (a != b) {
                return Integer.compare(a, b);
            }
        }
        return 0;
    }

    public boolean reachedBy(ServerVersion server) {
        return compare(server) == 0;
    }

    @Override
    public String toString() {
        return text;
    }
}
