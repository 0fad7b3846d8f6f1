package dev.ballast.failover.model;

import java.util.Locale;

/** How willing a node is to become master; set per node in the config's {@code failover.promotion} map. */
public enum PromotionRule {
    /** Chosen over neutral nodes that are equally advanced. */
    PREFER,
    /** The default. */
    NEUTRAL,
    /** Chosen only when no neutral or preferred node is as advanced. */
    PREFER_NOT,
    /** Never promoted (e.g. a delayed or backup replica). */
    MUST_NOT;

    /** Reads {@code prefer}, {@code neutral}, {@code prefer_not} / {@code prefer-not}, {@code must_not} / {@code must-not}. */
    public static PromotionRule parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return valueOf(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + text + "' is not one of prefer, neutral, prefer_not, must_not");
        }
    }
}
