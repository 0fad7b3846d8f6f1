package dev.ballast.rules;

/** A column whose value Ballast generates when an INSERT leaves it out. */
public record KeyGeneratorSpec(String column, Type type) {

    public enum Type {
        /** 64-bit time-ordered ids (41 bits ms, 10 bits worker, 12 bits sequence). */
        SNOWFLAKE,
        /** random UUID strings. */
        UUID
    }
}
