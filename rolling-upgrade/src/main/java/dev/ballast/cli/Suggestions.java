package dev.ballast.cli;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The valid name closest to a misspelt one. picocli's own suggestions compare bigrams case-sensitively and find
 * nothing for {@code --To}; an operator's typo is usually a case slip or one or two letters off.
 */
final class Suggestions {

    private Suggestions() {
    }

    /** The closest of {@code valid} to {@code typed}, ignoring case, if it is close enough to be what was meant. */
    static Optional<String> closest(String typed, Collection<String> valid) {
        String t = typed.toLowerCase(Locale.ROOT);
        int eq = t.indexOf('=');
        if (eq > 0) {
            t = t.substring(0, eq); // --To=x
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String v : valid) {
            int d = distance(t, v.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = v;
                bestDistance = d;
            }
        }
        int stripped = t.replaceFirst("^-+", "").length();
        return best != null && bestDistance <= Math.min(3, 1 + stripped / 4) ? Optional.of(best) : Optional.empty();
    }

    /** Edit distance counting a swap of two neighbouring letters as one edit (optimal string alignment). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
