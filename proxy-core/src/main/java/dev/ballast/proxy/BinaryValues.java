package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;

/** The binary protocol's values: parameters of COM_STMT_EXECUTE in, result rows out. */
final class BinaryValues {

    private BinaryValues() {
    }

    /** One parameter value of type {@code type} (low byte: the MySQL type; 0x8000: unsigned). */
    static Object read(ByteBuf p, int type) {
        boolean unsigned = (type & 0x8000) != 0;
        switch (type & 0xff) {
            case Columns.T_TINY -> {
                Wire.need(p, 1);
                return unsigned ? (long) p.readUnsignedByte() : (long) p.readByte();
            }
            case Columns.T_SHORT, Columns.T_YEAR -> {
                Wire.need(p, 2);
                return unsigned ? (long) p.readUnsignedShortLE() : (long) p.readShortLE();
            }
            case Columns.T_LONG, Columns.T_INT24 -> {
                Wire.need(p, 4);
                return unsigned ? p.readUnsignedIntLE() : (long) p.readIntLE();
            }
            case Columns.T_LONGLONG -> {
                Wire.need(p, 8);
                long v = p.readLongLE();
                return unsigned && v < 0 ? new BigDecimal(Long.toUnsignedString(v)) : (Object) v;
            }
            case Columns.T_FLOAT -> {
                Wire.need(p, 4);
                return (double) p.readFloatLE();
            }
            case Columns.T_DOUBLE -> {
                Wire.need(p, 8);
                return p.readDoubleLE();
            }
            case Columns.T_NULL -> {
                return null;
            }
            case Columns.T_DATE, Columns.T_DATETIME, Columns.T_TIMESTAMP -> {
                int[] f = readDateTime(p);
                if (f == null) {
                    return "0000-00-00 00:00:00";
                }
                if ((type & 0xff) == Columns.T_DATE || f[7] == 4) {
                    return String.format("%04d-%02d-%02d", f[0], f[1], f[2]);
                }
                return String.format("%04d-%02d-%02d %02d:%02d:%02d", f[0], f[1], f[2], f[3], f[4], f[5])
                        + (f[6] > 0 ? String.format(".%06d", f[6]) : "");
            }
            case Columns.T_TIME -> {
                return readTime(p);
            }
            case Columns.T_BLOB, Columns.T_TINY_BLOB, Columns.T_MEDIUM_BLOB, Columns.T_LONG_BLOB, Columns.T_GEOMETRY,
                 Columns.T_BIT -> {
                return Wire.readLenencBytes(p);
            }
            default -> {
                // VARCHAR, VAR_STRING, STRING, DECIMAL, NEWDECIMAL, JSON, ENUM, SET: text, unless it is not UTF-8
                // (MySQL Connector/J sends byte[] parameters as VAR_STRING): then its bytes, unchanged
                return textOrBytes(Wire.readLenencBytes(p));
            }
        }
    }

    /**
     * A binary DATE, DATETIME or TIMESTAMP (length byte, then the fields the length holds): year, month, day, hour,
     * minute, second, microseconds and the length; null for the zero value (length 0).
     */
    static int[] readDateTime(ByteBuf p) {
        Wire.need(p, 1);
        int n = p.readUnsignedByte();
        Wire.need(p, n);
        if (n == 0) {
            return null;
        }
        int[] f = new int[8];
        f[0] = p.readUnsignedShortLE();
        f[1] = p.readUnsignedByte();
        f[2] = p.readUnsignedByte();
        if (n >= 7) {
            f[3] = p.readUnsignedByte();
            f[4] = p.readUnsignedByte();
            f[5] = p.readUnsignedByte();
        }
        if (n >= 11) {
            f[6] = (int) p.readUnsignedIntLE();
        }
        f[7] = n;
        p.skipBytes(Math.max(0, n - (n >= 11 ? 11 : n >= 7 ? 7 : 4)));
        return f;
    }

    /** A binary TIME as text: sign, hours (may exceed 24), minutes, seconds, and microseconds when not zero. */
    static String readTime(ByteBuf p) {
        Wire.need(p, 1);
        int n = p.readUnsignedByte();
        Wire.need(p, n);
        if (n == 0) {
            return "00:00:00";
        }
        boolean negative = p.readByte() == 1;
        long days = p.readUnsignedIntLE();
        int hour = p.readUnsignedByte();
        int minute = p.readUnsignedByte();
        int second = p.readUnsignedByte();
        int micros = n >= 12 ? (int) p.readUnsignedIntLE() : 0;
        p.skipBytes(Math.max(0, n - (n >= 12 ? 12 : 8)));
        return (negative ? "-" : "") + String.format("%02d:%02d:%02d", days * 24 + hour, minute, second)
                + (micros > 0 ? String.format(".%06d", micros) : "");
    }

