package dev.ballast.proxy;

import io.netty.buffer.ByteBuf;

import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Locale;

/** Column definitions and MySQL type codes, from JDBC result set metadata. */
final class Columns {

    static final int T_DECIMAL = 0x00, T_TINY = 0x01, T_SHORT = 0x02, T_LONG = 0x03, T_FLOAT = 0x04, T_DOUBLE = 0x05,
            T_NULL = 0x06, T_TIMESTAMP = 0x07, T_LONGLONG = 0x08, T_INT24 = 0x09, T_DATE = 0x0a, T_TIME = 0x0b,
            T_DATETIME = 0x0c, T_YEAR = 0x0d, T_VARCHAR = 0x0f, T_BIT = 0x10, T_JSON = 0xf5, T_NEWDECIMAL = 0xf6,
            T_ENUM = 0xf7, T_SET = 0xf8, T_TINY_BLOB = 0xf9, T_MEDIUM_BLOB = 0xfa, T_LONG_BLOB = 0xfb, T_BLOB = 0xfc,
            T_VAR_STRING = 0xfd, T_STRING = 0xfe, T_GEOMETRY = 0xff;

    static final int NOT_NULL = 1, PRI_KEY = 2, BLOB_FLAG = 16, UNSIGNED = 32, BINARY_FLAG = 128, ENUM_FLAG = 256,
            SET_FLAG = 2048, NUM_FLAG = 32768;

    static final int UTF8MB4 = 45;
    static final int BINARY = 63;

    /** One column as the client will see it. */
    record Column(String schema, String table, String orgTable, String name, String orgName, int type, int flags,
                  int decimals, long length, int charset) {

        boolean binaryValue() {
            return charset == BINARY && (type == T_BLOB || type == T_TINY_BLOB || type == T_MEDIUM_BLOB || type == T_LONG_BLOB
                    || type == T_STRING || type == T_VAR_STRING || type == T_BIT || type == T_GEOMETRY);
        }
    }

    private Columns() {
    }

    static Column[] of(ResultSetMetaData md, String schema) throws SQLException {
        Column[] exact = fromServer(md, schema);
        if (exact != null) {
            return exact;
        }
        int n = md.getColumnCount();
        Column[] out = new Column[n];
        for (int i = 1; i <= n; i++) {
            String typeName = md.getColumnTypeName(i) == null ? "" : md.getColumnTypeName(i).toUpperCase(Locale.ROOT);
            boolean unsigned = typeName.contains("UNSIGNED") || !md.isSigned(i) && isNumeric(md.getColumnType(i));
            String base = typeName.replace(" UNSIGNED", "").replace(" ZEROFILL", "").trim();
            int type = type(base, md.getColumnType(i));
            int flags = 0;
            if (md.isNullable(i) == ResultSetMetaData.columnNoNulls) {
                flags |= NOT_NULL;
            }
            if (unsigned) {
                flags |= UNSIGNED;
            }
            boolean binary = isBinary(base, md.getColumnType(i));
            if (type == T_BLOB || type == T_TINY_BLOB || type == T_MEDIUM_BLOB || type == T_LONG_BLOB) {
                flags |= BLOB_FLAG;
            }
            if (binary) {
                flags |= BINARY_FLAG;
            }
            if (isNumeric(md.getColumnType(i))) {
                flags |= NUM_FLAG;
            }
            if (type == T_ENUM) {
                flags |= ENUM_FLAG;
                type = T_STRING;
            } else if (type == T_SET) {
                flags |= SET_FLAG;
                type = T_STRING;
            }
            int charset = binary || isNumeric(md.getColumnType(i)) || isTemporal(type) ? BINARY : UTF8MB4;
            int decimals = type == T_NEWDECIMAL || type == T_DOUBLE || type == T_FLOAT ? Math.max(0, md.getScale(i))
                    : isTemporal(type) ? Math.max(0, Math.min(6, md.getScale(i))) : 0;
            if (type == T_DOUBLE || type == T_FLOAT) {
                decimals = 31; // "not fixed", as the server reports for floating point
            }
            long length = Math.max(0, md.getColumnDisplaySize(i)) * (charset == UTF8MB4 ? 4L : 1L);
            String table = nz(md.getTableName(i));
            out[i - 1] = new Column(schema, table, table, nz(md.getColumnLabel(i)), nz(md.getColumnName(i)), type, flags,
                    decimals, Math.min(length, 0xFFFFFFFFL), charset);
        }
        return out;
    }

