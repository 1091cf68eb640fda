package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * The node factory of every configuration tree Turnpike parses and keeps (etcd values, Admin API bodies, the
 * standalone file): Jackson's own nodes, with smaller containers. Objects get a {@link CompactFieldMap} instead of a
 * {@code LinkedHashMap}; arrays start with room for two elements instead of ten (methods, hosts and nodes lists
 * usually hold one to three); short strings and small integers that repeat across values ({@code "GET"},
 * {@code "roundrobin"}, a node's host, its port, a weight) share one node, found in a small cache.
 *
 * <p>The trees behave exactly as Jackson's (same node classes, field order, equality, serialization); only their
 * size changes. Copies made with {@code deepCopy()} are Jackson's default containers again, which suits the short-lived
 * copies the codec makes. Measured with 50,000 routes from etcd: see docs/startup.md, "Memory".
 */
public final class CompactNodeFactory extends JsonNodeFactory {
    private static final long serialVersionUID = 1L;

    /** Shared by every reader: its only state is the two caches below, safe to share (see {@link #textNode}). */
    public static final CompactNodeFactory INSTANCE = new CompactNodeFactory();

    /** Strings up to this many chars are looked up in {@link #TEXTS}; longer ones (URIs, PEM, scripts) rarely repeat. */
    static final int MAX_SHARED_TEXT = 48;
    private static final int TEXT_BITS = 12;
    private static final int INT_BITS = 10;
    /**
     * Direct-mapped caches: one slot per hash, a miss replaces the slot. Lossy by design (bounded: 4,096 + 1,024
     * references, no eviction work, no lock); a node found is equal to the one the parser asked for, so sharing it
     * changes nothing a reader can see: nodes are immutable. A racing reader sees either node, both correct.
     */
    private static final TextNode[] TEXTS = new TextNode[1 << TEXT_BITS];
    private static final IntNode[] INTS = new IntNode[1 << INT_BITS];

    private CompactNodeFactory() {
        super(false);
    }

    @Override
    public ObjectNode objectNode() {
        return new ObjectNode(this, new CompactFieldMap());
    }

    @Override
    public ArrayNode arrayNode() {
        return new ArrayNode(this, 2);
    }

    @Override
    public TextNode textNode(String text) {
        if (text == null || text.isEmpty() || text.length() > MAX_SHARED_TEXT) {
            return super.textNode(text);
        }
        int slot = (text.hashCode() * 0x9E3779B9) >>> (32 - TEXT_BITS);
        TextNode hit = TEXTS[slot];
        if (hit != null && hit.textValue().equals(text)) {
            return hit;
        }
        TextNode made = super.textNode(text);
        TEXTS[slot] = made;
        return made;
    }

    @Override
    public NumericNode numberNode(int v) {
        if (v >= -1 && v <= 10) {
            return IntNode.valueOf(v); // Jackson's own shared nodes
        }
        int slot = (v * 0x9E3779B9) >>> (32 - INT_BITS);
        IntNode hit = INTS[slot];
        if (hit != null && hit.intValue() == v) {
            return hit;
        }
        IntNode made = IntNode.valueOf(v);
        INTS[slot] = made;
        return made;
    }
}
