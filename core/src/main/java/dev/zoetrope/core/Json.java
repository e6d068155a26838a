package dev.zoetrope.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser (RFC 8259) for safetensors headers and model configs, so that the core module
 * needs no third-party library. Objects become insertion-ordered {@code Map<String,Object>}, arrays
 * {@code List<Object>}, numbers {@code Long} when integral and in range, otherwise {@code Double}; plus
 * String, Boolean and {@link #NULL}. Errors are {@link JsonException}s with the character offset.
 */
public final class Json {
    /** The JSON null (maps cannot hold Java null values in every implementation). */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static final int MAX_DEPTH = 512;

    private final String text;
    private int pos;
    private int depth;

    private Json(String text) {
        this.text = text;
    }

    public static final class JsonException extends RuntimeException {
        public JsonException(String message) {
            super(message);
        }
    }

    public static Object parse(String text) {
        Json parser = new Json(text);
        parser.skipWhitespace();
        Object value = parser.readValue();
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw parser.error("unexpected trailing characters");
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new JsonException("expected a JSON object at the top level, found " + typeName(value));
        }
        return (Map<String, Object>) value;
    }

    public static String typeName(Object value) {
        if (value instanceof Map) return "object";
        if (value instanceof List) return "array";
        if (value instanceof String) return "string";
        if (value instanceof Boolean) return "boolean";
        if (value instanceof Number) return "number";
        return "null";
    }

    private JsonException error(String message) {
        return new JsonException("invalid JSON at offset " + pos + ": " + message);
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') pos++;
            else break;
        }
    }

    private Object readValue() {
        if (pos >= text.length()) throw error("unexpected end of input");
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> readObject();
            case '[' -> readArray();
            case '"' -> readString();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", NULL);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) yield readNumber();
                throw error("unexpected character '" + c + "'");
            }
        };
    }

    private Object literal(String word, Object value) {
        if (!text.startsWith(word, pos)) throw error("expected " + word);
        pos += word.length();
        return value;
    }

    private Map<String, Object> readObject() {
        if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        pos++; // {
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == '}') {
            pos++;
            depth--;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (pos >= text.length() || text.charAt(pos) != '"') throw error("expected a string key");
            String key = readString();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = readValue();
            if (map.put(key, value) != null) throw error("duplicate key \"" + key + "\"");
            skipWhitespace();
            if (pos >= text.length()) throw error("unterminated object");
            char c = text.charAt(pos++);
            if (c == '}') break;
            if (c != ',') throw error("expected ',' or '}'");
        }
        depth--;
        return map;
    }

    private List<Object> readArray() {
        if (++depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        pos++; // [
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (pos < text.length() && text.charAt(pos) == ']') {
            pos++;
            depth--;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(readValue());
            skipWhitespace();
            if (pos >= text.length()) throw error("unterminated array");
            char c = text.charAt(pos++);
            if (c == ']') break;
            if (c != ',') throw error("expected ',' or ']'");
        }
        depth--;
        return list;
    }

    private void expect(char c) {
        if (pos >= text.length() || text.charAt(pos) != c) throw error("expected '" + c + "'");
        pos++;
    }

    private String readString() {
        pos++; // opening quote
        StringBuilder sb = null;
        int start = pos;
        while (true) {
            if (pos >= text.length()) throw error("unterminated string");
            char c = text.charAt(pos);
            if (c == '"') {
                String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
                pos++;
                return s;
            }
            if (c < 0x20) throw error("control character in string");
            if (c == '\\') {
                if (sb == null) sb = new StringBuilder();
                sb.append(text, start, pos);
                pos++;
                if (pos >= text.length()) throw error("unterminated escape");
                char e = text.charAt(pos++);
                switch (e) {
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    case '/' -> sb.append('/');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > text.length()) throw error("truncated \\u escape");
                        int code = 0;
                        for (int i = 0; i < 4; i++) {
                            int d = Character.digit(text.charAt(pos++), 16);
                            if (d < 0) throw error("bad hex digit in \\u escape");
                            code = code * 16 + d;
                        }
                        sb.append((char) code);
                    }
                    default -> throw error("bad escape \\" + e);
                }
                start = pos;
            } else {
                pos++;
            }
        }
    }

    private Object readNumber() {
        int start = pos;
        if (text.charAt(pos) == '-') pos++;
        if (pos >= text.length()) throw error("truncated number");
        if (text.charAt(pos) == '0') {
            pos++;
        } else if (Character.isDigit(text.charAt(pos))) {
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
        } else {
            throw error("bad number");
        }
        boolean integral = true;
        if (pos < text.length() && text.charAt(pos) == '.') {
            integral = false;
            pos++;
            int digits = pos;
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            if (pos == digits) throw error("bad fraction");
        }
        if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
            integral = false;
            pos++;
            if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) pos++;
            int digits = pos;
            while (pos < text.length() && Character.isDigit(text.charAt(pos))) pos++;
            if (pos == digits) throw error("bad exponent");
        }
        String s = text.substring(start, pos);
        if (integral) {
            try {
                return Long.parseLong(s);
            } catch (NumberFormatException tooBig) {
                return new java.math.BigInteger(s);
            }
        }
        return Double.parseDouble(s);
    }

    // ---- writing ----

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object value) {
        if (value == null || value == NULL) {
            sb.append("null");
        } else if (value instanceof String s) {
            quote(sb, s);
        } else if (value instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                quote(sb, String.valueOf(e.getKey()));
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (value instanceof Iterable<?> list) {
            sb.append('[');
            boolean first = true;
            for (Object o : list) {
                if (!first) sb.append(',');
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (value instanceof long[] a) {
            sb.append('[');
            for (int i = 0; i < a.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(a[i]);
            }
            sb.append(']');
        } else if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            throw new JsonException("cannot write non-finite number " + d);
        } else if (value instanceof Number || value instanceof Boolean) {
            sb.append(value);
        } else {
            throw new JsonException("cannot write " + value.getClass().getName());
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    // ---- typed access helpers for configs ----

    /** Read-only typed view over a parsed JSON object, with defaults as the reference configs use them. */
    public record Obj(Map<String, Object> map) {
        public static Obj of(Object value) {
            if (value instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked") Map<String, Object> typed = (Map<String, Object>) m;
                return new Obj(typed);
            }
            throw new JsonException("expected a JSON object, found " + typeName(value));
        }

        public boolean has(String key) {
            Object v = map.get(key);
            return v != null && v != NULL;
        }

        public Object raw(String key) {
            Object v = map.get(key);
            return v == NULL ? null : v;
        }

        public String string(String key, String def) {
            Object v = raw(key);
            if (v == null) return def;
            if (v instanceof String s) return s;
            throw new JsonException("\"" + key + "\" should be a string, found " + typeName(v));
        }

        public long longValue(String key, long def) {
            Object v = raw(key);
            if (v == null) return def;
            if (v instanceof Long l) return l;
            if (v instanceof Double d && d == Math.rint(d)) return d.longValue();
            throw new JsonException("\"" + key + "\" should be an integer, found " + v);
        }

        public int intValue(String key, int def) {
            return Math.toIntExact(longValue(key, def));
        }

        public double doubleValue(String key, double def) {
            Object v = raw(key);
            if (v == null) return def;
            if (v instanceof Number n) return n.doubleValue();
            throw new JsonException("\"" + key + "\" should be a number, found " + typeName(v));
        }

        public boolean bool(String key, boolean def) {
            Object v = raw(key);
            if (v == null) return def;
            if (v instanceof Boolean b) return b;
            throw new JsonException("\"" + key + "\" should be true or false, found " + v);
        }

        public Obj obj(String key) {
            Object v = raw(key);
            return v == null ? null : Obj.of(v);
        }

        @SuppressWarnings("unchecked")
        public List<Object> list(String key) {
            Object v = raw(key);
            if (v == null) return null;
            if (v instanceof List<?> l) return (List<Object>) l;
            throw new JsonException("\"" + key + "\" should be an array, found " + typeName(v));
        }

        public int[] ints(String key, int[] def) {
            List<Object> l = list(key);
            if (l == null) return def;
            int[] out = new int[l.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(l.get(i) instanceof Number n)) throw new JsonException("\"" + key + "\" should hold numbers");
                out[i] = n.intValue();
            }
            return out;
        }

        public List<String> strings(String key, List<String> def) {
            List<Object> l = list(key);
            if (l == null) return def;
            List<String> out = new ArrayList<>(l.size());
            for (Object o : l) {
                if (o == NULL) out.add(null);
                else if (o instanceof String s) out.add(s);
                else throw new JsonException("\"" + key + "\" should hold strings");
            }
            return Collections.unmodifiableList(out);
        }
    }
}
