package dev.ballast.jdbc.internal;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryRepositoryTest {

    @Test
    void persistCreatesParentsAndChildrenAreListedOnce() {
        MemoryRepository repo = new MemoryRepository();
        repo.persist("/metadata/db/schemas/s/tables/t_a", "a");
        repo.persist("/metadata/db/schemas/s/tables/t_b", "b");
        repo.persist("/metadata/db/schemas/s/views/v", "v");
        assertEquals("", repo.query("/metadata/db"));
        assertEquals(List.of("tables", "views"), repo.getChildrenKeys("/metadata/db/schemas/s"));
        assertEquals(List.of("t_a", "t_b"), repo.getChildrenKeys("/metadata/db/schemas/s/tables"));
        assertEquals(List.of("metadata"), repo.getChildrenKeys("/"));
        assertTrue(repo.isExisted("/metadata/db/schemas/s/tables/t_a"));
    }

    @Test
    void deleteRemovesTheWholeSubtreeButNotSiblingsWithTheSamePrefix() {
        MemoryRepository repo = new MemoryRepository();
        repo.persist("/a/b/c", "1");
        repo.persist("/a/bb", "2");
        repo.delete("/a/b");
        assertNull(repo.query("/a/b/c"));
        assertFalse(repo.isExisted("/a/b"));
        assertEquals("2", repo.query("/a/bb"));
        repo.update("/a/bb", "3");
        assertEquals("3", repo.query("/a/bb"));
    }
}
