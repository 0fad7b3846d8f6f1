package dev.ballast.replication;

import dev.ballast.rules.Flavour;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A MariaDB GTID position: one {@code domain-server-seq} per domain, sorted by domain. */
record MariaDbPosition(List<Gtid> gtids) implements Position {

    static final MariaDbPosition EMPTY = new MariaDbPosition(List.of());

    private static final long MAX_U32 = 0xFFFF_FFFFL;

    /** One GTID; {@code seq} is an unsigned 64-bit number. */
    record Gtid(long domain, long server, long seq) {
        @Override
        public String toString() {
            return domain + "-" + server + "-" + Long.toUnsignedString(seq);
        }
    }

    MariaDbPosition {
        gtids = List.copyOf(gtids);
    }

    static MariaDbPosition parse(String text) {
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        List<Gtid> gtids = new ArrayList<>();
        for (String element : text.split(",", -1)) {
            Gtid gtid = gtid(text, element.strip());
            for (Gtid seen : gtids) {
                if (seen.domain() == gtid.domain()) {
                    throw malformed(text, "domain " + gtid.domain() + " appears twice (a position has one GTID per domain)");
                }
            }
            gtids.add(gtid);
        }
        gtids.sort(Comparator.comparingLong(Gtid::domain));
        return new MariaDbPosition(gtids);
    }

    private static Gtid gtid(String text, String element) {
        String[] parts = element.split("-", -1);
        if (parts.length != 3 || !Texts.digits(parts[0]) || !Texts.digits(parts[1]) || !Texts.digits(parts[2])) {
            throw malformed(text, "'" + Texts.clip(element) + "' is not domain-server-seq (three whole numbers)");
        }
        try {
            long domain = Long.parseLong(parts[0]);
            long server = Long.parseLong(parts[1]);
            long seq = Long.parseUnsignedLong(parts[2]);
            if (domain > MAX_U32 || server > MAX_U32) {
                throw new NumberFormatException();
            }
            return new Gtid(domain, server, seq);
        } catch (NumberFormatException e) {
            throw malformed(text, "'" + Texts.clip(element) + "' is out of range (domain and server id: 32 bits, seq: 64 bits)");
        }
    }

    private static IllegalArgumentException malformed(String text, String why) {
        return new IllegalArgumentException("not a MariaDB GTID position: '" + Texts.clip(text) + "': " + why
                + "; expected e.g. '0-1-12' or '0-1-12,1-2-5'");
    }

    @Override
    public Flavour flavour() {
        return Flavour.MARIADB;
    }

    @Override
    public boolean isEmpty() {
        return gtids.isEmpty();
    }

    @Override
    public boolean covers(Position other) {
        if (!(other instanceof MariaDbPosition o)) {
            throw Texts.flavourMismatch(this, other);
        }
        for (Gtid theirs : o.gtids) {
            if (Long.compareUnsigned(seq(theirs.domain()), theirs.seq()) < 0) {
                return false;
            }
        }
        return true;
    }

    /** This position's sequence number in {@code domain}; 0 when the domain is absent. */
    private long seq(long domain) {
        for (Gtid mine : gtids) {
            if (mine.domain() == domain) {
                return mine.seq();
            }
        }
        return 0;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (Gtid g : gtids) {
            if (!s.isEmpty()) {
                s.append(',');
            }
            s.append(g);
        }
        return s.toString();
    }
}
