package io.turnpike.config.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CompactNodeFactoryTest {

    /** Random puts, replaces, removes (direct, through each view's iterator), entry writes and clears, checked
     *  against a LinkedHashMap after every step: contents, order, size, equality and hash in both directions. */
    @Test
    void behavesAsALinkedHashMapUnderRandomOperations() {
        Random rnd = new Random(20261207);
        for (int round = 0; round < 300; round++) {
            CompactFieldMap m = new CompactFieldMap();
            LinkedHashMap<String, JsonNode> ref = new LinkedHashMap<>();
            int keys = 1 + rnd.nextInt(round % 3 == 0 ? 40 : 14);
            for (int step = 0; step < 200; step++) {
                String k = "k" + rnd.nextInt(keys);
                JsonNode v = rnd.nextInt(10) == 0 ? null : IntNode.valueOf(rnd.nextInt(1000));
                switch (rnd.nextInt(8)) {
                    case 0, 1, 2 -> assertEquals(ref.put(k, v), m.put(new String(k), v), "put " + k);
                    case 3 -> assertEquals(ref.remove(k), m.remove(k), "remove " + k);
                    case 4 -> { // remove through the entry iterator, every third field
                        int i = 0;
                        for (Iterator<Map.Entry<String, JsonNode>> it = m.entrySet().iterator(); it.hasNext(); i++) {
                            Map.Entry<String, JsonNode> e = it.next();
                            if (i % 3 == 1) {
                                it.remove();
                                ref.remove(e.getKey());
                            }
                        }
                    }
                    case 5 -> { // write through entries
                        for (Map.Entry<String, JsonNode> e : m.entrySet()) {
                            JsonNode nv = TextNode.valueOf(e.getKey() + step);
                            assertEquals(ref.put(e.getKey(), nv), e.setValue(nv));
                        }
                    }
                    case 6 -> { // keySet and values views
                        assertEquals(m.keySet().remove(k), ref.keySet().remove(k));
                        Iterator<JsonNode> vi = m.values().iterator();
                        if (vi.hasNext()) {
                            vi.next();
                            vi.remove();
                            ref.remove(ref.keySet().iterator().next());
                        }
                    }
                    default -> {
                        if (rnd.nextInt(20) == 0) {
                            m.clear();
                            ref.clear();
                        }
                    }
                }
                assertEquals(ref.size(), m.size());
                assertEquals(new ArrayList<>(ref.keySet()), new ArrayList<>(m.keySet()), "order");
                assertEquals(new ArrayList<>(ref.values()), new ArrayList<>(m.values()));
                assertEquals(ref, m);
                assertEquals(m, ref);
                assertEquals(ref.hashCode(), m.hashCode());
                assertEquals(ref.containsKey(k), m.containsKey(k));
                assertEquals(ref.get(k), m.get(k));
            }
        }
    }

    @Test
    void aLargeObjectMovesIntoAHashedMapAndKeepsItsOrder() {
        CompactFieldMap m = new CompactFieldMap();
        for (int i = 0; i < CompactFieldMap.MAX_PAIRS; i++) {
            m.put("n" + i, IntNode.valueOf(i));
        }
        assertTrue(m.compact());
        m.put("last", IntNode.valueOf(-1));
        assertFalse(m.compact(), "beyond MAX_PAIRS fields: a LinkedHashMap");
        List<String> order = new ArrayList<>(m.keySet());
        assertEquals("n0", order.get(0));
        assertEquals("last", order.get(order.size() - 1));
        assertEquals(CompactFieldMap.MAX_PAIRS + 1, m.size());
    }

    @Test
    void iteratorsFailFastAndEntriesOfRemovedFieldsSayWhy() {
        CompactFieldMap m = new CompactFieldMap();
        m.put("a", IntNode.valueOf(1));
        m.put("b", IntNode.valueOf(2));
        Iterator<Map.Entry<String, JsonNode>> it = m.entrySet().iterator();
        Map.Entry<String, JsonNode> a = it.next();
        m.put("c", IntNode.valueOf(3));
        assertThrows(ConcurrentModificationException.class, it::next);
        m.remove("a");
        assertThrows(IllegalStateException.class, a::getValue);
        Map.Entry<String, JsonNode> c = m.entrySet().stream().filter(e -> e.getKey().equals("c")).findFirst().get();
        m.remove("b"); // shifts "c" to the front: the entry still finds it
        assertEquals(IntNode.valueOf(3), c.getValue());
        assertThrows(NullPointerException.class, () -> m.put(null, IntNode.valueOf(0)));
    }

    /** The configuration reader's trees: compact containers, and the same trees as Jackson's default in every
     *  observable way (equality both ways, field order, output bytes, path lookups), large objects included. */
    @Test
    void theConfigurationReaderBuildsCompactTreesThatEqualJacksonsOwn() throws JsonProcessingException {
        StringBuilder nodes = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            nodes.append(i == 0 ? "" : ",").append("\"10.0.").append(i / 250).append('.').append(i % 250)
                    .append(":80\":").append(i % 7 + 1);
        }
        String text = "{\"uri\":\"/a\",\"methods\":[\"GET\",\"POST\"],\"plugins\":{\"key-auth\":{},"
                + "\"limit-count\":{\"count\":10,\"time_window\":60,\"rejected_msg\":\"slow down\"}},"
                + "\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{" + nodes + "},\"timeout\":{\"connect\":1.5}},"
                + "\"vars\":[[\"arg_a\",\"==\",\"1\"]],\"status\":1,\"z\":null,\"e\":{},\"arr\":[]}";
        JsonNode compact = DecodeLimits.jsonReader().readTree(text);
        JsonNode plain = new ObjectMapper().readTree(text);
        assertEquals(plain, compact);
        assertEquals(compact, plain);
        assertEquals(plain.hashCode(), compact.hashCode());
        assertEquals(new ObjectMapper().writeValueAsString(plain), new ObjectMapper().writeValueAsString(compact));
        assertEquals(plain.toString(), compact.toString());
        assertEquals(1000, compact.at("/upstream/nodes").size());
        assertEquals(4, compact.at("/upstream/nodes/10.0.0.3:80").asInt());
        assertEquals("slow down", compact.at("/plugins/limit-count/rejected_msg").asText());
        assertInstanceOf(CompactFieldMap.class, children(compact));
        assertInstanceOf(CompactFieldMap.class, children(compact.get("plugins")));
        assertFalse(((CompactFieldMap) children(compact.at("/upstream/nodes"))).compact());
        // mutation of a parsed tree (the Admin API sets fields on bodies) and copies
        ObjectNode o = (ObjectNode) compact.deepCopy();
        ((ObjectNode) compact).put("update_time", 1);
        ((ObjectNode) compact).remove("z");
        assertFalse(compact.has("z"));
        assertEquals(1, compact.get("update_time").asInt());
        assertEquals(plain, o);
        // duplicate keys are still refused (the parser's check, not the map's)
        assertThrows(JsonProcessingException.class, () -> DecodeLimits.jsonReader().readTree("{\"a\":1,\"a\":2}"));
    }

    @Test
    void repeatedShortStringsAndNumbersShareOneNodeAndStayEqual() throws JsonProcessingException {
        JsonNode a = DecodeLimits.jsonReader().readTree(
                "{\"type\":\"roundrobin\",\"nodes\":[{\"host\":\"10.1.2.3\",\"port\":8080,\"weight\":100}]}");
        JsonNode b = DecodeLimits.jsonReader().readTree(
                "{\"type\":\"roundrobin\",\"nodes\":[{\"host\":\"10.1.2.3\",\"port\":8080,\"weight\":-7}]}");
        org.junit.jupiter.api.Assertions.assertSame(a.get("type"), b.get("type"));
        org.junit.jupiter.api.Assertions.assertSame(a.at("/nodes/0/host"), b.at("/nodes/0/host"));
        org.junit.jupiter.api.Assertions.assertSame(a.at("/nodes/0/port"), b.at("/nodes/0/port"));
        assertEquals(-7, b.at("/nodes/0/weight").intValue());
        // a long string is not cached; values that collide in a slot are never confused: every node read back is
        // the value that was parsed
        String longText = "x".repeat(CompactNodeFactory.MAX_SHARED_TEXT + 1);
        JsonNode c = DecodeLimits.jsonReader().readTree("[\"" + longText + "\",\"" + longText + "\"]");
        assertFalse(c.get(0) == c.get(1));
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 20_000; i++) {
            many.append(i == 0 ? "" : ",").append("[\"s").append(i).append("\",").append(i * 31).append(']');
        }
        JsonNode d = DecodeLimits.jsonReader().readTree(many.append(']').toString());
        for (int i = 0; i < 20_000; i++) {
            assertEquals("s" + i, d.get(i).get(0).textValue());
            assertEquals(i * 31, d.get(i).get(1).intValue());
        }
    }

    private static Object children(JsonNode node) {
        try {
            Field f = ObjectNode.class.getDeclaredField("_children");
            f.setAccessible(true);
            return f.get(node);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
