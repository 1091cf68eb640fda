package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;

/**
 * Header edits of one exchange, applied in the single pass that writes the head (request toward the upstream, or
 * response toward the client): removals and replacements drop matching received lines, then replacements and
 * additions are appended. Names are compared case-insensitively against lower-case bytes.
 *
 * <p>Bounded, reused per exchange: recording an edit stores references to byte arrays that outlive the exchange (a
 * plugin's compiled values) or to the exchange's own scratch. Edits beyond the capacity are refused at compile time
 * ({@link #CAPACITY} is the most a chain can record). The arrays start at {@link #INITIAL} entries and double, up to
 * {@link #CAPACITY}, the first time an exchange of the connection records more: every connection has two of these, and
 * most chains record a few edits or none, so a connection costs ~200 bytes here instead of ~2.8 KB; a keep-alive
 * connection allocates nothing once its largest chain has run. Confined to its event loop.
 */
public final class HeaderEdits {
    /** The most edits one exchange can record (the chain compiler refuses chains that could need more). */
    public static final int CAPACITY = 64;

    static final byte OP_REMOVE = 0;
    static final byte OP_SET = 1;
    static final byte OP_ADD = 2;

    /** Starting capacity of the arrays. */
    static final int INITIAL = 4;

    private byte[] op = new byte[INITIAL];
    private byte[][] lowerName = new byte[INITIAL][];
    private byte[][] name = new byte[INITIAL][];
    private byte[][] value = new byte[INITIAL][];
    private int[] valueOffset = new int[INITIAL];
    private int[] valueLength = new int[INITIAL];
    private int size;

    public void clear() {
        for (int i = 0; i < size; i++) {
            lowerName[i] = null;
            name[i] = null;
            value[i] = null;
        }
        size = 0;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /** Drops every received line named {@code lower}. */
    public void remove(byte[] lower) {
        put(OP_REMOVE, lower, null, null, 0, 0);
    }

    /** Replaces every received line named {@code lower} by one {@code name: value} line. */
    public void set(byte[] lower, byte[] name, byte[] value) {
        set(lower, name, value, 0, value.length);
    }

    /** As {@link #set(byte[], byte[], byte[])} with the value {@code value[offset, offset + length)}. */
    public void set(byte[] lower, byte[] name, byte[] value, int offset, int length) {
        put(OP_SET, lower, name, value, offset, length);
    }

    /** As {@link #add(byte[], byte[], byte[])} with the value {@code value[offset, offset + length)}. */
    public void addRange(byte[] lower, byte[] name, byte[] value, int offset, int length) {
        put(OP_ADD, lower, name, value, offset, length);
    }

    /** Appends a {@code name: value} line, keeping received ones. */
    public void add(byte[] lower, byte[] name, byte[] value) {
        put(OP_ADD, lower, name, value, 0, value.length);
    }

    private void put(byte o, byte[] lower, byte[] n, byte[] v, int voff, int vlen) {
        if (size == op.length) {
            if (size == CAPACITY) {
                return; // unreachable for compiled chains (bounded at compile time)
            }
            grow();
        }
        op[size] = o;
        lowerName[size] = lower;
        name[size] = n;
        value[size] = v;
        valueOffset[size] = voff;
        valueLength[size] = vlen;
        size++;
    }

    private void grow() {
        int cap = Math.min(CAPACITY, op.length * 2);
        op = java.util.Arrays.copyOf(op, cap);
        lowerName = java.util.Arrays.copyOf(lowerName, cap);
        name = java.util.Arrays.copyOf(name, cap);
        value = java.util.Arrays.copyOf(value, cap);
        valueOffset = java.util.Arrays.copyOf(valueOffset, cap);
        valueLength = java.util.Arrays.copyOf(valueLength, cap);
    }

    /** True when the received line with name span {@code [start, end)} of {@code src} is removed or replaced. */
    public boolean drops(ByteBuf src, int start, int end) {
        for (int i = 0; i < size; i++) {
            if (op[i] != OP_ADD && Bytes.equalsLower(src, start, end, lowerName[i])) {
                return true;
            }
        }
        return false;
    }

    /** True when a line named {@code lower} is removed or replaced (for headers the writer generates itself). */
    public boolean drops(byte[] lower) {
        for (int i = 0; i < size; i++) {
            if (op[i] != OP_ADD && java.util.Arrays.equals(lowerName[i], lower)) {
                return true;
            }
        }
        return false;
    }

    /** Appends the set and added lines ({@code name: value\r\n}); the last set of a name wins. */
    public void writeLines(ByteBuf out) {
        for (int i = 0; i < size; i++) {
            byte o = op[i];
            if (o == OP_REMOVE) {
                continue;
            }
            if (o == OP_SET && supersededLater(i)) {
                continue;
            }
            out.writeBytes(name[i]);
            out.writeByte(':');
            out.writeByte(' ');
            out.writeBytes(value[i], valueOffset[i], valueLength[i]);
            out.writeByte('\r');
            out.writeByte('\n');
        }
    }

    private boolean supersededLater(int i) {
        for (int j = i + 1; j < size; j++) {
            if (op[j] != OP_ADD && java.util.Arrays.equals(lowerName[j], lowerName[i])) {
                return true;
            }
        }
        return false;
    }

    /** Upper bound of the bytes {@link #writeLines} writes. */
    public int linesBytes() {
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (op[i] != OP_REMOVE) {
                n += name[i].length + valueLength[i] + 4;
            }
        }
        return n;
    }
}
