package dev.ballast.jdbc.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cycles of a wait-for graph (who waits for whose lock) and the member of each to roll back. A rolled-back member
 * waits for nothing and holds nothing, so it leaves the graph before the next cycle is looked for: one victim can end
 * two cycles that share it. Pure.
 */
final class WaitForGraph {

    /** One cycle, in the order its members wait for each other (each waits for the next, the last for the first). */
    record Cycle<T>(List<T> members, T victim) {
    }

    private WaitForGraph() {
    }

    /**
     * @param waitsFor      each waiter and the ones it waits for (edges to itself are ignored)
     * @param rollBackFirst the greatest member of a cycle in this order is its victim
     * @return the cycles found, each with its victim, in the order the victims were chosen; empty when none
     */
    static <T> List<Cycle<T>> victims(Map<T, ? extends Set<T>> waitsFor, Comparator<? super T> rollBackFirst) {
        Map<T, Set<T>> graph = new LinkedHashMap<>();
        waitsFor.forEach((waiter, holders) -> {
            Set<T> to = new LinkedHashSet<>(holders);
            to.remove(waiter);
            graph.put(waiter, to);
        });
        List<Cycle<T>> found = new ArrayList<>();
        List<T> cycle;
        while ((cycle = cycle(graph)) != null) {
            T victim = Collections.max(cycle, rollBackFirst);
            found.add(new Cycle<>(List.copyOf(cycle), victim));
            graph.remove(victim);
            graph.values().forEach(holders -> holders.remove(victim));
        }
        return found;
    }

    /** A cycle of the graph (depth first from each waiter in turn), or null. */
    private static <T> List<T> cycle(Map<T, Set<T>> graph) {
        Map<T, Boolean> onPath = new HashMap<>(); // true: on the current path; false: explored, no cycle through it
        for (T start : graph.keySet()) {
            if (!onPath.containsKey(start)) {
                List<T> path = new ArrayList<>();
                List<T> c = visit(start, graph, onPath, path);
                if (c != null) {
                    return c;
                }
            }
        }
        return null;
    }

    private static <T> List<T> visit(T node, Map<T, Set<T>> graph, Map<T, Boolean> onPath, List<T> path) {
        onPath.put(node, true);
        path.add(node);
        for (T next : graph.getOrDefault(node, Set.of())) {
            Boolean state = onPath.get(next);
            if (Boolean.TRUE.equals(state)) {
                return new ArrayList<>(path.subList(path.indexOf(next), path.size()));
            }
            if (state == null) {
                List<T> c = visit(next, graph, onPath, path);
                if (c != null) {
                    return c;
                }
            }
        }
        path.remove(path.size() - 1);
        onPath.put(node, false);
        return null;
    }
}
