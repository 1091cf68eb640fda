package io.turnpike.config.process;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code plugin_attr.opentelemetry} from config.yaml: the process-wide half of the {@code opentelemetry} plugin (where
 * spans go and how they are batched), APISIX 3.x's keys and defaults. Immutable.
 *
 * @param traceIdSource        {@code trace_id_source}: x-request-id (a 32-hex X-Request-Id header is the trace id of a
 *                             new trace) or random; default x-request-id (APISIX's config-default.yaml)
 * @param resource             {@code resource}: resource attributes (string, number or boolean values);
 *                             {@code service.name} defaults to "APISIX"
 * @param collectorAddress     {@code collector.address}: host:port (or an http:// or https:// URL) of the OTLP/HTTP
 *                             receiver; spans go to {@code /v1/traces} there; default 127.0.0.1:4318
 * @param requestTimeoutSec    {@code collector.request_timeout}, seconds, default 3
 * @param requestHeaders       {@code collector.request_headers}: sent with every export
 * @param dropOnQueueFull      {@code batch_span_processor.drop_on_queue_full}, default false
 * @param maxQueueSize         {@code batch_span_processor.max_queue_size}: spans buffered per event loop, default 1024
 * @param batchTimeoutSec      {@code batch_span_processor.batch_timeout}: the longest a span waits for its batch,
 *                             seconds, default 2
 * @param inactiveTimeoutSec   {@code batch_span_processor.inactive_timeout}: how often the exporter collects spans,
 *                             seconds, default 1
 * @param maxExportBatchSize   {@code batch_span_processor.max_export_batch_size}, default 16
 */
public record OpenTelemetryAttr(String traceIdSource, Map<String, Object> resource, String collectorAddress,
                                int requestTimeoutSec, Map<String, String> requestHeaders, boolean dropOnQueueFull,
                                int maxQueueSize, double batchTimeoutSec, double inactiveTimeoutSec,
                                int maxExportBatchSize) {

    public static final OpenTelemetryAttr DEFAULT = new OpenTelemetryAttr("x-request-id",
            Map.of("service.name", "APISIX"), "127.0.0.1:4318", 3, Map.of(), false, 1024, 2, 1, 16);

    public OpenTelemetryAttr {
        Map<String, Object> r = new LinkedHashMap<>(resource);
        r.putIfAbsent("service.name", "APISIX");
        resource = java.util.Collections.unmodifiableMap(r);
        requestHeaders = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(requestHeaders));
    }

    /** The URL the exporter posts to: {@code http://<address>/v1/traces} unless the address is a URL itself. */
    public String tracesEndpoint() {
        String a = collectorAddress;
        String base = a.startsWith("http://") || a.startsWith("https://") ? a : "http://" + a;
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/traces";
    }
}
