package dev.ballast.proxy;

import dev.ballast.jdbc.fastpath.ScatterTemplate;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * One multi-node SELECT of a relayed transaction over several groups ({@link ScatterTemplate}): each data node's
 * statement goes to its group's pinned connection (BEGIN first on a pin's first statement), the nodes of one group one
 * after another and the groups at once; the replies are kept (rows as the server encoded them) and handed over when the
 * last one is in. Event loop only.
 */
final class Gather {

    /** What came back: every node's result in node order, or the first server error, or why a connection broke. */
    interface Done {
        void gathered(Gather g, List<Merge.NodeResult> results, Reply.Err error, String broke, boolean executeSent);
    }

    private final ScatterTemplate template;
    private final IntFunction<ByteBuf> packet;
    private final String cluster;
    private final Done done;
    private final Merge.NodeResult[] results;
    private final Map<ShardedTransaction.Pin, ArrayDeque<Integer>> queues = new LinkedHashMap<>();
    private int running;
    private Reply.Err error;
    private String broke;
    private boolean executeSent;

    /**
     * @param pins   the pin of each data node's group, by node index
     * @param packet the COM_STMT_EXECUTE for a server statement id (the client's parameters; each node's text has them all)
     */
    Gather(ScatterTemplate template, ShardedTransaction.Pin[] pins, IntFunction<ByteBuf> packet, String cluster, Done done) {
        this.template = template;
        this.packet = packet;
        this.cluster = cluster;
        this.done = done;
        this.results = new Merge.NodeResult[pins.length];
        for (int n = 0; n < pins.length; n++) {
            queues.computeIfAbsent(pins[n], p -> new ArrayDeque<>()).add(n);
        }
    }

    ScatterTemplate template() {
        return template;
    }

    void start() {
        running = queues.size();
        for (Map.Entry<ShardedTransaction.Pin, ArrayDeque<Integer>> e : queues.entrySet()) {
            next(e.getKey(), e.getValue());
        }
    }

    /** The pin's next node, or the end of its part. */
    private void next(ShardedTransaction.Pin pin, ArrayDeque<Integer> queue) {
        Integer node = error == null && broke == null ? queue.poll() : null;
        if (node == null) {
            if (--running == 0) {
                done.gathered(this, error != null || broke != null ? null : Arrays.asList(results), error, broke, executeSent);
            }
            return;
        }
        boolean begin = !pin.begun;
        pin.begun = true;
        pin.backend.execute(template.sql(node), packet, new NodeReply(pin, queue, node), begin);
    }

    /** One node's reply. */
    private final class NodeReply implements Backend.Listener {
        final ShardedTransaction.Pin pin;
        final ArrayDeque<Integer> queue;
        final int node;
        final List<BinaryRows.ColumnDef> columns = new ArrayList<>();
        final List<Merge.Row> rows = new ArrayList<>();
        boolean countSeen;
        boolean columnsEnded;

        NodeReply(ShardedTransaction.Pin pin, ArrayDeque<Integer> queue, int node) {
            this.pin = pin;
            this.queue = queue;
            this.node = node;
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
                columnsEnded = true; // the EOF after the columns (or at the end of the rows)
                return;
            }
            if (header == 0xff) {
                serverError(in, index, length);
                return;
            }
            byte[] payload = new byte[length - 4];
            in.getBytes(index + 4, payload);
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
            int code = in.getUnsignedShortLE(index + 5);
            boolean marked = length >= 4 + 9 && in.getUnsignedByte(index + 7) == '#';
            String state = marked ? in.toString(index + 8, 5, StandardCharsets.US_ASCII) : "HY000";
            int textAt = index + (marked ? 13 : 7);
            fail(code, state, in.toString(textAt, index + length - textAt, StandardCharsets.UTF_8));
        }

        private void fail(int code, String state, String message) {
            if (error == null) {
                error = new Reply.Err(code, state, "[cluster=" + cluster + " node=" + pin.backend.node.address() + " table="
                        + template.node(node).table() + "] " + message);
            }
        }

        @Override
        public void done(Backend b) {
            if (columns.isEmpty() && error == null) {
                fail(1105, "HY000", "the statement returned no result set");
            }
            results[node] = new Merge.NodeResult(columns, rows);
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
