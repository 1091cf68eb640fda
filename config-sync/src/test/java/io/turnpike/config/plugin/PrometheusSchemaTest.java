package io.turnpike.config.plugin;

import org.junit.jupiter.api.Test;

import static io.turnpike.config.plugin.AuthPluginSchemasTest.o;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The prometheus plugin's configuration: prefer_name only; no plugin metadata. */
class PrometheusSchemaTest {
    static final PluginRegistry R = PluginRegistry.builtin();

    @Test
    void preferNameOnly() throws Exception {
        assertNull(R.check(o("{'prometheus':{}}"), PluginRegistry.SchemaType.ROUTE));
        assertNull(R.check(o("{'prometheus':{'prefer_name':true,'_meta':{'disable':false}}}"),
                PluginRegistry.SchemaType.ROUTE));
        assertEquals("failed to check the configuration of plugin prometheus err: property \"prefer_name\" validation"
                        + " failed: wrong type: expected boolean, got string",
                R.check(o("{'prometheus':{'prefer_name':'yes'}}"), PluginRegistry.SchemaType.ROUTE).message());
        assertEquals("failed to check the configuration of plugin prometheus err: additional properties forbidden,"
                        + " found export_addr",
                R.check(o("{'prometheus':{'export_addr':{}}}"), PluginRegistry.SchemaType.ROUTE).message());
        assertNull(R.check(o("{'prometheus':{'prefer_name':true}}"), PluginRegistry.SchemaType.CONSUMER));
        assertEquals("failed to check the configuration of plugin prometheus err: plugin metadata is not supported"
                        + " for this plugin",
                R.check(o("{'prometheus':{}}"), PluginRegistry.SchemaType.METADATA).message());
    }
}
