package io.turnpike.config.yaml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.DecodeLimits;
import io.turnpike.config.codec.FieldError;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Hostile configuration input (issue 16): alias bombs, deep nesting, huge numbers, duplicate keys, NaN/Infinity and
 * huge strings are refused with a clear message and a line, each within a bounded time.
 */
class HostileConfigInputTest {
    private static final ObjectMapper JSON = DecodeLimits.jsonReader();
    private static final Duration BOUND = Duration.ofSeconds(10);

    private static String refused(String yaml) {
        LoadResult r = assertTimeoutPreemptively(BOUND, () -> StandaloneFileLoader.parse(yaml + "\n#END\n",
                "apisix.yaml", true));
        assertNull(r.config(), "must be refused");
        assertTrue(!r.problems().isEmpty());
        return r.render();
    }

    private static <T> T bounded(Supplier<T> s) {
        return assertTimeoutPreemptively(BOUND, s::get);
    }

    @Test
    void billionLaughsIsRefusedBeforeExpansion() {
        StringBuilder y = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= 5; i++) {
            y.append("a").append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < 9; j++) y.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            y.append("]\n");
        }
        // 45 aliases (under snakeyaml's cap of 50) that would expand into 9^6 = 531,441 leaves
        String msg = refused("routes:\n  - id: 1\n    uri: /a\n    plugins:\n      bomb:\n"
                + y.toString().indent(8) + "    upstream: {nodes: {\"127.0.0.1:80\": 1}}");
        assertTrue(msg.contains("aliases expand the document by"), msg);
        assertTrue(msg.startsWith("apisix.yaml:1:"), msg);
    }

    @Test
    void tooManyAliasesAreRefused() {
        StringBuilder y = new StringBuilder("routes:\n  - &r {id: 1, uri: /a, upstream: {nodes: {\"127.0.0.1:80\": 1}}}\n");
        for (int i = 0; i < 60; i++) y.append("  - *r\n");
        String msg = refused(y.toString());
        assertTrue(msg.contains("Number of aliases for non-scalar nodes exceeds the specified max=50"), msg);
    }

    @Test
    void recursiveAliasIsRefused() {
        String msg = refused("routes:\n  - &r {id: 1, uri: /a, self: [*r]}\n");
        assertTrue(msg.contains("recursive") || msg.contains("nesting"), msg);
    }

    @Test
    void deepNestingIsRefusedWithoutStackOverflow() {
        // flow style: 100,000 levels in 200 kB would overflow the recursive composer's stack
        int n = 100_000;
        String deep = "routes:\n  - id: 1\n    uri: /a\n    plugins: {x: " + "[".repeat(n) + "]".repeat(n) + "}\n";
        String msg = refused(deep);
        assertTrue(msg.contains("nesting deeper than 64 levels"), msg);
        assertTrue(msg.startsWith("apisix.yaml:4:"), msg);
        // block style, 70 levels
        StringBuilder b = new StringBuilder("routes:\n  - id: 1\n    uri: /a\n    plugins:\n");
        for (int i = 0; i < 70; i++) b.append("  ".repeat(i + 3)).append("k:\n");
        assertTrue(refused(b.toString()).contains("nesting deeper than 64 levels"));
    }

    @Test
    void hugeNumbersAreRefused() {
        String up = "\n    upstream: {nodes: {\"127.0.0.1:80\": 1}}";
        assertTrue(refused("routes:\n  - id: 1\n    uri: /a\n    priority: 1180591620717411303424" + up)
                .contains("apisix.yaml:4: routes[0] (id \"1\"): property \"priority\" validation failed: integer"
                        + " 1180591620717411303424 out of range"),
                "2^70 priority");
        String t = refused("routes:\n  - id: 1\n    uri: /a\n    timeout: {connect: 1e999999, send: 1, read: 1}" + up);
        assertTrue(t.contains("expected a finite number"), t);
        String digits = refused("routes:\n  - id: 1\n    uri: /a\n    priority: " + "9".repeat(5000) + up);
        assertTrue(digits.contains("number longer than 100 characters"), digits);
        String w = refused("upstreams:\n  - id: u\n    nodes: [{host: a, port: 99999999999999999999, weight: 1}]");
        assertTrue(w.contains("out of range"), w);
        String inf = refused("routes:\n  - id: 1\n    uri: /a\n    timeout: {connect: .inf, send: 1, read: 1}" + up);
        assertTrue(inf.contains("property \"connect\" validation failed: wrong type: expected number, got string"), inf);
    }

    @Test
    void duplicateKeysAreRefusedWithTheirLine() {
        String msg = refused("routes:\n  - id: 1\n    uri: /a\n    uri: /b\n    upstream: {nodes: {\"127.0.0.1:80\": 1}}");
        assertTrue(msg.contains("apisix.yaml:4:") && msg.contains("duplicate key \"uri\""), msg);
    }

    @Test
    void hugeStringIsRefused() {
        String s = "a".repeat(DecodeLimits.MAX_STRING_CHARS + 1);
        String msg = refused("routes:\n  - id: 1\n    uri: /a\n    desc: " + s);
        assertTrue(msg.startsWith("apisix.yaml:4: line longer than 1048576 characters"),
                msg.substring(0, Math.min(300, msg.length())));
    }

    @Test
    void jsonReaderLimits() {
        JsonProcessingException e = assertThrows(JsonProcessingException.class,
                () -> JSON.readTree("[".repeat(100_000) + "]".repeat(100_000)));
        assertTrue(e.getOriginalMessage().contains("Document nesting depth (65) exceeds the maximum allowed (64"),
                e.getOriginalMessage());
        e = assertThrows(JsonProcessingException.class, () -> JSON.readTree("{\"uri\":\"/a\",\"uri\":\"/b\"}"));
        assertTrue(e.getOriginalMessage().contains("Duplicate field 'uri'"), e.getOriginalMessage());
        e = assertThrows(JsonProcessingException.class, () -> JSON.readTree("{\"priority\":" + "9".repeat(5000) + "}"));
        assertTrue(e.getOriginalMessage().contains("Number value length"), e.getOriginalMessage());
        assertThrows(JsonProcessingException.class, () -> JSON.readTree("{\"timeout\":NaN}"));
        assertThrows(JsonProcessingException.class, () -> JSON.readTree("{\"a\":1} {\"b\":2}"));
    }

    @Test
    void jsonHugeValuesAreFieldErrors() throws Exception {
        ConfigCompiler c = new ConfigCompiler();
        String up = ",\"upstream\":{\"nodes\":{\"127.0.0.1:80\":1}}";
        List<FieldError> errs = bounded(() -> validate(c, "{\"uri\":\"/a\",\"priority\":1180591620717411303424" + up + "}"));
        assertEquals("priority", errs.get(0).field(), errs.toString());
        errs = validate(c, "{\"uri\":\"/a\",\"timeout\":{\"connect\":1e999999,\"send\":1,\"read\":1}" + up + "}");
        assertTrue(errs.toString().contains("expected a finite number"), errs.toString());
        // 2^64 + 1 as an upstream_id must not wrap around to "1"
        errs = validate(c, "{\"uri\":\"/a\",\"upstream_id\":18446744073709551617}");
        assertTrue(errs.toString().contains("out of range"), errs.toString());
    }

    private static List<FieldError> validate(ConfigCompiler c, String json) {
        try {
            JsonNode v = JSON.readTree(json);
            return c.validate("routes", "1", v);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }
}
