package dev.ballast.replication;

/** Message helpers shared by the position parsers, the dialects and the probes. */
public final class Texts {

    private static final int MAX_QUOTED = 200;

    private Texts() {
    }

    /** The text as it is, cut at 200 characters (a GTID set with many servers can be long). */
    public static String clip(String text) {
        return text.length() <= MAX_QUOTED ? text : text.substring(0, MAX_QUOTED) + "...(" + text.length() + " chars)";
    }

    /** The first line of a driver message, with its SQLSTATE and error code: enough to tell what failed. */
    public static String brief(java.sql.SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int newline = message.indexOf('\n');
        if (newline > 0) {
            message = message.substring(0, newline).strip();
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message = message + ": " + root.getMessage(); // e.g. "Communications link failure: Read timed out"
        }
        return message + " (SQLSTATE " + e.getSQLState() + ", error " + e.getErrorCode() + ")";
    }

    /** One or more ASCII digits (no sign: {@code Long.parseLong} would take {@code +5}). */
    static boolean digits(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    public static IllegalArgumentException flavourMismatch(Position mine, Position other) {
        return new IllegalArgumentException("cannot compare a " + mine.flavour().configName() + " position ('"
                + clip(mine.toString()) + "') with a " + other.flavour().configName() + " position ('"
                + clip(other.toString()) + "'); check groups.<g>.flavour");
    }
}
