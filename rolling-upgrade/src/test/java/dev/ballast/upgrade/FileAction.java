package dev.ballast.upgrade;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A step kind whose world is files, so that a separate JVM and the test see the same state: act creates
 * {@code dir/<group>-<node>}; check reports already-done when it exists. With {@code hangAfter} set, act hangs
 * forever after creating that node's file (the process is then killed with SIGKILL by the test).
 */
final class FileAction implements StepAction {

    private final Path dir;
    private final String hangAfter;

    FileAction(Path dir, String hangAfter) {
        this.dir = dir;
        this.hangAfter = hangAfter;
    }

    Path file(Step s) {
        return dir.resolve(s.group() + "-" + s.node());
    }

    @Override
    public Check check(Operation operation, Step step) {
        return Files.exists(file(step)) ? Check.alreadyDone(file(step).getFileName() + " exists") : Check.ready();
    }

    @Override
    public String act(Operation operation, Step step) throws Exception {
        if (Files.exists(file(step))) {
            return "was there";
        }
        Files.writeString(file(step), ProcessHandle.current().pid() + "\n");
        if (step.node().equals(hangAfter)) {
            Thread.sleep(Long.MAX_VALUE);
        }
        return "created " + file(step).getFileName();
    }
}
