package io.turnpike.config.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code plugin_attr.opentelemetry}: APISIX's keys and defaults, and refusals naming the key and line. */
class OpenTelemetryAttrTest {
    @TempDir
    Path dir;

    private ProcessConfigResult load(String otel) throws Exception {
        Path p = dir.resolve("config.yaml");
        Files.writeString(p, "plugin_attr:\n  opentelemetry:\n" + otel);
        return ProcessConfigLoader.loadExplicit(p);
    }

    private static String errors(ProcessConfigResult r) {
        return r.errors().stream().map(ConfigProblem::render).reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void defaultsAsApisixConfigDefault() throws Exception {
        OpenTelemetryAttr a = load("    trace_id_source: x-request-id\n").config().opentelemetry();
        assertEquals("x-request-id", a.traceIdSource());
        assertEquals(Map.of("service.name", "APISIX"), a.resource());
        assertEquals("http://127.0.0.1:4318/v1/traces", a.tracesEndpoint());
        assertEquals(3, a.requestTimeoutSec());
        assertFalse(a.dropOnQueueFull());
        assertEquals(1024, a.maxQueueSize());
        assertEquals(2.0, a.batchTimeoutSec());
        assertEquals(1.0, a.inactiveTimeoutSec());
        assertEquals(16, a.maxExportBatchSize());
        assertEquals(OpenTelemetryAttr.DEFAULT, ProcessConfig.defaults(dir.resolve("none.yaml")).opentelemetry());
    }

    @Test
    void everyKeyIsRead() throws Exception {
        ProcessConfigResult r = load(""
                + "    trace_id_source: random\n"
                + "    resource:\n      service.name: edge\n      replicas: 3\n      canary: true\n"
                + "    collector:\n      address: https://otel.example:4318\n      request_timeout: 5\n"
                + "      request_headers:\n        Authorization: token\n"
                + "    batch_span_processor:\n      drop_on_queue_full: true\n      max_queue_size: 64\n"
                + "      batch_timeout: 0.5\n      inactive_timeout: 0.25\n      max_export_batch_size: 8\n"
                + "    set_ngx_var: false\n");
        assertTrue(r.ok(), errors(r));
        OpenTelemetryAttr a = r.config().opentelemetry();
        assertEquals("random", a.traceIdSource());
        assertEquals(Map.of("service.name", "edge", "replicas", 3.0, "canary", true), a.resource());
        assertEquals("https://otel.example:4318/v1/traces", a.tracesEndpoint());
        assertEquals(5, a.requestTimeoutSec());
        assertEquals(Map.of("Authorization", "token"), a.requestHeaders());
        assertTrue(a.dropOnQueueFull());
        assertEquals(64, a.maxQueueSize());
        assertEquals(0.5, a.batchTimeoutSec());
        assertEquals(0.25, a.inactiveTimeoutSec());
        assertEquals(8, a.maxExportBatchSize());
    }

    @Test
    void badValuesAndUnknownKeysAreRefusedWithTheirLine() throws Exception {
        ProcessConfigResult r = load(""
                + "    trace_id_source: header\n"                       // 3
                + "    collector:\n"
                + "      address: \"not a host\"\n"                      // 5
                + "      endpoint: /v1/traces\n"                        // 6
                + "    batch_span_processor:\n"
                + "      max_queue_size: 0\n"                           // 8
                + "      batch_timeout: -1\n"                           // 9
                + "    set_ngx_var: true\n"                             // 10
                + "    sampler: always_on\n");                          // 11
        String all = errors(r);
        assertEquals(7, r.errors().size(), all);
        assertTrue(all.contains("config.yaml:3: plugin_attr.opentelemetry.trace_id_source: expected one of random,"
                + " x-request-id, got \"header\""), all);
        assertTrue(all.contains("config.yaml:5: plugin_attr.opentelemetry.collector.address: expected host:port"), all);
        assertTrue(all.contains("config.yaml:6: plugin_attr.opentelemetry.collector.endpoint: unknown key"), all);
        assertTrue(all.contains("config.yaml:8: plugin_attr.opentelemetry.batch_span_processor.max_queue_size:"
                + " expected an integer 1..65536, got 0"), all);
        assertTrue(all.contains("config.yaml:9: plugin_attr.opentelemetry.batch_span_processor.batch_timeout:"), all);
        assertTrue(all.contains("config.yaml:10: plugin_attr.opentelemetry.set_ngx_var: true is not supported"), all);
        assertTrue(all.contains("config.yaml:11: plugin_attr.opentelemetry.sampler: unknown key"), all);
    }
}
