package io.turnpike.config.process;

import java.nio.file.Path;
import java.util.List;

/**
 * The process configuration read from {@code conf/config.yaml} (APISIX's keys plus Turnpike's {@code turnpike:}
 * section). Immutable; read once at start (SIGHUP re-reads it: docs/operations.md says which keys apply live).
 *
 * @param configFile           the file it was read from; null when built from defaults only
 * @param nodeListen           {@code apisix.node_listen}, default [0.0.0.0:9080]
 * @param role                 {@code deployment.role}: traditional (data plane + Admin API) | data_plane (data plane
 *                             only) | control_plane (Admin API only, etcd) (default traditional)
 * @param configProvider       etcd | yaml | json: from {@code deployment.role_<role>.config_provider}
 * @param prometheus           {@code plugin_attr.prometheus}: the Prometheus exporter (default 127.0.0.1:9091)
 * @param opentelemetry        {@code plugin_attr.opentelemetry}: where the opentelemetry plugin's spans go
 * @param operations           control API and PID file ({@link OperationsConfig}, docs/operations.md)
 * @param discovery            {@code discovery.dns} and {@code turnpike.dns} ({@link DiscoveryConfig},
 *                             docs/discovery.md)
 */
public record ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                            String configProvider, EtcdConfig etcd, AdminConfig admin,
                            PrometheusAttr prometheus, TurnpikeSettings turnpike,
                            OpenTelemetryAttr opentelemetry, OperationsConfig operations,
                            DiscoveryConfig discovery) {

    public static final ListenAddress NODE_LISTEN_DEFAULT = new ListenAddress("0.0.0.0", 9080);
    public static final String ROLE_DEFAULT = "traditional";
    public static final String CONFIG_PROVIDER_DEFAULT = "etcd";
    public static final ListenAddress PROMETHEUS_EXPORT_ADDR_DEFAULT = PrometheusAttr.EXPORT_ADDR_DEFAULT;

    public ProcessConfig {
        nodeListen = List.copyOf(nodeListen);
        if (prometheus == null) {
            prometheus = PrometheusAttr.DEFAULT;
        }
        if (opentelemetry == null) {
            opentelemetry = OpenTelemetryAttr.DEFAULT;
        }
        operations = operations == null ? OperationsConfig.NO_CONTROL : operations;
        discovery = discovery == null ? DiscoveryConfig.DEFAULT : discovery;
    }

    /** Without {@code discovery}: no {@code discovery.dns}, the default resolver tuning. */
    public ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                         String configProvider, EtcdConfig etcd, AdminConfig admin,
                         PrometheusAttr prometheus, TurnpikeSettings turnpike,
                         OpenTelemetryAttr opentelemetry, OperationsConfig operations) {
        this(configFile, nodeListen, ssl, role, configProvider, etcd, admin, prometheus, turnpike,
                opentelemetry, operations, DiscoveryConfig.DEFAULT);
    }

    /** Built in code (tests, embedders): tracing at its defaults, no control API. */
    public ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                         String configProvider, EtcdConfig etcd, AdminConfig admin,
                         PrometheusAttr prometheus, TurnpikeSettings turnpike) {
        this(configFile, nodeListen, ssl, role, configProvider, etcd, admin, prometheus, turnpike,
                OpenTelemetryAttr.DEFAULT, OperationsConfig.NO_CONTROL);
    }

    /** With {@code plugin_attr.opentelemetry}; no control API. */
    public ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                         String configProvider, EtcdConfig etcd, AdminConfig admin,
                         PrometheusAttr prometheus, TurnpikeSettings turnpike, OpenTelemetryAttr opentelemetry) {
        this(configFile, nodeListen, ssl, role, configProvider, etcd, admin, prometheus, turnpike,
                opentelemetry, OperationsConfig.NO_CONTROL);
    }

    /** With the control API and PID file; tracing at its defaults. */
    public ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                         String configProvider, EtcdConfig etcd, AdminConfig admin,
                         PrometheusAttr prometheus, TurnpikeSettings turnpike, OperationsConfig operations) {
        this(configFile, nodeListen, ssl, role, configProvider, etcd, admin, prometheus, turnpike,
                OpenTelemetryAttr.DEFAULT, operations);
    }

    /** Every default, as if {@code configFile} were absent. */
    public static ProcessConfig defaults(Path configFile) {
        return new ProcessConfig(configFile, List.of(NODE_LISTEN_DEFAULT), SslConfig.DEFAULT, ROLE_DEFAULT,
                CONFIG_PROVIDER_DEFAULT, EtcdConfig.DEFAULT, AdminConfig.DEFAULT, PrometheusAttr.DEFAULT,
                TurnpikeSettings.defaults(configFile), OpenTelemetryAttr.DEFAULT, OperationsConfig.DEFAULT,
                DiscoveryConfig.DEFAULT);
    }

    /** {@code plugin_attr.prometheus.export_addr}. */
    public ListenAddress prometheusExportAddr() {
        return prometheus.exportAddr();
    }

    /** True for role control_plane: the Admin API over etcd, no data plane. */
    public boolean controlPlaneOnly() {
        return "control_plane".equals(role);
    }

    /** True when configuration comes from the standalone file (provider yaml or json). */
    public boolean standalone() {
        return !"etcd".equals(configProvider);
    }
}
