/**
 * Tracing: W3C trace context on bytes ({@link io.turnpike.engine.trace.TraceContext}), the samplers
 * ({@link io.turnpike.engine.trace.Sampler}), the per-loop span rings ({@link io.turnpike.engine.trace.SpanRing}: an
 * event loop fills preallocated {@link io.turnpike.engine.trace.SpanSlot}s, never allocating, dropping and counting
 * when its ring is full) and the one exporter thread per process
 * ({@link io.turnpike.engine.trace.SpanExportAgent}, {@code turnpike-otel-exporter}) that drains the rings and sends
 * the spans as OTLP/HTTP protobuf with the OpenTelemetry SDK's exporter. The {@code opentelemetry} plugin
 * ({@code io.turnpike.engine.plugin.builtin.OpenTelemetryPlugin}) is what runs on the loops. See docs/tracing.md.
 */
package io.turnpike.engine.trace;
