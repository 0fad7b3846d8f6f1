package dev.ballast.replication;

import dev.ballast.rules.Flavour;

/**
 * A replication position: what a server has written (a master) or applied (a replica). Immutable; equal positions
 * are {@code equals}; {@link #toString()} is the canonical text, which {@link #parse} reads back.
 *
 * <ul>
 *   <li>MariaDB: a comma-separated list of GTIDs {@code domain-server-seq}, one per replication domain, as in
 *       {@code @@gtid_binlog_pos} or {@code @@gtid_slave_pos}. Sequence numbers grow per domain whichever server
 *       wrote them, so the server id is kept for display but ignored by {@link #covers}.</li>
 *   <li>MySQL: a GTID set {@code uuid:1-5:7-9,uuid2:1-3} as in {@code @@gtid_executed} (whitespace and newlines
 *       allowed; MySQL 8.3 tags {@code uuid:tag:1-3} too).</li>
 * </ul>
 *
 * <p>Positions of the two flavours cannot be compared. A position says nothing about <em>when</em> the data was
 * written; {@link LagTracker} adds the time.
 */
public sealed interface Position permits MariaDbPosition, MySqlGtidSet {

    /**
     * Parses a position as the server shows it; blank text is the empty position.
     *
     * @throws IllegalArgumentException naming the text and what is wrong with it
     */
    static Position parse(Flavour flavour, String text) {
        return switch (flavour) {
            case MARIADB -> MariaDbPosition.parse(text);
            case MYSQL -> MySqlGtidSet.parse(text);
        };
    }

    /** The position of a server that has written or applied nothing. */
    static Position empty(Flavour flavour) {
        return switch (flavour) {
            case MARIADB -> MariaDbPosition.EMPTY;
            case MYSQL -> MySqlGtidSet.EMPTY;
        };
    }

    Flavour flavour();

    boolean isEmpty();

    /**
     * Whether a server at this position has everything a server at {@code other} has. MariaDB: for every domain of
     * {@code other}, this position's sequence number in that domain is at least as high (a domain missing here
     * counts as sequence 0). MySQL: {@code other} is a subset of this set. Every position covers itself and the
     * empty position.
     *
     * @throws IllegalArgumentException if {@code other} is of the other flavour
     */
    boolean covers(Position other);
}
