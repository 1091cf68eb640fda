package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.Route;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** vars patterns the linear regex engine cannot run, and the bounds on what one route may hold. */
class EntryLimitsTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private final ResourceCodec codec = new ResourceCodec();

    private static JsonNode json(String s) {
        try {
            return MAPPER.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private List<FieldError> errors(JsonNode route) {
        Decoded<Route> d = codec.decodeRoute("1", route);
        assertFalse(d.ok(), "expected errors for " + route);
        return d.errors();
    }

    private void assertError(JsonNode route, String field, String message) {
        List<FieldError> errors = errors(route);
        assertTrue(errors.contains(new FieldError(field, message)), () -> "got " + errors);
    }

    private void assertOk(JsonNode route) {
        Decoded<Route> d = codec.decodeRoute("1", route);
        assertTrue(d.ok(), () -> "got " + d.errors());
    }

    private static ObjectNode route(String varsJson) {
        ObjectNode r = (ObjectNode) json("{'uri':'/a','upstream_id':'u'}");
        r.set("vars", json(varsJson));
        return r;
    }

    @Test
    void regexesTheLinearEngineCannotRunAreRefused() {
        assertError(route("[['http_x_foo','~~','(a)\\\\1']]"), "vars[0]",
                "property \"vars\" validation failed: failed to validate item 1: invalid regex \"(a)\\\\1\":"
                        + " backreferences (\\1) are not supported: they need a backtracking engine");
        assertError(route("[['arg_a','!','~*','foo(?=bar)']]"), "vars[0]",
                "property \"vars\" validation failed: failed to validate item 1: invalid regex \"foo(?=bar)\":"
                        + " lookaround ((?=...)) is not supported: it needs a backtracking engine");
        assertError(route("['OR',['arg_a','==','1'],['AND',['arg_b','~~','a++']]]"), "vars[2][1]",
                "property \"vars\" validation failed: failed to validate item 3: failed to validate item 2:"
                        + " invalid regex \"a++\": possessive quantifiers (++) are not supported; write the quantifier"
                        + " without '+'");
        List<FieldError> syntax = errors(route("[['arg_a','~~','(unclosed']]"));
        assertTrue(syntax.get(0).message().contains("invalid regex \"(unclosed\": missing closing )"), syntax.toString());
        List<FieldError> size = errors(route("[['arg_a','~~','((a{1000}){1000}){1000}']]"));
        assertTrue(size.get(0).message().contains("regex too large"), size.toString());
        assertError(route("[['arg_a','~~',5]]"), "vars[0]",
                "property \"vars\" validation failed: failed to validate item 1: regex must be a string, got number");
        // what the engine runs is accepted: the probes included
        assertOk(route("[['http_x_foo','~~','a.*a.*a.*b'],['http_x_bar','~*','^(a|a)*?$']]"));
        assertOk(route("[['uri','~~','^/api/v[0-9]+/(users|orders)/[a-f0-9-]{36}$']]"));
    }

    @Test
    void varsAreBounded() {
        ArrayNode many = JSON.arrayNode();
        for (int i = 0; i < 100_000; i++) {
            many.add(JSON.arrayNode().add("arg_a").add("==").add(Integer.toString(i)));
        }
        ObjectNode big = (ObjectNode) json("{'uri':'/a','upstream_id':'u'}");
        big.set("vars", many);
        assertError(big, "vars", "property \"vars\" validation failed: expect array to have at most "
                + EntryLimits.MAX_VARS_EXPRESSIONS + " items");
        // nested expressions count too
        ArrayNode nested = JSON.arrayNode().add("OR");
        for (int i = 0; i < EntryLimits.MAX_VARS_EXPRESSIONS; i++) {
            nested.add(JSON.arrayNode().add("arg_a").add("==").add(Integer.toString(i)));
        }
        ObjectNode r = (ObjectNode) json("{'uri':'/a','upstream_id':'u'}");
        r.set("vars", JSON.arrayNode().add(nested));
        List<FieldError> e = errors(r);
        assertTrue(e.get(0).message().contains("too many expressions: at most 64 in one route's vars"), e.toString());
        nested.remove(nested.size() - 1);
        assertOk(r); // the OR and its 63 expressions: 64
        // depth
        JsonNode deep = json("[['arg_a','==','1']]");
        for (int i = 0; i < EntryLimits.MAX_VARS_DEPTH; i++) {
            deep = JSON.arrayNode().add(JSON.arrayNode().add("AND").add(deep.get(0)).add(json("['arg_b','==','1']")));
        }
        r.set("vars", deep);
        e = errors(r);
        assertTrue(e.get(0).message().contains("expressions nested too deep: at most 8 levels"), e.toString());
        // in lists
        ArrayNode values = JSON.arrayNode();
        for (int i = 0; i <= EntryLimits.MAX_VARS_IN_VALUES; i++) {
            values.add("v" + i);
        }
        r.set("vars", JSON.arrayNode().add(JSON.arrayNode().add("arg_a").add("in").add(values)));
        assertError(r, "vars[0]", "property \"vars\" validation failed: failed to validate item 1: \"in\" expects at"
                + " most 256 values, got 257");
        values.remove(0);
        assertOk(r);
    }

    private static ObjectNode withList(String field, int n, String prefix) {
        ArrayNode a = JSON.arrayNode();
        for (int i = 0; i < n; i++) {
            a.add(prefix + i);
        }
        ObjectNode r = (ObjectNode) json("{'upstream_id':'u'}");
        if (!field.equals("uris")) {
            r.put("uri", "/a");
        }
        r.set(field, a);
        return r;
    }

    @Test
    void routeListsAreBounded() {
        assertError(withList("uris", EntryLimits.MAX_URIS + 1, "/u"), "uris",
                "property \"uris\" validation failed: expect array to have at most 1024 items");
        assertOk(withList("uris", EntryLimits.MAX_URIS, "/u"));
        assertError(withList("hosts", EntryLimits.MAX_HOSTS + 1, "h"), "hosts",
                "property \"hosts\" validation failed: expect array to have at most 1024 items");
        assertOk(withList("hosts", EntryLimits.MAX_HOSTS, "h"));
        assertError(withList("remote_addrs", EntryLimits.MAX_REMOTE_ADDRS + 1, "10.0.0.0/"), "remote_addrs",
                "property \"remote_addrs\" validation failed: expect array to have at most 1024 items");
        // 100,000 duplicate methods: refused by the bound, before the quadratic uniqueness check
        ArrayNode methods = JSON.arrayNode();
        for (int i = 0; i < 100_000; i++) {
            methods.add("GET");
        }
        ObjectNode r = (ObjectNode) json("{'uri':'/a','upstream_id':'u'}");
        r.set("methods", methods);
        long t0 = System.nanoTime();
        assertError(r, "methods", "property \"methods\" validation failed: expect array to have at most "
                + ResourceCodec.METHODS.size() + " items");
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
        ObjectNode service = withList("hosts", EntryLimits.MAX_HOSTS + 1, "h");
        service.remove("uri");
        Decoded<io.turnpike.config.model.Service> s = codec.decodeService("s", service);
        assertFalse(s.ok());
        assertEquals(List.of(new FieldError("hosts", "property \"hosts\" validation failed: expect array to have at"
                + " most 1024 items")), s.errors());
    }
}
