/**
 * The prometheus plugin's metrics: per-loop series tables ({@link io.turnpike.engine.prometheus.LoopSeries}) written
 * by each event loop's {@link io.turnpike.engine.prometheus.PrometheusRecorder} (an exchange observer) without
 * allocation, locks or atomics, and the {@link io.turnpike.engine.prometheus.PrometheusExporter} on its own thread,
 * which merges the loops' tables racily and serves APISIX's text exposition at
 * {@code plugin_attr.prometheus.export_addr}. See docs/metrics.md.
 */
package io.turnpike.engine.prometheus;
