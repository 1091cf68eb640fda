package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link CanonicalJson} writes exactly what the limit plugins' identity used to be built with (an ObjectMapper with
 * sorted map entries over the tree's plain Java value): limiters and their Redis keys keep their names across the
 * change. Compared here on hand-picked trees and on random ones.
 */
class CanonicalJsonTest {
    private static final ObjectMapper SORTED = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private static String jackson(JsonNode n) throws Exception {
        return SORTED.writeValueAsString(SORTED.treeToValue(n, Object.class));
    }

    private static void same(JsonNode n) throws Exception {
        assertEquals(jackson(n), CanonicalJson.write(n), "for " + n);
    }

    @Test
    void limitConfigurationsAsTheyArriveAreWrittenAsJacksonWroteThem() throws Exception {
        same(SORTED.readTree("{\"time_window\":60,\"count\":2,\"key_type\":\"var\",\"key\":\"remote_addr\","
                + "\"rejected_code\":503,\"policy\":\"redis\",\"redis_host\":\"127.0.0.1\",\"redis_port\":6379,"
                + "\"show_limit_quota_header\":true,\"allow_degradation\":false,\"group\":\"g1\"}"));
        same(SORTED.readTree("{\"rate\":1.5,\"burst\":0.5,\"nodelay\":true,\"key\":\"$http_x_user\","
                + "\"redis_cluster_nodes\":[\"127.0.0.1:7000\",\"127.0.0.1:7001\"],\"rejected_msg\":\"slow \\\"down\\\"\","
                + "\"nested\":{\"z\":null,\"a\":[1,{\"y\":2,\"b\":3}],\"m\":-0.0}}"));
        // the config-sync trees: compact objects, shared small values
        JsonNode compact = new ObjectMapper().setNodeFactory(CompactNodeFactory.INSTANCE)
                .readTree("{\"count\":100,\"time_window\":1,\"key\":\"consumer_name\",\"b\":{\"d\":1e3,\"c\":\"é\\u0001\\t\"}}");
        same(compact);
    }

    @Test
    void everyKindOfValue() throws Exception {
        ObjectNode o = F.objectNode();
        o.put("int", 7).put("negative", -2_147_483_648).put("long", 1L << 40).put("bigint", new BigInteger("123456789012345678901234567890"))
                .put("double", 0.1).put("exp", 1e300).put("tiny", 4.9e-324).put("decimal", new BigDecimal("2.50")).put("decimal_exp", new BigDecimal("1E+3"))
                .put("float", 1.1f).put("true", true).put("false", false).putNull("null").put("empty", "")
                .put("controls", "\u0000\u0007\b\t\n\u000b\f\r\u001f\u007f").put("quotes", "\"\\/").put("unicode", "Ωé\uD83D\uDE00")
                .put("binary", new byte[] {1, 2, 3, (byte) 0xff});
        o.putArray("array").add(1).add("two").addNull().add(F.objectNode().put("k", "v")).add(F.arrayNode());
        o.putObject("empty_object");
        o.put("B", 1).put("a", 2).put("_", 3).put("10", 4).put("9", 5).put("\u00e9", 6);
        same(o);
    }

    @Test
    void randomTrees() throws Exception {
        Random r = new Random(14);
        for (int i = 0; i < 500; i++) {
            same(random(r, 0));
        }
    }

    private static JsonNode random(Random r, int depth) {
        int kind = depth >= 4 ? 2 + r.nextInt(6) : r.nextInt(8);
        switch (kind) {
            case 0: {
                ObjectNode o = F.objectNode();
                for (int i = r.nextInt(6); i > 0; i--) {
                    o.set(randomString(r), random(r, depth + 1));
                }
                return o;
            }
            case 1: {
                ArrayNode a = F.arrayNode();
                for (int i = r.nextInt(5); i > 0; i--) {
                    a.add(random(r, depth + 1));
                }
                return a;
            }
            case 2: return F.textNode(randomString(r));
            case 3: return F.numberNode(r.nextInt());
            case 4: return F.numberNode(r.nextLong());
            case 5: return F.numberNode(r.nextDouble() * Math.pow(10, r.nextInt(40) - 20));
            case 6: return F.booleanNode(r.nextBoolean());
            default: return F.nullNode();
        }
    }

    private static String randomString(Random r) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(8); i > 0; i--) {
            int pick = r.nextInt(10);
            b.append(pick < 6 ? (char) ('a' + r.nextInt(26)) : pick < 8 ? (char) r.nextInt(0x80) : (char) (0x80 + r.nextInt(0x3000)));
        }
        return b.toString();
    }
}
