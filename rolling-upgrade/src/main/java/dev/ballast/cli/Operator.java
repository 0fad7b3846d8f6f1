package dev.ballast.cli;

/** Who the audit log names for a change made from the CLI. */
final class Operator {

    private Operator() {
    }

    static String name() {
        return System.getProperty("user.name", "operator") + "@cli";
    }
}
