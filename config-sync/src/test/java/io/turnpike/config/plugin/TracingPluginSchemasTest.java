package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The opentelemetry plugin's route schema: APISIX's fields and wording, and Turnpike's fail-closed refusals. */
class TracingPluginSchemasTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static String check(String json) throws Exception {
        return TracingPluginSchemas.openTelemetry((ObjectNode) M.readTree(json));
    }

    @Test
    void valid() throws Exception {
        assertNull(check("{}"));
        assertNull(check("{\"sampler\":{\"name\":\"always_on\"}}"));
        assertNull(check("{\"sampler\":{\"name\":\"trace_id_ratio\",\"options\":{\"fraction\":0.25}}}"));
        assertNull(check("{\"sampler\":{\"name\":\"parent_base\",\"options\":{\"root\":{\"name\":\"trace_id_ratio\","
                + "\"options\":{\"fraction\":1}}}}}"));
        assertNull(check("{\"sampler\":{\"name\":\"always_off\"},\"_meta\":{\"disable\":false}}"));
    }

    @Test
    void refused() throws Exception {
        assertEquals("property \"sampler\" validation failed: property \"name\" validation failed: matches none of"
                + " the enum values", check("{\"sampler\":{\"name\":\"sometimes\"}}"));
        assertEquals("property \"sampler.options.fraction\" validation failed: expected 1.5 to be within 0..1",
                check("{\"sampler\":{\"name\":\"trace_id_ratio\",\"options\":{\"fraction\":1.5}}}"));
        assertEquals("property \"sampler.options.fraction\" validation failed: wrong type: expected number, got"
                + " string", check("{\"sampler\":{\"name\":\"trace_id_ratio\",\"options\":{\"fraction\":\"half\"}}}"));
        assertEquals("property \"sampler.options.root\" validation failed: property \"name\" validation failed:"
                + " matches none of the enum values",
                check("{\"sampler\":{\"name\":\"parent_base\",\"options\":{\"root\":{\"name\":\"parent_base\"}}}}"));
        assertEquals("property \"sampler.options.root\" validation failed: additional properties forbidden, found"
                + " extra", check("{\"sampler\":{\"name\":\"parent_base\",\"options\":{\"root\":{\"extra\":1}}}}"));
        assertEquals("additional properties forbidden, found tracer", check("{\"tracer\":{}}"));
        assertEquals("property \"sampler\" validation failed: wrong type: expected object, got string",
                check("{\"sampler\":\"always_on\"}"));
        String e = check("{\"additional_attributes\":[\"remote_addr\"]}");
        assertEquals(true, e.startsWith("property \"additional_attributes\" is not supported yet"), e);
        e = check("{\"additional_header_prefix_attributes\":[\"x-*\"]}");
        assertEquals(true, e.startsWith("property \"additional_header_prefix_attributes\" is not supported yet"), e);
    }

    @Test
    void registeredForRoutesNotMetadata() throws Exception {
        PluginRegistry r = PluginRegistry.builtin();
        ObjectNode ok = (ObjectNode) M.readTree("{\"opentelemetry\":{\"sampler\":{\"name\":\"always_on\"}}}");
        assertNull(r.check(ok, PluginRegistry.SchemaType.ROUTE));
        assertEquals("failed to check the configuration of plugin opentelemetry err: plugin metadata is not supported"
                + " for this plugin", r.check(ok, PluginRegistry.SchemaType.METADATA).message());
        ObjectNode bad = (ObjectNode) M.readTree("{\"opentelemetry\":{\"sampler\":{\"name\":\"x\"}}}");
        assertEquals("failed to check the configuration of plugin opentelemetry err: property \"sampler\" validation"
                + " failed: property \"name\" validation failed: matches none of the enum values",
                r.check(bad, PluginRegistry.SchemaType.ROUTE).message());
    }
}
