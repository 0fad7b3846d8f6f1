package dev.ballast.replication;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A server's version as {@code SELECT VERSION()} reports it ({@code 10.11.6-MariaDB-0+deb12u1-log},
 * {@code 11.4.5-MariaDB}, {@code 8.0.36}), compared numerically on its leading dotted numbers: 10.11.6 &lt; 11.4.5, and
 * 10.9 &lt; 10.11 (not as text). Only the numbers before the first character that is neither digit nor dot count; the
 * distribution suffix is kept for display.
 *
 * @param text    the whole text the server reported
 * @param numbers its leading dotted numbers, at least one
 */
public record ServerVersion(String text, List<Integer> numbers) implements Comparable<ServerVersion> {

    public ServerVersion {
        numbers = List.copyOf(numbers);
        if (numbers.isEmpty()) {
            throw new IllegalArgumentException("server version '" + text + "' has no number");
        }
    }

    /** The version in {@code text}; empty when it is blank or does not start with a number (unknown). */
    public static Optional<ServerVersion> parse(String text) {
        if (text == null || text.isBlank()) {
            return Optional.empty();
        }
        String t = text.trim();
        List<Integer> numbers = new ArrayList<>();
        int i = 0;
        while (i < t.length()) {
            int start = i;
            while (i < t.length() && Character.isDigit(t.charAt(i))) {
                i++;
            }
            if (i == start || i - start > 9) {
                break;
            }
            numbers.add(Integer.parseInt(t.substring(start, i)));
            if (i < t.length() && t.charAt(i) == '.') {
                i++;
            } else {
                break;
            }
        }
        return numbers.isEmpty() ? Optional.empty() : Optional.of(new ServerVersion(t, numbers));
    }

    /** Numeric order of the dotted numbers; a missing number counts as 0 (11.4 = 11.4.0). */
    @Override
    public int compareTo(ServerVersion o) {
        int n = Math.max(numbers.size(), o.numbers.size());
        for (int i = 0; i < n; i++) {
            int a = i < numbers.size() ? numbers.get(i) : 0;
            int b = i < o.numbers.size() ? o.numbers.get(i) : 0;
            if (a != b) {
                return Integer.compare(a, b);
            }
        }
        return 0;
    }

    public boolean olderThan(ServerVersion o) {
        return compareTo(o) < 0;
    }

    /** The dotted numbers alone, e.g. {@code 11.4.5}. */
    public String number() {
        StringBuilder b = new StringBuilder();
        for (int x : numbers) {
            b.append(b.length() == 0 ? "" : ".").append(x);
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return text;
    }
}
