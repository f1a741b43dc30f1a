package io.quaver.dashboard;

/// A minimal JSON writer for the dashboard's API: objects, arrays, strings, numbers, `null`.
/// Commas are inserted by the writer; the caller only opens and closes.
final class JsonOut {
    private final StringBuilder b = new StringBuilder(4096);
    private boolean needComma;

    JsonOut beginObject() {
        comma();
        b.append('{');
        needComma = false;
        return this;
    }

    JsonOut endObject() {
        b.append('}');
        needComma = true;
        return this;
    }

    JsonOut beginArray() {
        comma();
        b.append('[');
        needComma = false;
        return this;
    }

    JsonOut endArray() {
        b.append(']');
        needComma = true;
        return this;
    }

    /// A member name; the value follows.
    JsonOut name(String name) {
        comma();
        string(name);
        b.append(':');
        needComma = false;
        return this;
    }

    JsonOut value(String s) {
        comma();
        if (s == null) {
            b.append("null");
        } else {
            string(s);
        }
        needComma = true;
        return this;
    }

    JsonOut value(long v) {
        comma();
        b.append(v);
        needComma = true;
        return this;
    }

    /// A measurement where negative means "not known": written as `null`.
    JsonOut measured(long v) {
        comma();
        if (v < 0) {
            b.append("null");
        } else {
            b.append(v);
        }
        needComma = true;
        return this;
    }

    JsonOut value(boolean v) {
        comma();
        b.append(v);
        needComma = true;
        return this;
    }

    private void comma() {
        if (needComma) {
            b.append(',');
            needComma = false;
        }
    }

    private void string(String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                // '<' escaped so that a value can never close a <script> element
                case '<' -> b.append("\\u003c");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    @Override
    public String toString() {
        return b.toString();
    }
}
