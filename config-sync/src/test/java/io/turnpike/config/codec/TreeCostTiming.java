package io.turnpike.config.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.plugin.PluginRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the configuration trees cost to build and decode (docs/startup.md, "Memory"): 50,000 route values shaped like
 * {@code scripts/lib/coldstart_routes.py}'s, parsed with Jackson's default nodes, with {@link CompactFieldMap} only,
 * with compact arrays too, and with {@link CompactNodeFactory} (shared strings and ints as well), then decoded; the
 * best thread CPU time of rounds 5-16 per variant (a GC before each). Not a test: run by hand,
 * {@code java -cp config-sync/target/classes:config-sync/target/test-classes:CLASSPATH
 * io.turnpike.config.codec.TreeCostTiming}.
 */
public final class TreeCostTiming {
    private TreeCostTiming() {
    }

    private static class MapsOnly extends JsonNodeFactory {
        MapsOnly() {
            super(false);
        }

        @Override
        public ObjectNode objectNode() {
            return new ObjectNode(this, new CompactFieldMap());
        }
    }

    private static final class MapsAndArrays extends MapsOnly {
        @Override
        public ArrayNode arrayNode() {
            return new ArrayNode(this, 2);
        }
    }

    private static ObjectMapper reader(JsonNodeFactory f) {
        return JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).nodeFactory(f).build();
    }

    static byte[] route(int i) {
        StringBuilder s = new StringBuilder("{\"id\":\"r" + i + "\",\"create_time\":1700000000,"
                + "\"update_time\":1700000001,");
        s.append(i % 4 == 3 ? "\"uri\":\"/rp/" + i + "/*\"" : "\"uri\":\"/r/" + i + "/v1\"");
        if (i % 3 == 1) {
            s.append(",\"methods\":[\"GET\"]");
        } else if (i % 3 == 2) {
            s.append(",\"methods\":[\"GET\",\"POST\",\"PUT\"]");
        }
        if (i % 7 == 0) {
            s.append(",\"hosts\":[\"h").append(i).append(".coldstart.test\"]");
        }
        if (i % 5 == 0) {
            s.append(",\"name\":\"route-").append(i).append("\",\"desc\":\"generated\",\"labels\":{\"team\":\"t")
                    .append(i % 9).append("\"},\"priority\":").append(i % 3);
        }
        s.append(",\"upstream\":{\"type\":\"").append(i % 2 == 0 ? "roundrobin\"," : "chash\",")
                .append(i % 2 == 0 ? "" : "\"hash_on\":\"vars\",\"key\":\"remote_addr\",")
                .append("\"nodes\":[{\"host\":\"127.0.0.1\",\"port\":").append(18080 + i % 3).append(",\"weight\":1}")
                .append(i % 2 == 0 ? ",{\"host\":\"127.0.0.1\",\"port\":18081,\"weight\":2}" : "").append(']');
        if (i % 4 == 0) {
            s.append(",\"timeout\":{\"connect\":1,\"send\":2,\"read\":3},\"retries\":2");
        }
        return s.append("}}").toString().getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        int n = 50_000;
        List<byte[]> values = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            values.add(route(i));
        }
        ObjectMapper[] readers = {reader(JsonNodeFactory.instance), reader(new MapsOnly()),
                reader(new MapsAndArrays()), DecodeLimits.jsonReader()};
        String[] names = {"Jackson's nodes", "compact maps", "maps + arrays", "CompactNodeFactory"};
        ResourceCodec codec = ResourceCodec.sharingInput(PluginRegistry.builtin());
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        double[][] best = new double[readers.length][];
        for (int round = 0; round < 16; round++) {
            for (int k = 0; k < readers.length; k++) {
                System.gc();
                long c0 = cpu.getCurrentThreadCpuTime();
                List<JsonNode> trees = new ArrayList<>(n);
                for (byte[] v : values) {
                    trees.add(readers[k].readTree(v));
                }
                long c1 = cpu.getCurrentThreadCpuTime();
                List<Object> decoded = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    decoded.add(codec.decodeRoute("r" + i, trees.get(i)));
                }
                long c2 = cpu.getCurrentThreadCpuTime();
                if (round >= 4) {
                    double parse = (c1 - c0) / 1e6;
                    double decode = (c2 - c1) / 1e6;
                    best[k] = best[k] == null ? new double[] {parse, decode}
                            : new double[] {Math.min(best[k][0], parse), Math.min(best[k][1], decode)};
                }
            }
        }
        for (int k = 0; k < readers.length; k++) {
            System.out.printf("%-20s parse %4.0f ms, decode %4.0f ms CPU for %d routes (best of 12 rounds)%n",
                    names[k], best[k][0], best[k][1], n);
        }
    }
}
