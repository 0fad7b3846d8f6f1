package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Packets to commands and replies to packets, through the proxy's own decoder stage on Netty's EmbeddedChannel. */
class CodecTest {

    private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

    /** Feeds bytes to a channel holding the proxy's packet decoder and returns the one packet it emits. */
    private static Packet decodeOne(ByteBuf wire) {
        EmbeddedChannel ch = new EmbeddedChannel(new PacketDecoder(64 * 1024 * 1024, null));
        ch.writeInbound(wire);
        Packet p = ch.readInbound();
        assertNull(ch.readInbound(), "one packet in, one packet out");
        ch.finishAndReleaseAll();
        return p;
    }

    private static Command command(ByteBuf wire) {
        return Command.decode(decodeOne(wire));
    }

    @Test
    void aQueryArrivesAsItsText() {
        Command c = command(Codec.command(ALLOC, Command.COM_QUERY, "SELECT 1 /*!40101 , 2 */"));
        Command.Query q = assertInstanceOf(Command.Query.class, c);
        assertEquals(0, q.sequence());
        assertEquals("SELECT 1 , 2", q.sql().replaceAll("\\s+", " ").trim(), "versioned comments are unwrapped for ShardingSphere's parser");
    }

    @Test
    void everyCommandTheProxyAnswersDecodesToItsRecord() {
        assertInstanceOf(Command.Quit.class, command(Codec.command(ALLOC, Command.COM_QUIT, "")));
        assertInstanceOf(Command.Ping.class, command(Codec.command(ALLOC, Command.COM_PING, "")));
        assertInstanceOf(Command.ResetConnection.class, command(Codec.command(ALLOC, Command.COM_RESET_CONNECTION, "")));
        assertEquals("shop", ((Command.InitDb) command(Codec.command(ALLOC, Command.COM_INIT_DB, "shop"))).database());
        assertEquals("SELECT ?", ((Command.Prepare) command(Codec.command(ALLOC, Command.COM_STMT_PREPARE, "SELECT ?"))).sql());
        assertEquals("t_order", ((Command.FieldList) command(Codec.command(ALLOC, Command.COM_FIELD_LIST, "t_order\0"))).table());
        assertEquals(7, ((Command.CloseStatement) command(Codec.statementCommand(ALLOC, Command.COM_STMT_CLOSE, 7))).statementId());
        assertEquals(9, ((Command.ResetStatement) command(Codec.statementCommand(ALLOC, Command.COM_STMT_RESET, 9))).statementId());
        assertEquals(0x42, ((Command.Unknown) command(Codec.command(ALLOC, 0x42, ""))).code());
    }

    @Test
    void aFetchCarriesItsStatementAndRowCountAndAShortOneIsAProtocolError() {
        ByteBuf payload = Unpooled.buffer().writeByte(Command.COM_STMT_FETCH).writeIntLE(3).writeIntLE(0xFFFFFFFF);
        ByteBuf wire = Unpooled.buffer();
        Codec.frame(wire, 0, payload);
        Command.Fetch f = assertInstanceOf(Command.Fetch.class, command(wire));
        assertEquals(3, f.statementId());
        assertEquals(0xFFFFFFFFL, f.rows(), "the row count is unsigned");
        ByteBuf shortOne = Unpooled.buffer().writeByte(Command.COM_STMT_FETCH).writeIntLE(3);
        assertThrows(Wire.ProtocolException.class, () -> Command.decode(new Packet(0, shortOne)));
    }

    @Test
    void anExecuteKeepsItsWholePayloadForTheRelayUntilReleased() {
        ByteBuf payload = Unpooled.buffer();
        payload.writeByte(Command.COM_STMT_EXECUTE).writeIntLE(5).writeByte(0).writeIntLE(1);
        payload.writeByte(0).writeByte(1).writeShortLE(Columns.T_LONGLONG).writeLongLE(42);
        ByteBuf wire = Unpooled.buffer();
        Codec.frame(wire, 0, payload);
        Command.Execute x = assertInstanceOf(Command.Execute.class, command(wire));
        assertEquals(5, x.statementId());
        assertEquals(Command.COM_STMT_EXECUTE, x.payload().getUnsignedByte(x.payload().readerIndex()),
                "the payload starts at the command byte, as the relay sends it on");
        assertEquals(1 + 4 + 1 + 4 + 1 + 1 + 2 + 8, x.payload().readableBytes());
        assertEquals(1, x.payload().refCnt());
        x.release();
        assertEquals(0, x.payload().refCnt());
    }

    @Test
    void aShortPacketIsAProtocolErrorAndItsPayloadIsFreed() {
        ByteBuf payload = Unpooled.buffer().writeByte(Command.COM_STMT_EXECUTE).writeShortLE(1);
        Packet p = new Packet(0, payload);
        assertThrows(Wire.ProtocolException.class, () -> Command.decode(p));
        assertEquals(0, payload.refCnt());
        ByteBuf empty = Unpooled.buffer();
        assertThrows(Wire.ProtocolException.class, () -> Command.decode(new Packet(0, empty)));
        assertEquals(0, empty.refCnt());
    }

    @Test
    void aPayloadOf16MiBOrMoreIsSplitAndJoinedAgain() {
        byte[] big = new byte[PacketDecoder.MAX_CHUNK + 10];
        big[0] = Command.COM_QUERY;
        for (int i = 1; i < big.length; i++) {
            big[i] = (byte) ('a' + i % 26);
        }
        ByteBuf wire = Unpooled.buffer(big.length + 8);
        int next = Codec.frame(wire, 3, Unpooled.wrappedBuffer(big));
        assertEquals(5, next, "two wire packets, sequence 3 and 4");
        assertEquals(PacketDecoder.MAX_CHUNK, wire.getUnsignedMediumLE(0));
        assertEquals(10, wire.getUnsignedMediumLE(4 + PacketDecoder.MAX_CHUNK));
        Packet p = decodeOne(wire);
        assertEquals(3, p.sequence());
        byte[] back = new byte[p.payload().readableBytes()];
        p.payload().readBytes(back);
        p.payload().release();
        assertArrayEquals(big, back);
    }

