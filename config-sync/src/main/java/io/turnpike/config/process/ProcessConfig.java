package io.turnpike.config.process;

import java.nio.file.Path;
import java.util.List;

/**
 * The process configuration read from {@code conf/config.yaml} (APISIX's keys plus Turnpike's {@code turnpike:}
 * section). Immutable; read once at start.
 *
 * @param configFile           the file it was read from; null when built from defaults only
 * @param nodeListen           {@code apisix.node_listen}, default [0.0.0.0:9080]
 * @param role                 {@code deployment.role}: traditional (data plane + Admin API) | data_plane (data plane
 *                             only) | control_plane (Admin API only, etcd) (default traditional)
 * @param configProvider       etcd | yaml | json: from {@code deployment.role_<role>.config_provider}
 * @param prometheusExportAddr {@code plugin_attr.prometheus.export_addr}, default 127.0.0.1:9091
 * @param opentelemetry        {@code plugin_attr.opentelemetry}: where the opentelemetry plugin's spans go
 */
public record ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                            String configProvider, EtcdConfig etcd, AdminConfig admin,
                            ListenAddress prometheusExportAddr, TurnpikeSettings turnpike,
                            OpenTelemetryAttr opentelemetry) {

    public static final ListenAddress NODE_LISTEN_DEFAULT = new ListenAddress("0.0.0.0", 9080);
    public static final String ROLE_DEFAULT = "traditional";
    public static final String CONFIG_PROVIDER_DEFAULT = "etcd";
    public static final ListenAddress PROMETHEUS_EXPORT_ADDR_DEFAULT = new ListenAddress("127.0.0.1", 9091);

    public ProcessConfig {
        nodeListen = List.copyOf(nodeListen);
        if (opentelemetry == null) {
            opentelemetry = OpenTelemetryAttr.DEFAULT;
        }
    }

    /** Without {@code plugin_attr.opentelemetry} (its defaults). */
    public ProcessConfig(Path configFile, List<ListenAddress> nodeListen, SslConfig ssl, String role,
                         String configProvider, EtcdConfig etcd, AdminConfig admin,
                         ListenAddress prometheusExportAddr, TurnpikeSettings turnpike) {
        this(configFile, nodeListen, ssl, role, configProvider, etcd, admin, prometheusExportAddr, turnpike,
                OpenTelemetryAttr.DEFAULT);
    }

    /** Every default, as if {@code configFile} were absent. */
    public static ProcessConfig defaults(Path configFile) {
        return new ProcessConfig(configFile, List.of(NODE_LISTEN_DEFAULT), SslConfig.DEFAULT, ROLE_DEFAULT,
                CONFIG_PROVIDER_DEFAULT, EtcdConfig.DEFAULT, AdminConfig.DEFAULT, PROMETHEUS_EXPORT_ADDR_DEFAULT,
                TurnpikeSettings.defaults(configFile));
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
