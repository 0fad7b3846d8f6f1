package dev.ballast.upgrade;

import dev.ballast.replication.Documents;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A planned change of a cluster as an ordered list of {@link Step}s, stored in ZooKeeper by {@link OperationStore}.
 * {@code reason} says why the operation is {@code PAUSED} or {@code ABORTED} (empty otherwise).
 */
public record Operation(String id, String kind, String cluster, String createdBy, long createdAtMs, State state,
                        String reason, List<Step> steps) {

    /**
     * PENDING: created, never run. RUNNING: a runner is at it, or was when it died ({@code resume} continues).
     * PAUSED: a step failed or its precondition did not hold ({@code resume} retries it). DONE and ABORTED are final.
     */
    public enum State { PENDING, RUNNING, PAUSED, DONE, ABORTED }

    public Operation {
        if (id == null || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("an operation id is letters, digits, '.', '_' and '-', got '" + id + "'");
        }
        if (steps == null || steps.isEmpty()) {
            throw new IllegalArgumentException("operation " + id + " has no steps");
        }
        kind = kind == null ? "" : kind;
        cluster = cluster == null ? "" : cluster;
        createdBy = createdBy == null ? "" : createdBy;
        state = state == null ? State.PENDING : state;
        reason = reason == null ? "" : reason;
        steps = List.copyOf(steps);
    }

    public static Operation create(String id, String kind, String cluster, String createdBy, long now, List<Step> steps) {
        return new Operation(id, kind, cluster, createdBy, now, State.PENDING, "", steps);
    }

    /** The groups the steps touch, in the order they first appear. */
    public Set<String> groups() {
        Set<String> out = new LinkedHashSet<>();
        steps.forEach(s -> out.add(s.group()));
        return out;
    }

    /** True for DONE and ABORTED: nothing will run again and the groups are free. */
    public boolean finished() {
        return state == State.DONE || state == State.ABORTED;
    }

    /** The index of the first step not DONE or SKIPPED, or -1 when all are. */
    public int next() {
        for (int i = 0; i < steps.size(); i++) {
            if (!steps.get(i).finished()) {
                return i;
            }
        }
        return -1;
    }

    public Operation withState(State next, String why) {
        return new Operation(id, kind, cluster, createdBy, createdAtMs, next, why, steps);
    }

    public Operation withStep(int index, Step step) {
        List<Step> copy = new ArrayList<>(steps);
        copy.set(index, step);
        return new Operation(id, kind, cluster, createdBy, createdAtMs, state, reason, copy);
    }

    public String toJson() {
        return Documents.write(this);
    }

    public static Operation fromJson(String json, String what) {
        return Documents.read(json, Operation.class, what);
    }
}
