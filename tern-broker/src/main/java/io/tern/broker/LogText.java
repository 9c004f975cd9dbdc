package io.tern.broker;

/**
 * A string a client chose (a user name, a client id, a destination name), made safe for one log line:
 * control characters are escaped, so a newline cannot forge a line of its own, and it is cut at
 * {@value #MAX_CHARS} characters.
 */
public final class LogText {
    static final int MAX_CHARS = 200;

    private LogText() {
    }

    public static String of(String text) {
        if (text == null) {
            return "null";
        }
        int n = Math.min(text.length(), MAX_CHARS);
        StringBuilder b = new StringBuilder(n + 8);
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        if (text.length() > MAX_CHARS) {
            b.append("...(").append(text.length()).append(" chars)");
        }
        return b.toString();
    }
}
