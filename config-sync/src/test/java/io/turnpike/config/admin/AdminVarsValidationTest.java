package io.turnpike.config.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Admin API refuses a vars regex the linear engine cannot run, and a route over the entry bounds: 400, nothing written. */
class AdminVarsValidationTest {
    private static final String UPSTREAM = "{\"nodes\":{\"127.0.0.1:1980\":1}}";

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String errorMsg(AdminResponse r) throws Exception {
        return new ObjectMapper().readTree(r.body()).get("error_msg").asText();
    }

    @Test
    void refusedWith400AndNothingWritten() throws Exception {
        AdminService s = new AdminService(new MemoryStore(), "/apisix", false);
        AdminResponse lookaround = s.handle("PUT", "/apisix/admin/routes/1", b("{\"uri\":\"/a\",\"upstream\":" + UPSTREAM
                + ",\"vars\":[[\"http_x_foo\",\"~~\",\"a(?=b)\"]]}"));
        assertEquals(400, lookaround.status(), lookaround.bodyText());
        assertEquals("invalid configuration: property \"vars\" validation failed: failed to validate item 1: invalid"
                + " regex \"a(?=b)\": lookaround ((?=...)) is not supported: it needs a backtracking engine",
                errorMsg(lookaround));
        assertEquals(404, s.handle("GET", "/apisix/admin/routes/1", new byte[0]).status());

        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 100_000; i++) {
            many.append(i == 0 ? "" : ",").append("[\"arg_a\",\"==\",\"").append(i).append("\"]");
        }
        AdminResponse big = s.handle("PUT", "/apisix/admin/routes/2", b("{\"uri\":\"/a\",\"upstream\":" + UPSTREAM
                + ",\"vars\":" + many.append("]") + "}"));
        assertEquals(400, big.status());
        assertEquals("invalid configuration: property \"vars\" validation failed: expect array to have at most 64 items",
                errorMsg(big));
        assertEquals(404, s.handle("GET", "/apisix/admin/routes/2", new byte[0]).status());

        // the patterns are fine for a linear engine: accepted
        AdminResponse ok = s.handle("PUT", "/apisix/admin/routes/3", b("{\"uri\":\"/a\",\"upstream\":" + UPSTREAM
                + ",\"vars\":[[\"http_x_foo\",\"~~\",\"a.*a.*a.*b\"],[\"http_x_bar\",\"~*\",\"^(a|a)*?$\"]]}"));
        assertEquals(201, ok.status(), ok.bodyText());
        assertTrue(s.handle("GET", "/apisix/admin/routes/3", new byte[0]).bodyText().contains("a.*a.*a.*b"));
    }
}
