package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.ScatterTemplate;
import io.netty.buffer.ByteBuf;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One multi-node SELECT of a relayed transaction over several groups ({@link ScatterTemplate}): each step (a data node's
 * statement, or a group's UNION ALL of its nodes) goes to its group's pinned connection (BEGIN first on a pin's first
 * statement), the steps of one pin one after another and the pins at once; the replies are kept (rows as the server
 * encoded them) and handed over when the last one is in. Event loop only.
 */
final class Gather {

    /** One statement on one pin: {@code packet} builds its COM_STMT_EXECUTE; {@code tables} names it in errors. */
    record Step(ShardedTransaction.Pin pin, String sql, IntFunction<ByteBuf> packet, String tables) {
    }

    /** What came back: every step's result in step order, or the first server error, or why a connection broke. */
    interface Done {
        void gathered(Gather g, List<Merge.NodeResult> results, Reply.Err error, String broke, boolean executeSent);
    }

    private final ScatterTemplate template;
    private final List<Step> steps;
    private final boolean perGroup;
    private final String cluster;
    private final Done done;
    private final Merge.NodeResult[] results;
    /** the merge compares or adds values (ORDER BY, DISTINCT, aggregates): rows are decoded as they come */
    private final boolean decode;
    private final Map<ShardedTransaction.Pin, ArrayDeque<Integer>> queues = new LinkedHashMap<>();
    private int running;
    private Reply.Err error;
    private String broke;
    private boolean executeSent;

    /** @param perGroup the steps are the template's {@link ScatterTemplate#parts()} (else its data nodes) */
    Gather(ScatterTemplate template, List<Step> steps, boolean perGroup, String cluster, Done done) {
        this.template = template;
        this.steps = steps;
        this.perGroup = perGroup;
        this.cluster = cluster;
        this.done = done;
        this.results = new Merge.NodeResult[steps.size()];
        this.decode = template.aggregates() || template.distinct() || !template.order().isEmpty();
        for (int n = 0; n < steps.size(); n++) {
            queues.computeIfAbsent(steps.get(n).pin(), p -> new ArrayDeque<>()).add(n);
        }
    }

    ScatterTemplate template() {
        return template;
    }

    boolean perGroup() {
        return perGroup;
    }

    void start() {
        running = queues.size();
        for (Map.Entry<ShardedTransaction.Pin, ArrayDeque<Integer>> e : queues.entrySet()) {
            next(e.getKey(), e.getValue());
        }
    }

    /** The pin's next step, or the end of its part. */
    private void next(ShardedTransaction.Pin pin, ArrayDeque<Integer> queue) {
        Integer step = error == null && broke == null ? queue.poll() : null;
        if (step == null) {
            if (--running == 0) {
                done.gathered(this, error != null || broke != null ? null : Arrays.asList(results), error, broke, executeSent);
            }
            return;
        }
        boolean begin = !pin.begun;
        pin.begun = true;
        Step s = steps.get(step);
        pin.backend.execute(s.sql(), s.packet(), new NodeReply(pin, queue, step), begin);
    }

    /** One node's reply. */
    private final class NodeReply implements Backend.Listener {
        final ShardedTransaction.Pin pin;
        final ArrayDeque<Integer> queue;
        final int step;
        final List<BinaryRows.ColumnDef> columns = new ArrayList<>();
        final List<Merge.Row> rows = new ArrayList<>();
        boolean countSeen;

        NodeReply(ShardedTransaction.Pin pin, ArrayDeque<Integer> queue, int step) {
            this.pin = pin;
            this.queue = queue;
            this.step = step;
        }

        @Override
        public void frame(ByteBuf in, int index, int length) {
            executeSent = true;
            int header = length > 4 ? in.getUnsignedByte(index + 4) : -1;
            if (!countSeen) {
                countSeen = true; // the column count
                return;
            }
            if (length - 4 == 0xffffff) {
                fail(1153, "08S01", "a row of more than 16 MiB cannot be merged; set proxy.relayMerge: false");
                return;
            }
            if (header == 0xfe && length - 4 < 9) {
                return; // the EOF after the columns (or at the end of the rows)
            }
            if (header == 0xff) {
                serverError(in, index, length);
                return;
            }
            byte[] payload = new byte[length - 4];
            in.getBytes(index + 4, payload);
            if (!decode) {
                rows.add(new Merge.Row(payload, null)); // rows in node order: passed on as the server encoded them
                return;
            }
            try {
                rows.add(new Merge.Row(payload, BinaryRows.decodeRow(in.slice(index + 4, length - 4), columns)));
            } catch (RuntimeException e) {
                fail(1105, "HY000", "cannot read a row from " + pin.backend.node.describe() + ": " + e);
            }
        }

        @Override
        public void column(ByteBuf in, int index, int length) {
            countSeen = true;
            columns.add(BinaryRows.ColumnDef.parse(in.slice(index + 4, length - 4)));
        }

        @Override
        public void ok(boolean endOfRows, int sequence, long affected, long insertId, int status, int warnings, String gtid) {
        }

        @Override
        public boolean error(ByteBuf in, int index, int length, int code) {
            executeSent = true;
            serverError(in, index, length);
            return false;
        }

        private void serverError(ByteBuf in, int index, int length) {
            Reply.Err e = Reply.Err.read(in, index, length);
            fail(e.code(), e.state(), e.message());
        }

        private void fail(int code, String state, String message) {
            if (error == null) {
                error = new Reply.Err(code, state, "[cluster=" + cluster + " node=" + pin.backend.node.address() + " table="
                        + steps.get(step).tables() + "] " + message);
            }
        }

        @Override
        public void done(Backend b) {
            if (columns.isEmpty() && error == null) {
                fail(1105, "HY000", "the statement returned no result set");
            }
            results[step] = new Merge.NodeResult(columns, rows);
            next(pin, queue);
        }

        @Override
        public void prepareFailed(Backend b, int code, String message) {
            fail(code, code == 1064 ? "42000" : code == 1146 ? "42S02" : code == 1054 ? "42S22" : "HY000", message);
            next(pin, queue);
        }

        @Override
        public void failed(String why, boolean sent) {
            executeSent |= sent;
            if (broke == null) {
                broke = "its connection to " + pin.backend.node.describe() + " broke (" + why + ")";
            }
            next(pin, queue);
        }
    }
}
