package io.tern.client.message;

import jakarta.jms.MessageFormatException;

/**
 * The conversion table of the Jakarta Messaging specification (section 3.5.4 for properties, and the
 * MapMessage/StreamMessage tables): what a value written as one type may be read as.
 */
public final class Conversions {
    private Conversions() {
    }

    static MessageFormatException cannot(Object v, String type) {
        return new MessageFormatException("cannot read a " + (v == null ? "null" : v.getClass().getSimpleName())
                + " as " + type);
    }

    public static boolean toBoolean(Object v) throws MessageFormatException {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v == null || v instanceof String) {
            return Boolean.parseBoolean((String) v);
        }
        throw cannot(v, "boolean");
    }

    public static byte toByte(Object v) throws MessageFormatException {
        if (v instanceof Byte b) {
            return b;
        }
        if (v == null || v instanceof String) {
            return Byte.parseByte((String) v);
        }
        throw cannot(v, "byte");
    }

    public static short toShort(Object v) throws MessageFormatException {
        if (v instanceof Short || v instanceof Byte) {
            return ((Number) v).shortValue();
        }
        if (v == null || v instanceof String) {
            return Short.parseShort((String) v);
        }
        throw cannot(v, "short");
    }

    public static int toInt(Object v) throws MessageFormatException {
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).intValue();
        }
        if (v == null || v instanceof String) {
            return Integer.parseInt((String) v);
        }
        throw cannot(v, "int");
    }

    public static long toLong(Object v) throws MessageFormatException {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v == null || v instanceof String) {
            return Long.parseLong((String) v);
        }
        throw cannot(v, "long");
    }

    public static float toFloat(Object v) throws MessageFormatException {
        if (v instanceof Float f) {
            return f;
        }
        if (v == null) {
            throw new NullPointerException("no such value to read as float");
        }
        if (v instanceof String s) {
            return Float.parseFloat(s);
        }
        throw cannot(v, "float");
    }

    public static double toDouble(Object v) throws MessageFormatException {
        if (v instanceof Double || v instanceof Float) {
            return ((Number) v).doubleValue();
        }
        if (v == null) {
            throw new NullPointerException("no such value to read as double");
        }
        if (v instanceof String s) {
            return Double.parseDouble(s);
        }
        throw cannot(v, "double");
    }

    public static String toStringValue(Object v) throws MessageFormatException {
        if (v instanceof byte[]) {
            throw cannot(v, "String");
        }
        return v == null ? null : v.toString();
    }

    public static char toChar(Object v) throws MessageFormatException {
        if (v instanceof Character c) {
            return c;
        }
        if (v == null) {
            throw new NullPointerException("no such value to read as char");
        }
        throw cannot(v, "char");
    }

    public static byte[] toBytes(Object v) throws MessageFormatException {
        if (v == null || v instanceof byte[]) {
            return (byte[]) v;
        }
        throw cannot(v, "byte[]");
    }

    /** True for the types a property may hold. */
    static boolean isPropertyType(Object v) {
        return v instanceof Boolean || v instanceof Byte || v instanceof Short || v instanceof Integer
                || v instanceof Long || v instanceof Float || v instanceof Double || v instanceof String;
    }

    /** True for the types a map entry or stream item may hold. */
    static boolean isBodyValueType(Object v) {
        return v == null || isPropertyType(v) || v instanceof Character || v instanceof byte[];
    }
}
