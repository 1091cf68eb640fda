package io.turnpike.engine.prometheus;

import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.observe.ExchangeObserver;
import io.turnpike.engine.observe.ExchangeRecord;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.plugin.Plugins;
import io.turnpike.engine.plugin.builtin.PrometheusPlugin;
import io.turnpike.engine.snapshot.Snapshot;

import java.util.concurrent.TimeUnit;

/**
 * The prometheus plugin's per-loop recorder: an {@link ExchangeObserver} installed on every loop at start-up. When an
 * exchange completes and its consumer's chain (consumer, consumer group), its route's chain (route, service,
 * plugin_config) or the global rules hold the {@code prometheus} plugin, it counts the exchange in this loop's {@link LoopSeries}. An observer rather than the
 * plugin's log phase because it also sees what never reaches a chain (404, malformed requests, 503 before the first
 * snapshot), as APISIX's global rules do, and because it owns per-loop state without a thread-local lookup.
 *
 * <p>Confined to its event loop: {@link #onComplete} and {@link #expire} run there; the exporter only reads
 * {@link #series}.
 */
public final class PrometheusRecorder implements ExchangeObserver {
    private static final long PROMETHEUS_BIT = Plugins.bit(PrometheusPlugin.NAME);
    /** How often the loop frees the series the exporter marked dead. */
    static final long EXPIRE_TICK_MS = 1000;

    public final LoopContext loop;
    public final LoopSeries series;

    public PrometheusRecorder(LoopContext loop, double[] bucketsMs, int maxSeries) {
        this.loop = loop;
        this.series = new LoopSeries(bucketsMs, maxSeries);
    }

    /** Starts the expiry tick on the loop (once, at start-up). */
    public void start() {
        loop.eventLoop.scheduleAtFixedRate(series::expire, EXPIRE_TICK_MS, EXPIRE_TICK_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void onComplete(ExchangeRecord r) {
        // APISIX's precedence: the consumer's (or its group's) plugin over the route's, then the global rules'.
        PluginSpec p = r.consumer == null ? null : r.consumer.plugins.find(PROMETHEUS_BIT);
        if (p == null && r.route != null) {
            p = r.route.plugins.find(PROMETHEUS_BIT);
        }
        if (p == null) {
            Snapshot s = loop.snapshot();
            p = s == null ? null : s.globalPlugins.find(PROMETHEUS_BIT);
            if (p == null) {
                return;
            }
        }
        int status = r.status;
        if (status == 0 && r.aborted) {
            status = 499; // nginx's "client closed request", what APISIX logs
        }
        status = Math.min(999, Math.max(0, status));
        long requestNs = r.endNs - r.startNs;
        series.record(r.route, r.node, r.consumer == null ? null : r.consumer.username,
                ((PrometheusPlugin) p).preferName, status, Math.max(0, requestNs), r.upstreamTimeNs(), r.requestBytes,
                r.responseBytes);
    }
}
