package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The wire side of the JDBC views of pinned connections: parameters out, column definitions and binary rows in. */
class PinnedJdbcTest {

    private static final LocalDateTime AT = LocalDateTime.of(2026, 12, 5, 10, 0, 1, 250_000_000);

    @Test
    void parametersGoOutAsTheProxyReadsThemIn() {
        Object[] params = {null, 7, 8L, "é'x", new BigDecimal("1.50"), new byte[]{1, 2}, AT, LocalDate.of(2026, 1, 2), 0.25,
                true, Timestamp.valueOf(AT)};
        ByteBuf b = BinaryRows.executePacket(42, params);
        try {
            b.skipBytes(4); // header
            assertEquals(Command.COM_STMT_EXECUTE, b.readUnsignedByte());
            assertEquals(42, b.readIntLE());
            b.skipBytes(1 + 4);
            byte[] nulls = new byte[(params.length + 7) / 8];
            b.readBytes(nulls);
            assertEquals(1, b.readUnsignedByte(), "types are sent");
            int[] types = new int[params.length];
            for (int i = 0; i < params.length; i++) {
                types[i] = b.readUnsignedShortLE();
            }
            Object[] read = new Object[params.length];
            for (int i = 0; i < params.length; i++) {
                if ((nulls[i / 8] & (1 << (i % 8))) != 0) {
                    continue;
                }
                read[i] = BinaryValues.read(b, types[i]);
            }
            assertNull(read[0]);
            assertEquals(7L, read[1]);
            assertEquals(8L, read[2]);
            assertEquals("é'x", read[3]);
            assertEquals("1.50", read[4]);
            assertArrayEquals(new byte[]{1, 2}, (byte[]) read[5]);
            assertEquals("2026-12-05 10:00:01.250000", read[6]);
            assertEquals("2026-01-02", read[7]);
            assertEquals(0.25, read[8]);
            assertEquals(1L, read[9]);
            assertEquals("2026-12-05 10:00:01.250000", read[10]);
            assertEquals(0, b.readableBytes());
        } finally {
            b.release();
        }
    }

    private static BinaryRows.ColumnDef column(String name, int type, int flags, int charset, long length, int decimals) {
        ByteBuf b = Unpooled.buffer();
        Columns.write(b, new Columns.Column("db", "t_x_1", "t_x_1", name, name, type, flags, decimals, length, charset));
        return BinaryRows.ColumnDef.parse(b);
    }

    @Test
    void columnDefinitionsAreReadAndDescribedAsConnectorJDoes() {
        BinaryRows.ColumnDef c = column("n", Columns.T_LONG, Columns.UNSIGNED | Columns.NOT_NULL, Columns.BINARY, 10, 0);
        assertEquals("n", c.name());
        assertEquals("t_x_1", c.orgTable());
        assertEquals("INT UNSIGNED", c.typeName());
        assertEquals(Types.INTEGER, c.jdbcType());
        BinaryRows.ColumnDef text = column("s", Columns.T_VAR_STRING, 0, Columns.UTF8MB4, 160, 0);
        assertEquals("VARCHAR", text.typeName());
        assertEquals(40, text.displaySize(), "utf8mb4: 4 bytes a character");
        assertEquals("VARBINARY", column("b", Columns.T_VAR_STRING, Columns.BINARY_FLAG, Columns.BINARY, 8, 0).typeName());
        assertEquals("TEXT", column("t", Columns.T_BLOB, 0, Columns.UTF8MB4, 262140, 0).typeName());
        assertEquals(Types.TIMESTAMP, column("d", Columns.T_DATETIME, 0, Columns.BINARY, 23, 3).jdbcType());
    }

    @Test
    void binaryRowsBecomeWhatConnectorJGives() throws Exception {
        List<BinaryRows.ColumnDef> columns = List.of(
                column("i", Columns.T_LONG, 0, Columns.BINARY, 11, 0),
                column("u", Columns.T_LONGLONG, Columns.UNSIGNED, Columns.BINARY, 20, 0),
                column("d", Columns.T_NEWDECIMAL, 0, Columns.BINARY, 14, 3),
                column("s", Columns.T_VAR_STRING, 0, Columns.UTF8MB4, 160, 0),
                column("b", Columns.T_BLOB, Columns.BINARY_FLAG, Columns.BINARY, 65535, 0),
                column("dt", Columns.T_DATETIME, 0, Columns.BINARY, 23, 3),
                column("day", Columns.T_DATE, 0, Columns.BINARY, 10, 0),
                column("nothing", Columns.T_LONG, 0, Columns.BINARY, 11, 0),
                column("ts", Columns.T_TIMESTAMP, 0, Columns.BINARY, 19, 0));
        ByteBuf row = Unpooled.buffer();
        row.writeByte(0);
        int bitmapAt = row.writerIndex();
        row.writeZero((columns.size() + 9) / 8);
        row.writeIntLE(-5);
        row.writeLongLE(-1L); // 2^64 - 1 unsigned
        Wire.lenencString(row, "12.125");
        Wire.lenencString(row, "é");
        Wire.lenencBytes(row, new byte[]{0, (byte) 0xff});
        row.writeByte(11).writeShortLE(2026).writeByte(12).writeByte(5).writeByte(10).writeByte(0).writeByte(1).writeIntLE(250_000);
        row.writeByte(4).writeShortLE(2026).writeByte(1).writeByte(2);
        int bit = 7 + 2; // "nothing" is NULL
        row.setByte(bitmapAt + bit / 8, 1 << (bit % 8));
        row.writeByte(7).writeShortLE(2026).writeByte(12).writeByte(5).writeByte(10).writeByte(0).writeByte(2);
        Object[] v = BinaryRows.decodeRow(row, columns);
        assertEquals(-5, v[0]);
        assertEquals(new BigInteger("18446744073709551615"), v[1]);
        assertEquals(new BigDecimal("12.125"), v[2]);
        assertEquals("é", v[3]);
        assertArrayEquals(new byte[]{0, (byte) 0xff}, (byte[]) v[4]);
        assertEquals(AT, v[5]);
        assertEquals(LocalDate.of(2026, 1, 2), v[6]);
        assertNull(v[7]);
        assertEquals(0, row.readableBytes());
        // what the getters make of them
        assertEquals("2026-12-05 10:00:01.250", PinnedJdbc.convert(v[5], "getString", null, columns.get(5)));
        assertEquals(AT, PinnedJdbc.convert(v[5], "getObject", null, columns.get(5)));
        assertEquals(Timestamp.valueOf(LocalDateTime.of(2026, 12, 5, 10, 0, 2)), PinnedJdbc.convert(v[8], "getObject", null, columns.get(8)));
        assertEquals(12, PinnedJdbc.convert(v[2], "getInt", null, columns.get(2)));
        assertEquals("12.125", PinnedJdbc.convert(v[2], "getString", null, columns.get(2)));
        assertEquals(-5L, PinnedJdbc.convert(v[0], "getLong", null, columns.get(0)));
        assertEquals(0, PinnedJdbc.convert(v[7], "getInt", null, columns.get(7)));
        assertEquals("é", new String((byte[]) PinnedJdbc.convert(v[3], "getBytes", null, columns.get(3)), StandardCharsets.UTF_8));
        assertEquals(LocalDate.of(2026, 1, 2), PinnedJdbc.convert(v[6], "getObject", LocalDate.class, columns.get(6)));
    }
}
