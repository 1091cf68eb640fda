package io.turnpike.config.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.codec.FieldDispositions.Disposition;
import io.turnpike.config.codec.FieldDispositions.Field;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Holds {@link FieldDispositions} to the codecs: every accepted field has exactly one line, and every field the table
 * says is refused is refused. (The engine side, that ENGINE fields are read by the engine, is
 * {@code io.turnpike.engine.FieldDispositionsEngineTest}.)
 */
class FieldDispositionsTest {

    private final ResourceCodec codec = new ResourceCodec();
    private final SslCodec ssl = new SslCodec();

    @Test
    void everyAcceptedFieldHasExactlyOneDisposition() {
        Map<String, Set<String>> accepted = FieldDispositions.accepted();
        for (Map.Entry<String, Set<String>> e : accepted.entrySet()) {
            assertEquals(new TreeSet<>(e.getValue()), new TreeSet<>(FieldDispositions.listed(e.getKey())),
                    "scope " + e.getKey() + ": a field the codec accepts needs a line in FieldDispositions"
                            + " (ENGINE, CHECKED, METADATA or REFUSED), and the table lists nothing else");
        }
        Set<String> seen = new TreeSet<>();
        for (Field f : FieldDispositions.all()) {
            assertTrue(accepted.containsKey(f.scope()), "unknown scope " + f.scope());
            assertTrue(seen.add(f.scope() + "/" + f.name()), "listed twice: " + f);
            assertTrue(f.evidence() != null && !f.evidence().isBlank(), "no evidence or reason: " + f);
        }
    }

    @Test
    void everyRefusedFieldIsRefused() {
        int refused = 0;
        for (Field f : FieldDispositions.all()) {
            if (f.disposition() != Disposition.REFUSED) {
                continue;
            }
            refused++;
            JsonNode sample = FailClosedTest.json(f.evidence());
            String path = (f.scope().equals("ssl.client") ? "client." : "") + f.name();
            List<FieldError> errors = decodeWith(f.scope(), f.name(), sample);
            assertTrue(errors.stream().anyMatch(e -> e.field().equals(path) || e.field().startsWith(path + ".")
                    || e.field().startsWith(path + "[")), () -> f + " was not refused: " + errors);
        }
        assertTrue(refused >= 5, "the table's refused fields were found (Lua scripts, discovery_args, ...)");
    }

    private List<FieldError> decodeWith(String scope, String name, JsonNode value) {
        switch (scope) {
            case "route": {
                ObjectNode o = (ObjectNode) FailClosedTest.json("{'uri':'/a','upstream_id':'u'}");
                o.set(name, value);
                return codec.decodeRoute("1", o).errors();
            }
            case "service": {
                ObjectNode o = (ObjectNode) FailClosedTest.json("{'upstream_id':'u'}");
                o.set(name, value);
                return codec.decodeService("1", o).errors();
            }
            case "upstream": {
                ObjectNode o = (ObjectNode) FailClosedTest.json("{'nodes':{'127.0.0.1:80':1}}");
                o.set(name, value);
                return codec.decodeUpstream("1", o).errors();
            }
            case "ssl.client": {
                ObjectNode o = (ObjectNode) FailClosedTest.json("{'snis':['a.com'],'client':{}}");
                ((ObjectNode) o.get("client")).set(name, value);
                return ssl.decode("1", o).errors();
            }
            default:
                throw new AssertionError("add a base entry for scope " + scope + " to this test");
        }
    }
}