    /**
     * The server's own column definitions, when the metadata is MySQL Connector/J's (a statement that ran on one server,
     * or a prepare): exact type code, length, decimals, flags and character set, which JDBC metadata only approximates
     * (it reports DECIMAL(12,3) with precision 10, and no fractional-second digits of DATETIME(3)). Null otherwise.
     */
    private static Column[] fromServer(ResultSetMetaData md, String schema) {
        com.mysql.cj.result.Field[] fields;
        try {
            if (!md.isWrapperFor(com.mysql.cj.jdbc.result.ResultSetMetaData.class)) {
                return null;
            }
            fields = md.unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields();
        } catch (SQLException | RuntimeException e) {
            return null;
        }
        if (fields == null) {
            return null;
        }
        Column[] out = new Column[fields.length];
        for (int i = 0; i < fields.length; i++) {
            com.mysql.cj.result.Field f = fields[i];
            int type = f.getMysqlTypeId() & 0xff;
            long length = f.getLength();
            if (type == T_NEWDECIMAL || type == T_DECIMAL) {
                // Connector/J keeps a DECIMAL's length without its sign and decimal point; the protocol counts both
                length += (f.getDecimals() > 0 ? 1 : 0) + (f.isUnsigned() ? 0 : 1);
            }
            int charset = f.getCollationIndex();
            if (charset != BINARY) {
                // text goes out as utf8mb4 whatever the pooled connection's collation; Connector/J keeps a text column's
                // length in characters (JDBC display size), the protocol counts bytes
                charset = UTF8MB4;
                try {
                    length = Math.max(0, md.getColumnDisplaySize(i + 1)) * 4L;
                } catch (SQLException e) {
                    return null;
                }
            }
            out[i] = new Column(schema, nz(f.getTableName()), nz(f.getOriginalTableName()), nz(f.getColumnLabel()),
                    nz(f.getOriginalName()), type, f.getFlags() & 0xffff, f.getDecimals(), Math.min(length, 0xFFFFFFFFL),
                    charset);
        }
        return out;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    static boolean isTemporal(int type) {
        return type == T_DATE || type == T_DATETIME || type == T_TIMESTAMP || type == T_TIME || type == T_YEAR;
    }

    private static boolean isNumeric(int jdbcType) {
        return switch (jdbcType) {
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT, Types.FLOAT, Types.REAL, Types.DOUBLE,
                 Types.DECIMAL, Types.NUMERIC -> true;
            default -> false;
        };
    }

    private static boolean isBinary(String base, int jdbcType) {
        return base.endsWith("BLOB") || base.equals("BINARY") || base.equals("VARBINARY") || base.equals("BIT")
                || base.equals("GEOMETRY") || jdbcType == Types.BINARY || jdbcType == Types.VARBINARY
                || jdbcType == Types.LONGVARBINARY || jdbcType == Types.BLOB;
    }

    private static int type(String base, int jdbcType) {
        switch (base) {
            case "TINYINT", "BOOLEAN", "BOOL": return T_TINY;
            case "SMALLINT": return T_SHORT;
            case "MEDIUMINT": return T_INT24;
            case "INT", "INTEGER": return T_LONG;
            case "BIGINT": return T_LONGLONG;
            case "FLOAT": return T_FLOAT;
            case "DOUBLE", "REAL", "DOUBLE PRECISION": return T_DOUBLE;
            case "DECIMAL", "NUMERIC": return T_NEWDECIMAL;
            case "DATE": return T_DATE;
            case "DATETIME": return T_DATETIME;
            case "TIMESTAMP": return T_TIMESTAMP;
            case "TIME": return T_TIME;
            case "YEAR": return T_YEAR;
            case "CHAR", "BINARY": return T_STRING;
            case "VARCHAR", "VARBINARY": return T_VAR_STRING;
            case "TINYTEXT", "TINYBLOB": return T_TINY_BLOB;
            case "MEDIUMTEXT", "MEDIUMBLOB": return T_MEDIUM_BLOB;
            case "LONGTEXT", "LONGBLOB": return T_LONG_BLOB;
            case "TEXT", "BLOB": return T_BLOB;
            case "JSON": return T_BLOB;
            case "BIT": return T_BIT;
            case "ENUM": return T_ENUM;
            case "SET": return T_SET;
            case "GEOMETRY": return T_GEOMETRY;
            case "NULL": return T_NULL;
            default: break;
        }
        return switch (jdbcType) {
            case Types.BIT, Types.BOOLEAN, Types.TINYINT -> T_TINY;
            case Types.SMALLINT -> T_SHORT;
            case Types.INTEGER -> T_LONG;
            case Types.BIGINT -> T_LONGLONG;
            case Types.REAL, Types.FLOAT -> T_FLOAT;
            case Types.DOUBLE -> T_DOUBLE;
            case Types.DECIMAL, Types.NUMERIC -> T_NEWDECIMAL;
            case Types.DATE -> T_DATE;
            case Types.TIME -> T_TIME;
            case Types.TIMESTAMP -> T_DATETIME;
            case Types.NULL -> T_NULL;
            case Types.BLOB, Types.LONGVARBINARY, Types.CLOB, Types.LONGVARCHAR -> T_BLOB;
            default -> T_VAR_STRING;
        };
    }

    /** Protocol::ColumnDefinition41. */
    static void write(ByteBuf b, Column c) {
        Wire.lenencString(b, "def");
        Wire.lenencString(b, c.schema());
        Wire.lenencString(b, c.table());
        Wire.lenencString(b, c.orgTable());
        Wire.lenencString(b, c.name());
        Wire.lenencString(b, c.orgName());
        b.writeByte(0x0c);
        b.writeShortLE(c.charset());
        b.writeIntLE((int) c.length());
        b.writeByte(c.type());
        b.writeShortLE(c.flags());
        b.writeByte(c.decimals());
        b.writeShortLE(0);
    }

    /** A parameter's definition in a prepare response: clients only look at the count. */
    static Column parameter() {
        return new Column("", "", "", "?", "", T_VAR_STRING, 0, 0, 0, UTF8MB4);
    }
}