    @Test
    void aPayloadOfExactly16MiBIsFollowedByAnEmptyPacket() {
        ByteBuf wire = Unpooled.buffer();
        int next = Codec.frame(wire, 0, Unpooled.wrappedBuffer(new byte[PacketDecoder.MAX_CHUNK]));
        assertEquals(2, next);
        assertEquals(0, wire.getUnsignedMediumLE(4 + PacketDecoder.MAX_CHUNK));
        wire.release();
    }

    @Test
    void repliesEncodeAsTheServerWritesThem() {
        ByteBuf out = Unpooled.buffer();
        int seq = Codec.encode(out, 1, Reply.Ok.of(300, 7, ClientSession.STATUS_AUTOCOMMIT));
        seq = Codec.encode(out, seq, new Reply.Err(1146, "42S02", "Table 'shop.x' doesn't exist"));
        seq = Codec.encode(out, seq, new Reply.Eof(ClientSession.STATUS_IN_TRANS, 2));
        seq = Codec.encode(out, seq, new Reply.Ok(true, 0, 0, 0, 1));
        assertEquals(5, seq);
        EmbeddedChannel ch = new EmbeddedChannel(new PacketDecoder(1 << 20, null));
        ch.writeInbound(out);

        Packet ok = ch.readInbound();
        assertEquals(1, ok.sequence());
        assertPayload(ok, 0x00, 0xfc, 300 & 0xff, 300 >> 8, 7, 2, 0, 0, 0);

        Packet err = ch.readInbound();
        assertEquals(2, err.sequence());
        ByteBuf e = err.payload();
        assertEquals(0xff, e.readUnsignedByte());
        assertEquals(1146, e.readUnsignedShortLE());
        assertEquals('#', e.readUnsignedByte());
        assertEquals("42S02Table 'shop.x' doesn't exist", e.toString(StandardCharsets.UTF_8));
        e.release();

        Packet eof = ch.readInbound();
        assertPayload(eof, 0xfe, 2, 0, 1, 0);
        Packet endOfRows = ch.readInbound();
        assertEquals(4, endOfRows.sequence());
        assertPayload(endOfRows, 0xfe, 0, 0, 0, 0, 1, 0);
        assertFalse(ch.finish());
    }

    @Test
    void aPacketWrittenInPlaceGetsItsLengthAtTheEnd() {
        ByteBuf out = Unpooled.buffer();
        int at = Codec.beginPacket(out, 7);
        Wire.lenencString(out, "def");
        out.writeIntLE(42);
        Codec.endPacket(out, at);
        Packet p = decodeOne(out);
        assertEquals(7, p.sequence());
        assertEquals(4 + 4, p.payload().readableBytes());
        p.payload().release();
    }

    @Test
    void anErrorNeedsAFiveCharacterSqlState() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Reply.Err(1105, "08S", "x"));
        assertTrue(e.getMessage().contains("1105"), e.getMessage());
    }

    private static void assertPayload(Packet p, int... bytes) {
        ByteBuf b = p.payload();
        int[] actual = new int[b.readableBytes()];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = b.getUnsignedByte(b.readerIndex() + i);
        }
        b.release();
        assertArrayEquals(bytes, actual);
    }

    @Test
    void aWorkerWaitingForASlowClientWakesWhenTheChannelDrainsNotOnATimer() throws Exception {
        WritableGate gate = new WritableGate();
        EmbeddedChannel ch = new EmbeddedChannel(gate);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        ch.write(Unpooled.wrappedBuffer(new byte[64])); // written, not flushed: above the high water mark
        assertFalse(ch.isWritable());
        CompletableFuture<Boolean> woke = CompletableFuture.supplyAsync(() -> {
            try {
                return gate.await(ch, TimeUnit.SECONDS.toNanos(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        assertFalse(woke.isDone(), "the worker waits while the client's socket is full");
        long flushedAt = System.nanoTime();
        ch.flush(); // the client read its replies: Netty signals channelWritabilityChanged
        assertTrue(woke.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - flushedAt < TimeUnit.SECONDS.toNanos(5));
        ch.finishAndReleaseAll();
    }

    @Test
    void aWorkerWaitingForAClientThatLeavesIsWokenAndToldItIsNotWritable() throws Exception {
        WritableGate gate = new WritableGate();
        EmbeddedChannel ch = new EmbeddedChannel(gate);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        ch.write(Unpooled.wrappedBuffer(new byte[64]));
        CompletableFuture<Boolean> woke = CompletableFuture.supplyAsync(() -> {
            try {
                return gate.await(ch, TimeUnit.SECONDS.toNanos(30));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        ch.close();
        assertFalse(woke.get(5, TimeUnit.SECONDS));
    }

    @Test
    void theWaitEndsAtItsTimeout() throws Exception {
        EmbeddedChannel ch = new EmbeddedChannel(new WritableGate());
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8, 16));
        ch.write(Unpooled.wrappedBuffer(new byte[64]));
        assertFalse(ch.pipeline().get(WritableGate.class).await(ch, TimeUnit.MILLISECONDS.toNanos(50)));
        ch.finishAndReleaseAll();
    }
}
