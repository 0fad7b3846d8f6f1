package dev.ballast.failover;

import dev.ballast.replication.NodeProbe;
import dev.ballast.replication.ReplicaThreads;
import dev.ballast.rules.NodeAddress;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Derives, for each replica, how long it has received nothing from its master (heartbeats included), from the receive
 * marks of one monitor's successive probes: the servers report counters and positions, not the time of the last
 * receipt (MariaDB 10.11 has no such column). The silence is counted from the first probe that saw the current mark,
 * which is after the receipt: it is never overstated, and understated by at most one probe interval. The first probe
 * of a replica, and the first after it was pointed at another master, leave it unknown (-1).
 *
 * <p>State across probe rounds lives here, in the monitor, so that {@link dev.ballast.failover.analysis.Analysis} stays a
 * pure function of the probes. Thread-safe; one instance per monitor.
 */
final class ReceiveClock {

    private record Seen(NodeAddress master, String mark, long sinceMillis) {
    }

    private final Map<NodeAddress, Seen> seen = new HashMap<>();

    /** The probe with its replica view's {@code silentMs} filled in; other probes unchanged. */
    synchronized NodeProbe stamp(NodeProbe p) {
        if (!p.reachable()) {
            return p;   // says nothing about what the replica received
        }
        Optional<ReplicaThreads> replication = p.replication();
        if (replication.isEmpty() || replication.get().receiveMark().isEmpty()) {
            seen.remove(p.node());
            return p;
        }
        ReplicaThreads r = replication.get();
        Seen before = seen.get(p.node());
        if (before == null || !before.master().equals(r.master())) {
            seen.put(p.node(), new Seen(r.master(), r.receiveMark(), p.probedAtMillis()));
            return p;
        }
        if (!before.mark().equals(r.receiveMark())) {
            seen.put(p.node(), new Seen(r.master(), r.receiveMark(), p.probedAtMillis()));
            return p.withReplication(Optional.of(r.withSilentMs(0)));
        }
        return p.withReplication(Optional.of(r.withSilentMs(Math.max(0, p.probedAtMillis() - before.sinceMillis()))));
    }
}
