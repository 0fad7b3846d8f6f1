package dev.ballast.jdbc.internal;

import org.junit.jupiter.api.Test;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cycles of a wait-for graph and their victims: transactions named by their start order, the latest rolled back. */
class WaitForGraphTest {

    private static List<WaitForGraph.Cycle<Integer>> victims(Map<Integer, Set<Integer>> g) {
        return WaitForGraph.victims(g, Comparator.naturalOrder());
    }

    private static Map<Integer, Set<Integer>> graph(int... edges) {
        Map<Integer, Set<Integer>> g = new LinkedHashMap<>();
        for (int i = 0; i < edges.length; i += 2) {
            g.computeIfAbsent(edges[i], k -> new java.util.LinkedHashSet<>()).add(edges[i + 1]);
        }
        return g;
    }

    @Test
    void twoTransactionsWaitingForEachOtherLoseTheYoungerOne() {
        List<WaitForGraph.Cycle<Integer>> found = victims(graph(1, 2, 2, 1));
        assertEquals(1, found.size());
        assertEquals(2, found.get(0).victim());
        assertEquals(Set.of(1, 2), Set.copyOf(found.get(0).members()));
    }

    @Test
    void waitsThatEndSomewhereAreNoDeadlock() {
        assertTrue(victims(graph(1, 2, 2, 3, 4, 3, 3, 5)).isEmpty());
        assertTrue(victims(graph()).isEmpty());
    }

    @Test
    void aTransactionWaitingForItselfIsTheServersBusinessNotACycle() {
        assertTrue(victims(graph(1, 1, 1, 2)).isEmpty());
    }

    @Test
    void aLongerCycleIsFoundWhateverItsStartAndItsTailsAreLeftAlone() {
        // 9 and 7 wait on the cycle 3 -> 5 -> 4 -> 3 without being in it
        List<WaitForGraph.Cycle<Integer>> found = victims(graph(9, 3, 3, 5, 5, 4, 4, 3, 7, 4));
        assertEquals(1, found.size());
        assertEquals(5, found.get(0).victim());
        assertEquals(List.of(3, 5, 4), found.get(0).members());
    }

    @Test
    void oneVictimEndsTwoCyclesItIsIn() {
        // 6 is in 1 <-> 6 and 2 <-> 6: rolling back 6 ends both
        List<WaitForGraph.Cycle<Integer>> found = victims(graph(1, 6, 6, 1, 6, 2, 2, 6));
        assertEquals(1, found.size());
        assertEquals(6, found.get(0).victim());
    }

    @Test
    void separateCyclesEachLoseOne() {
        List<WaitForGraph.Cycle<Integer>> found = victims(graph(1, 2, 2, 1, 3, 4, 4, 5, 5, 3));
        assertEquals(List.of(2, 5), found.stream().map(WaitForGraph.Cycle::victim).toList());
    }

    @Test
    void cyclesSharingAnOlderMemberLoseTheirOwnYoungest() {
        // 1 <-> 2 and 1 <-> 3 share 1, the oldest: 2 and 3 are both rolled back, 1 goes on
        List<WaitForGraph.Cycle<Integer>> found = victims(graph(1, 2, 2, 1, 1, 3, 3, 1));
        assertEquals(Set.of(2, 3), Set.copyOf(found.stream().map(WaitForGraph.Cycle::victim).toList()));
    }

    @Test
    void theCallersGraphIsLeftAsItWas() {
        Map<Integer, Set<Integer>> g = graph(1, 2, 2, 1);
        victims(g);
        assertEquals(graph(1, 2, 2, 1), g);
    }
}
