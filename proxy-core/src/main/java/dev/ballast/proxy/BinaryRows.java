package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.List;

/**
 * The binary protocol as a client reads and writes it for the proxy's own statements on relay connections (the pinned
 * connections of a {@link ShardedTransaction}): column definitions and binary result rows in, as the Java values MySQL
 * Connector/J gives; COM_STMT_EXECUTE packets with Java parameter values out.
 */
final class BinaryRows {

    private BinaryRows() {
    }

    /** A column definition as the server sent it. */
    record ColumnDef(String schema, String table, String orgTable, String name, String orgName, int charset, long length,
                     int type, int flags, int decimals) {

        static ColumnDef parse(ByteBuf p) {
            Wire.readLenencBytes(p); // catalog
            String schema = text(Wire.readLenencBytes(p));
            String table = text(Wire.readLenencBytes(p));
            String orgTable = text(Wire.readLenencBytes(p));
            String name = text(Wire.readLenencBytes(p));
            String orgName = text(Wire.readLenencBytes(p));
            Wire.readLenencInt(p); // length of the fixed fields
            int charset = p.readUnsignedShortLE();
            long length = p.readUnsignedIntLE();
            int type = p.readUnsignedByte();
            int flags = p.readUnsignedShortLE();
            int decimals = p.readUnsignedByte();
            return new ColumnDef(schema, table, orgTable, name, orgName, charset, length, type, flags, decimals);
        }

        boolean unsigned() {
            return (flags & Columns.UNSIGNED) != 0;
        }

        boolean binary() {
            return charset == Columns.BINARY;
        }

        /** The JDBC type, as MySQL Connector/J reports it. */
        int jdbcType() {
            return switch (type) {
                case Columns.T_TINY -> Types.TINYINT;
                case Columns.T_SHORT -> Types.SMALLINT;
                case Columns.T_LONG, Columns.T_INT24 -> Types.INTEGER;
                case Columns.T_LONGLONG -> Types.BIGINT;
                case Columns.T_FLOAT -> Types.REAL;
                case Columns.T_DOUBLE -> Types.DOUBLE;
                case Columns.T_DECIMAL, Columns.T_NEWDECIMAL -> Types.DECIMAL;
                case Columns.T_DATE -> Types.DATE;
                case Columns.T_TIME -> Types.TIME;
                case Columns.T_DATETIME, Columns.T_TIMESTAMP -> Types.TIMESTAMP;
                case Columns.T_YEAR -> Types.DATE;
                case Columns.T_BIT -> Types.BIT;
                case Columns.T_NULL -> Types.NULL;
                case Columns.T_TINY_BLOB, Columns.T_MEDIUM_BLOB, Columns.T_LONG_BLOB, Columns.T_BLOB ->
                        binary() ? Types.LONGVARBINARY : Types.LONGVARCHAR;
                case Columns.T_STRING -> binary() ? Types.BINARY : Types.CHAR;
                default -> binary() ? Types.VARBINARY : Types.VARCHAR;
            };
        }

        /** The type's name, as MySQL Connector/J reports it ("INT UNSIGNED", "VARCHAR", "DATETIME", ...). */
        String typeName() {
            String base = switch (type) {
                case Columns.T_TINY -> "TINYINT";
                case Columns.T_SHORT -> "SMALLINT";
                case Columns.T_INT24 -> "MEDIUMINT";
                case Columns.T_LONG -> "INT";
                case Columns.T_LONGLONG -> "BIGINT";
                case Columns.T_FLOAT -> "FLOAT";
                case Columns.T_DOUBLE -> "DOUBLE";
                case Columns.T_DECIMAL, Columns.T_NEWDECIMAL -> "DECIMAL";
                case Columns.T_DATE -> "DATE";
                case Columns.T_TIME -> "TIME";
                case Columns.T_DATETIME -> "DATETIME";
                case Columns.T_TIMESTAMP -> "TIMESTAMP";
                case Columns.T_YEAR -> "YEAR";
                case Columns.T_BIT -> "BIT";
                case Columns.T_NULL -> "NULL";
                case Columns.T_JSON -> "JSON";
                case Columns.T_GEOMETRY -> "GEOMETRY";
                case Columns.T_TINY_BLOB -> binary() ? "TINYBLOB" : "TINYTEXT";
                case Columns.T_MEDIUM_BLOB -> binary() ? "MEDIUMBLOB" : "MEDIUMTEXT";
                case Columns.T_LONG_BLOB -> binary() ? "LONGBLOB" : "LONGTEXT";
                case Columns.T_BLOB -> binary() ? "BLOB" : "TEXT";
                case Columns.T_STRING -> (flags & Columns.ENUM_FLAG) != 0 ? "ENUM" : (flags & Columns.SET_FLAG) != 0 ? "SET"
                        : binary() ? "BINARY" : "CHAR";
                default -> binary() ? "VARBINARY" : "VARCHAR";
            };
            return unsigned() && isNumber() ? base + " UNSIGNED" : base;
        }

        boolean isNumber() {
            return switch (type) {
                case Columns.T_TINY, Columns.T_SHORT, Columns.T_INT24, Columns.T_LONG, Columns.T_LONGLONG, Columns.T_FLOAT,
                     Columns.T_DOUBLE, Columns.T_DECIMAL, Columns.T_NEWDECIMAL -> true;
                default -> false;
            };
        }

        /** Characters (text: the byte length over utf8mb4's 4 bytes a character), else bytes/digits. */
        int displaySize() {
            long n = !binary() && !isNumber() && !Columns.isTemporal(type) ? length / 4 : length;
            return (int) Math.min(Integer.MAX_VALUE, n);
        }
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A binary result row (after its 4-byte header): NULL bitmap at offset 2, then each non-NULL value. */
    static Object[] decodeRow(ByteBuf p, List<ColumnDef> columns) {
        int n = columns.size();
        p.skipBytes(1); // 0x00
        int bitmapAt = p.readerIndex();
        p.skipBytes((n + 7 + 2) / 8);
        Object[] row = new Object[n];
        for (int i = 0; i < n; i++) {
            int bit = i + 2;
            if ((p.getUnsignedByte(bitmapAt + bit / 8) & (1 << (bit % 8))) != 0) {
                continue;
            }
            row[i] = value(p, columns.get(i));
        }
        return row;
    }

    /** One binary value as the Java object MySQL Connector/J's getObject gives for its column type. */
    private static Object value(ByteBuf p, ColumnDef c) {
        boolean unsigned = c.unsigned();
        switch (c.type()) {
            case Columns.T_TINY:
                return unsigned ? (int) p.readUnsignedByte() : (int) p.readByte();
            case Columns.T_SHORT:
                return unsigned ? p.readUnsignedShortLE() : (int) p.readShortLE();
            case Columns.T_YEAR:
                return p.readUnsignedShortLE();
            case Columns.T_LONG, Columns.T_INT24:
                return unsigned ? (Object) p.readUnsignedIntLE() : (Object) p.readIntLE();
            case Columns.T_LONGLONG: {
                long v = p.readLongLE();
                return unsigned && v < 0 ? new BigInteger(Long.toUnsignedString(v)) : (Object) v;
            }
            case Columns.T_FLOAT:
                return p.readFloatLE();
            case Columns.T_DOUBLE:
                return p.readDoubleLE();
            case Columns.T_DECIMAL, Columns.T_NEWDECIMAL:
                return new BigDecimal(text(Wire.readLenencBytes(p)));
            case Columns.T_DATE, Columns.T_DATETIME, Columns.T_TIMESTAMP: {
                int[] f = BinaryValues.readDateTime(p);
                if (f == null || f[0] == 0 || f[1] == 0 || f[2] == 0) {
                    return null; // a zero date: Connector/J's convertToNull
                }
                return c.type() == Columns.T_DATE ? (Object) LocalDate.of(f[0], f[1], f[2])
                        : LocalDateTime.of(f[0], f[1], f[2], f[3], f[4], f[5], f[6] * 1000);
            }
            case Columns.T_TIME:
                return BinaryValues.readTime(p);
            default: {
                byte[] b = Wire.readLenencBytes(p);
                return c.binary() && c.type() != Columns.T_JSON ? b : text(b);
            }
        }
    }

    /** COM_STMT_EXECUTE of server statement {@code id} with {@code params} (types always sent). */
    static ByteBuf executePacket(int id, Object[] params) {
        ByteBuf b = ByteBufAllocator.DEFAULT.buffer(64);
        int at = Codec.beginPacket(b, 0);
        b.writeByte(Command.COM_STMT_EXECUTE);
        b.writeIntLE(id);
        b.writeByte(0);
        b.writeIntLE(1);
        int n = params.length;
        if (n > 0) {
            int bitmapAt = b.writerIndex();
            b.writeZero((n + 7) / 8);
            b.writeByte(1);
            int typesAt = b.writerIndex();
            b.writeZero(2 * n);
            for (int i = 0; i < n; i++) {
                Object v = params[i];
                int type;
                if (v == null) {
                    b.setByte(bitmapAt + i / 8, b.getByte(bitmapAt + i / 8) | (1 << (i % 8)));
                    type = Columns.T_NULL;
                } else {
                    type = writeValue(b, v);
                }
                b.setShortLE(typesAt + 2 * i, type);
            }
        }
        Codec.endPacket(b, at);
        return b;
    }

    /** Writes one parameter value; returns its type (0x8000 set for unsigned). */
    private static int writeValue(ByteBuf b, Object v) {
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            b.writeIntLE(((Number) v).intValue());
            return Columns.T_LONG;
        }
        if (v instanceof Long l) {
            b.writeLongLE(l);
            return Columns.T_LONGLONG;
        }
        if (v instanceof Boolean z) {
            b.writeByte(z ? 1 : 0);
            return Columns.T_TINY;
        }
        if (v instanceof Double d) {
            b.writeDoubleLE(d);
            return Columns.T_DOUBLE;
        }
        if (v instanceof Float f) {
            b.writeFloatLE(f);
            return Columns.T_FLOAT;
        }
        if (v instanceof BigDecimal d) {
            Wire.lenencString(b, d.toPlainString());
            return Columns.T_NEWDECIMAL;
        }
        if (v instanceof BigInteger i) {
            Wire.lenencString(b, i.toString());
            return Columns.T_NEWDECIMAL;
        }
        if (v instanceof byte[] bytes) {
            Wire.lenencBytes(b, bytes);
            return Columns.T_BLOB;
        }
        LocalDateTime t = v instanceof LocalDateTime x ? x : v instanceof Timestamp ts ? ts.toLocalDateTime()
                : v instanceof java.util.Date && !(v instanceof java.sql.Date) && !(v instanceof java.sql.Time)
                ? new Timestamp(((java.util.Date) v).getTime()).toLocalDateTime() : null;
        if (t != null) {
            BinaryValues.writeDateTime(b, t);
            return Columns.T_DATETIME;
        }
        LocalDate d = v instanceof LocalDate x ? x : v instanceof java.sql.Date sd ? sd.toLocalDate() : null;
        if (d != null) {
            BinaryValues.writeDate(b, d);
            return Columns.T_DATE;
        }
        LocalTime lt = v instanceof LocalTime x ? x : v instanceof java.sql.Time st ? st.toLocalTime() : null;
        if (lt != null) {
            b.writeByte(12);
            b.writeByte(0);
            b.writeIntLE(0);
            b.writeByte(lt.getHour());
            b.writeByte(lt.getMinute());
            b.writeByte(lt.getSecond());
            b.writeIntLE(lt.getNano() / 1000);
            return Columns.T_TIME;
        }
        Wire.lenencString(b, v.toString());
        return Columns.T_VAR_STRING;
    }
}
