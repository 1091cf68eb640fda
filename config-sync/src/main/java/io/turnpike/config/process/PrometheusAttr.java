package io.turnpike.config.process;

import java.util.List;
import java.util.Set;

/**
 * {@code plugin_attr.prometheus}: where and how the Prometheus exporter serves the metrics of the {@code prometheus}
 * plugin (APISIX's keys, plus two of Turnpike's that bound the series; docs/metrics.md).
 *
 * @param exportServer   {@code enable_export_server} (true): serve the metrics on {@link #exportAddr}; false serves
 *                       them nowhere (APISIX would then serve them through the public-api plugin, which Turnpike does
 *                       not implement)
 * @param exportAddr     {@code export_addr}, default 127.0.0.1:9091
 * @param exportUri      {@code export_uri}, default {@code /apisix/prometheus/metrics}
 * @param metricPrefix   {@code metric_prefix}, default {@code apisix_}
 * @param defaultBuckets {@code default_buckets}: the latency histogram's upper bounds in milliseconds, increasing
 *                       (APISIX's default 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000)
 * @param latencyLabels  Turnpike's {@code latency_labels}: which of route, service, consumer, node label
 *                       {@code http_latency} (default service, consumer, node: a histogram per route is 54 series)
 * @param maxSeries      Turnpike's {@code max_series}: the most label combinations one event loop records; beyond
 *                       it requests count in an overflow series (default 20000)
 */
public record PrometheusAttr(boolean exportServer, ListenAddress exportAddr, String exportUri, String metricPrefix,
                             List<Double> defaultBuckets, Set<String> latencyLabels, int maxSeries) {
    public static final ListenAddress EXPORT_ADDR_DEFAULT = new ListenAddress("127.0.0.1", 9091);
    public static final String EXPORT_URI_DEFAULT = "/apisix/prometheus/metrics";
    public static final String METRIC_PREFIX_DEFAULT = "apisix_";
    public static final List<Double> DEFAULT_BUCKETS = List.of(1d, 2d, 5d, 10d, 20d, 50d, 100d, 200d, 500d, 1000d,
            2000d, 5000d, 10000d, 30000d, 60000d);
    public static final Set<String> LATENCY_LABELS_ALL = Set.of("route", "service", "consumer", "node");
    public static final Set<String> LATENCY_LABELS_DEFAULT = Set.of("service", "consumer", "node");
    public static final int MAX_SERIES_DEFAULT = 20000;
    public static final PrometheusAttr DEFAULT = new PrometheusAttr(true, EXPORT_ADDR_DEFAULT, EXPORT_URI_DEFAULT,
            METRIC_PREFIX_DEFAULT, DEFAULT_BUCKETS, LATENCY_LABELS_DEFAULT, MAX_SERIES_DEFAULT);

    public PrometheusAttr {
        defaultBuckets = List.copyOf(defaultBuckets);
        latencyLabels = Set.copyOf(latencyLabels);
    }

    public PrometheusAttr withExportAddr(ListenAddress a) {
        return new PrometheusAttr(exportServer, a, exportUri, metricPrefix, defaultBuckets, latencyLabels, maxSeries);
    }
}