    /** The bytes as a String when they are valid UTF-8, else the bytes themselves. */
    static Object textOrBytes(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return bytes;
        }
    }

    static void bind(PreparedStatement ps, int index, Object value, int type) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.NULL);
        } else if (value instanceof Long l) {
            ps.setLong(index, l);
        } else if (value instanceof Double d) {
            ps.setDouble(index, d);
        } else if (value instanceof BigDecimal d) {
            ps.setBigDecimal(index, d);
        } else if (value instanceof byte[] bytes) {
            int t = type & 0xff;
            if (t == Columns.T_BLOB || t == Columns.T_TINY_BLOB || t == Columns.T_MEDIUM_BLOB || t == Columns.T_LONG_BLOB
                    || t == Columns.T_GEOMETRY || t == Columns.T_BIT) {
                ps.setBytes(index, bytes);
            } else {
                Object v = textOrBytes(bytes); // long data of a text parameter, or bytes sent as a string type
                if (v instanceof String text) {
                    ps.setString(index, text);
                } else {
                    ps.setBytes(index, bytes);
                }
            }
        } else {
            ps.setString(index, value.toString());
        }
    }

    /** A binary result row: header 0x00, the NULL bitmap (offset 2), then each non-NULL value. */
    static void writeRow(ByteBuf b, ResultSet rs, Columns.Column[] columns) throws SQLException {
        b.writeByte(0);
        int bitmapAt = b.writerIndex();
        int bitmapLength = (columns.length + 7 + 2) / 8;
        b.writeZero(bitmapLength);
        for (int i = 0; i < columns.length; i++) {
            Columns.Column c = columns[i];
            int col = i + 1;
            boolean isNull;
            switch (c.type()) {
                case Columns.T_TINY -> {
                    int v = rs.getInt(col);
                    isNull = rs.wasNull();
                    if (!isNull) {
                        b.writeByte(v);
                    }
                }
                case Columns.T_SHORT, Columns.T_YEAR -> {
                    int v = rs.getInt(col);
                    isNull = rs.wasNull();
                    if (!isNull) {
                        b.writeShortLE(v);
                    }
                }
                case Columns.T_LONG, Columns.T_INT24 -> {
                    long v = rs.getLong(col);
                    isNull = rs.wasNull();
                    if (!isNull) {
                        b.writeIntLE((int) v);
                    }
                }
                case Columns.T_LONGLONG -> {
                    long v;
                    if ((c.flags() & Columns.UNSIGNED) != 0) {
                        BigDecimal d = rs.getBigDecimal(col);
                        isNull = d == null;
                        v = isNull ? 0 : d.toBigInteger().longValue();
                    } else {
                        v = rs.getLong(col);
                        isNull = rs.wasNull();
                    }
                    if (!isNull) {
                        b.writeLongLE(v);
                    }
                }
                case Columns.T_FLOAT -> {
                    float v = rs.getFloat(col);
                    isNull = rs.wasNull();
                    if (!isNull) {
                        b.writeFloatLE(v);
                    }
                }
                case Columns.T_DOUBLE -> {
                    double v = rs.getDouble(col);
                    isNull = rs.wasNull();
                    if (!isNull) {
                        b.writeDoubleLE(v);
                    }
                }
                case Columns.T_DATE -> {
                    LocalDate d = localDate(rs, col);
                    isNull = d == null;
                    if (!isNull) {
                        writeDate(b, d);
                    }
                }
                case Columns.T_DATETIME, Columns.T_TIMESTAMP -> {
                    LocalDateTime t = localDateTime(rs, col);
                    isNull = t == null;
                    if (!isNull) {
                        writeDateTime(b, t);
                    }
                }
                case Columns.T_TIME -> {
                    Time t = readTime(rs, col);
                    isNull = t == null;
                    if (!isNull) {
                        writeTime(b, t);
                    }
                }
                default -> {
                    if (c.binaryValue()) {
                        byte[] v = rs.getBytes(col);
                        isNull = v == null;
                        if (!isNull) {
                            Wire.lenencBytes(b, v);
                        }
                    } else {
                        String v = rs.getString(col);
                        isNull = v == null;
                        if (!isNull) {
                            Wire.lenencString(b, v);
                        }
                    }
                }
            }
            if (isNull) {
                int bit = i + 2;
                int at = bitmapAt + bit / 8;
                b.setByte(at, b.getByte(at) | (1 << (bit % 8)));
            }
        }
    }

    /** A TIME value: sign, hours (may exceed 24), minutes, seconds, microseconds. */
    record Time(boolean negative, long hours, int minutes, int seconds, int micros) {

        /** From text as the server writes it: [-]h:mm:ss[.ffffff]. */
        static Time parse(String s) {
            boolean negative = s.startsWith("-");
            String t = negative ? s.substring(1) : s;
            String[] parts = t.split("[:.]");
            long hours = Long.parseLong(parts[0]);
            int minutes = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            int seconds = parts.length > 2 ? Integer.parseInt(parts[2]) : 0;
            int micros = 0;
            if (parts.length > 3) {
                micros = Integer.parseInt((parts[3] + "000000").substring(0, 6));
            }
            return new Time(negative, hours, minutes, seconds, micros);
        }
    }

    /**
     * A TIME column of the current row, or null for SQL NULL.
     *
     * <p>Not {@code rs.getString}: the server connections use MySQL Connector/J with server-side prepared statements,
     * and its decoder of binary TIME values drops the sign unless there are whole days (it negates only the day count):
     * {@code -12:34:56} reads as {@code 12:34:56}, {@code -36:00:01} as {@code -12:00:01}. {@code getBytes} gives the
     * value as the server sent it, binary (sign, days, h, m, s[, µs]) or text, and both are decoded here.
     */
    static Time readTime(ResultSet rs, int col) throws SQLException {
        byte[] raw;
        try {
            raw = rs.getBytes(col);
        } catch (SQLException e) {
            String s = rs.getString(col); // a result that cannot hand out bytes (e.g. merged in memory): its text
            return s == null ? null : Time.parse(s);
        }
        if (raw == null) {
            return null;
        }
        if (raw.length == 0) {
            return new Time(false, 0, 0, 0, 0);
        }
        if ((raw.length == 8 || raw.length == 12) && (raw[0] == 0 || raw[0] == 1)) {
            ByteBuf v = io.netty.buffer.Unpooled.wrappedBuffer(raw);
            boolean negative = v.readByte() == 1;
            long days = v.readUnsignedIntLE();
            int hour = v.readUnsignedByte();
            int minute = v.readUnsignedByte();
            int second = v.readUnsignedByte();
            int micros = raw.length == 12 ? (int) v.readUnsignedIntLE() : 0;
            return new Time(negative, days * 24 + hour, minute, second, micros);
        }
        return Time.parse(new String(raw, StandardCharsets.US_ASCII)); // text protocol: [-]h:mm:ss[.f]
    }

    static void writeTime(ByteBuf b, Time t) {
        b.writeByte(t.micros() != 0 ? 12 : 8);
        b.writeByte(t.negative() ? 1 : 0);
        b.writeIntLE((int) (t.hours() / 24));
        b.writeByte((int) (t.hours() % 24));
        b.writeByte(t.minutes());
        b.writeByte(t.seconds());
        if (t.micros() != 0) {
            b.writeIntLE(t.micros());
        }
    }

    /** A binary DATE: length 4, year, month, day. */
    static void writeDate(ByteBuf b, LocalDate d) {
        b.writeByte(4);
        b.writeShortLE(d.getYear());
        b.writeByte(d.getMonthValue());
        b.writeByte(d.getDayOfMonth());
    }

    /** A binary DATETIME: length 7 (to the second) or 11 (with microseconds), as a server writes it. */
    static void writeDateTime(ByteBuf b, LocalDateTime t) {
        int micros = t.getNano() / 1000;
        b.writeByte(micros != 0 ? 11 : 7);
        b.writeShortLE(t.getYear());
        b.writeByte(t.getMonthValue());
        b.writeByte(t.getDayOfMonth());
        b.writeByte(t.getHour());
        b.writeByte(t.getMinute());
        b.writeByte(t.getSecond());
        if (micros != 0) {
            b.writeIntLE(micros);
        }
    }

    /**
     * A DATETIME value. Not every result set converts to java.time types on request: ShardingSphere's merged result of
     * a SHOW statement answers getObject(col, LocalDateTime.class) with "Not supported yet." and holds LocalDateTime
     * values that getTimestamp cannot cast, so the value it holds is converted here.
     */
    private static LocalDateTime localDateTime(ResultSet rs, int col) throws SQLException {
        try {
            return rs.getObject(col, LocalDateTime.class);
        } catch (SQLException e) {
            Object v = rs.getObject(col);
            if (v == null || v instanceof LocalDateTime) {
                return (LocalDateTime) v;
            }
            if (v instanceof java.sql.Timestamp t) {
                return t.toLocalDateTime();
            }
            if (v instanceof LocalDate d) {
                return d.atStartOfDay();
            }
            return LocalDateTime.parse(v.toString().trim().replace(' ', 'T'));
        }
    }

    private static LocalDate localDate(ResultSet rs, int col) throws SQLException {
        try {
            return rs.getObject(col, LocalDate.class);
        } catch (SQLException e) {
            Object v = rs.getObject(col);
            if (v == null || v instanceof LocalDate) {
                return (LocalDate) v;
            }
            if (v instanceof java.sql.Date d) {
                return d.toLocalDate();
            }
            if (v instanceof LocalDateTime t) {
                return t.toLocalDate();
            }
            return LocalDate.parse(v.toString().trim().substring(0, 10));
        }
    }
}
