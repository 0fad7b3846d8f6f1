package dev.ballast.replication;

import dev.ballast.rules.Flavour;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A MySQL GTID set. Keys are the source uuid (lower case), or {@code uuid:tag} for tagged GTIDs; each maps to its
 * transaction numbers as sorted, merged, inclusive intervals, so equal sets are equal records.
 */
record MySqlGtidSet(Map<String, List<Interval>> members) implements Position {

    static final MySqlGtidSet EMPTY = new MySqlGtidSet(Map.of());

    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern TAG = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,31}");
    private static final int UUID_LENGTH = 36;

    /** Transaction numbers {@code start..end}, both included, {@code 1 <= start <= end}. */
    record Interval(long start, long end) {
        @Override
        public String toString() {
            return start == end ? Long.toString(start) : start + "-" + end;
        }
    }

    MySqlGtidSet {
        TreeMap<String, List<Interval>> copy = new TreeMap<>();
        members.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        members = Collections.unmodifiableMap(copy);
    }

    static MySqlGtidSet parse(String text) {
        if (text == null || text.isBlank()) {
            return EMPTY;
        }
        String compact = text.replaceAll("\\s+", "");
        Map<String, List<Interval>> members = new TreeMap<>();
        for (String element : compact.split(",", -1)) {
            String[] parts = element.split(":", -1);
            if (!UUID.matcher(parts[0]).matches()) {
                throw malformed(text, "'" + Texts.clip(element) + "' does not start with a uuid like 3e11fa47-71ca-11e1-9e33-c80aa9429562");
            }
            String key = parts[0].toLowerCase(Locale.ROOT);
            boolean needsInterval = true;
            boolean afterTag = false;
            for (int i = 1; i < parts.length; i++) {
                String part = parts[i];
                if (!part.isEmpty() && Character.isDigit(part.charAt(0))) {
                    members.computeIfAbsent(key, k -> new ArrayList<>()).add(interval(text, element, part));
                    needsInterval = false;
                    afterTag = false;
                } else if (TAG.matcher(part).matches() && !afterTag) {
                    key = parts[0].toLowerCase(Locale.ROOT) + ":" + part.toLowerCase(Locale.ROOT);
                    needsInterval = true;
                    afterTag = true;
                } else {
                    throw malformed(text, "'" + Texts.clip(element) + "': '" + part + "' is neither an interval (n or n-m) nor a tag"
                            + (afterTag ? " (a tag must be followed by an interval)" : ""));
                }
            }
            if (needsInterval) {
                throw malformed(text, "'" + Texts.clip(element) + "' has no transaction numbers after '" + parts[parts.length - 1] + "'");
            }
        }
        members.replaceAll((k, v) -> merge(v));
        return new MySqlGtidSet(members);
    }

    private static Interval interval(String text, String element, String part) {
        int dash = part.indexOf('-');
        String from = dash < 0 ? part : part.substring(0, dash);
        String to = dash < 0 ? part : part.substring(dash + 1);
        if (!Texts.digits(from) || !Texts.digits(to)) {
            throw malformed(text, "'" + Texts.clip(element) + "': '" + part + "' is not n or n-m");
        }
        try {
            long start = Long.parseLong(from);
            long end = Long.parseLong(to);
            if (start < 1 || end < start || end == Long.MAX_VALUE) {
                throw malformed(text, "'" + Texts.clip(element) + "': interval '" + part + "' must satisfy 1 <= n <= m < 2^63-1");
            }
            return new Interval(start, end);
        } catch (NumberFormatException e) {
            throw malformed(text, "'" + Texts.clip(element) + "': '" + part + "' is out of range");
        }
    }

    private static List<Interval> merge(List<Interval> intervals) {
        List<Interval> sorted = new ArrayList<>(intervals);
        sorted.sort(Comparator.comparingLong(Interval::start));
        List<Interval> merged = new ArrayList<>();
        for (Interval next : sorted) {
            Interval last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && next.start() <= last.end() + 1) {
                merged.set(merged.size() - 1, new Interval(last.start(), Math.max(last.end(), next.end())));
            } else {
                merged.add(next);
            }
        }
        return merged;
    }

    private static IllegalArgumentException malformed(String text, String why) {
        return new IllegalArgumentException("not a MySQL GTID set: '" + Texts.clip(text) + "': " + why
                + "; expected e.g. '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9'");
    }

    @Override
    public Flavour flavour() {
        return Flavour.MYSQL;
    }

    @Override
    public boolean isEmpty() {
        return members.isEmpty();
    }

    @Override
    public boolean covers(Position other) {
        if (!(other instanceof MySqlGtidSet o)) {
            throw Texts.flavourMismatch(this, other);
        }
        for (Map.Entry<String, List<Interval>> theirs : o.members.entrySet()) {
            List<Interval> mine = members.get(theirs.getKey());
            if (mine == null || !contains(mine, theirs.getValue())) {
                return false;
            }
        }
        return true;
    }

    /** Both lists sorted and merged: each of {@code theirs} must lie inside one of {@code mine}. */
    private static boolean contains(List<Interval> mine, List<Interval> theirs) {
        int i = 0;
        for (Interval t : theirs) {
            while (i < mine.size() && mine.get(i).end() < t.start()) {
                i++;
            }
            if (i == mine.size() || mine.get(i).start() > t.start() || mine.get(i).end() < t.end()) {
                return false;
            }
        }
        return true;
    }

    /** MySQL's own form: {@code uuid:1-5:7-9,uuid2:1-3}, tagged members as {@code uuid:1-5:tag:1-3}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        String uuid = null;
        for (Map.Entry<String, List<Interval>> member : members.entrySet()) {
            String key = member.getKey();
            String memberUuid = key.substring(0, UUID_LENGTH);
            if (!memberUuid.equals(uuid)) {
                if (uuid != null) {
                    s.append(',');
                }
                s.append(memberUuid);
                uuid = memberUuid;
            }
            if (key.length() > UUID_LENGTH) {
                s.append(key, UUID_LENGTH, key.length());
            }
            for (Interval interval : member.getValue()) {
                s.append(':').append(interval);
            }
        }
        return s.toString();
    }
}
