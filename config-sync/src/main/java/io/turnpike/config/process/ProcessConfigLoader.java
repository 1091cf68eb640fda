package io.turnpike.config.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.yaml.JsonTree;
import io.turnpike.config.yaml.YamlDocument;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reads {@code conf/config.yaml}. Every key is accounted for: a known key is read and type-checked; an unknown key
 * under {@code turnpike:} is an error (a typo would otherwise silently keep a default); an APISIX key Turnpike does
 * not implement is a warning "not supported by Turnpike, ignored" when ignoring it cannot weaken security or change
 * where traffic goes, else an error (see {@link #REFUSED}); any other unknown key is a warning. Every
 * message carries file, line and key: {@code conf/config.yaml:4: apisix.node_listen[0]: expected a port number
 * 1..65535, got "abc"}. A null value ({@code key:} with nothing after it) means "default".
 *
 * <p>Not thread-safe per instance; the static entry points create one per call.
 */
public final class ProcessConfigLoader {

    private static final Set<String> TOP_UNSUPPORTED = Set.of("plugins", "stream_plugins",
            "graphql", "wasm", "ext-plugin", "xrpc", "etcd", "http", "stream");
    private static final Set<String> APISIX_UNSUPPORTED = Set.of("router", "proxy_cache", "proxy_mode",
            "dns_resolver", "dns_resolver_valid", "resolver_timeout", "enable_resolv_search_opt",
            "delete_uri_tail_slash", "normalize_uri_like_servlet", "show_upstream_status_in_response_header",
            "enable_ipv6", "enable_server_tokens", "extra_lua_path", "extra_lua_cpath",
            "stream_proxy", "enable_dev_mode", "enable_reuseport",
            "lua_module_hook", "disable_sync_configuration_during_start", "data_encryption", "events", "tracing",
            "id", "enable_admin_cors", "config_center", "node_listen_http2", "enable_debug", "enable_heartbeat");
    private static final Set<String> SSL_UNSUPPORTED = Set.of("ssl_trusted_certificate", "ssl_session_tickets",
            "key_encrypt_salt", "ssl_trusted_combined_path", "ssl_session_cache");
    private static final Set<String> DEPLOYMENT_UNSUPPORTED = Set.of("certs");
    private static final Set<String> ETCD_UNSUPPORTED = Set.of("watch_timeout", "startup_retry",
            "health_check_timeout", "resync_delay", "use_grpc", "max_fail", "sync_timeout");
    private static final Set<String> ADMIN_UNSUPPORTED = Set.of("enable_admin_cors", "admin_api_version",
            "enable_admin_ui", "admin_listen_v6");

    /**
     * APISIX keys Turnpike does not implement and may not ignore: ignoring them would weaken security (TLS settings,
     * the Admin API's keys, allow-list or TLS), or change what reaches the upstream (PROXY protocol client addresses),
     * or promise an endpoint that is not there. Set to anything but null, each is an error with its reason.
     */
    static final Map<String, String> REFUSED = Map.ofEntries(
            Map.entry("apisix.proxy_protocol", "not supported yet (PROXY protocol is not implemented)"),
            Map.entry("apisix.allow_admin", "APISIX 2.x layout: use deployment.admin.allow_admin"),
            Map.entry("apisix.admin_key", "APISIX 2.x layout: use deployment.admin.admin_key"),
            Map.entry("apisix.port_admin", "APISIX 2.x layout: use deployment.admin.admin_listen"),
            Map.entry("apisix.https_admin", "not supported yet (the Admin API is served over plain HTTP only)"),
            Map.entry("apisix.admin_api_mtls", "not supported yet (the Admin API is served over plain HTTP only)"),
            Map.entry("apisix.ssl.ssl_protocols", "not supported yet: set ssl_protocols per certificate (ssls);"
                    + " the default is TLSv1.2 and TLSv1.3"),
            Map.entry("apisix.ssl.ssl_ciphers", "not supported yet (BoringSSL's default cipher list is used)"),
            Map.entry("deployment.admin.https_admin", "not supported yet (the Admin API is served over plain HTTP"
                    + " only)"),
            Map.entry("deployment.admin.admin_api_mtls", "not supported yet (the Admin API is served over plain"
                    + " HTTP only)"),
            Map.entry("plugin_attr.prometheus.metrics", "not supported yet (extra_labels and expire per metric are not"
                    + " implemented; see latency_labels and max_series in docs/metrics.md)"),
            Map.entry("plugin_attr.prometheus.expire", "not supported yet (series of deleted routes expire after the"
                    + " next scrape; docs/metrics.md)"),
            Map.entry("plugin_attr.prometheus.refresh_interval", "not supported yet (metrics are merged at each"
                    + " scrape)"),
            Map.entry("plugin_attr.prometheus.prefer_name", "set prefer_name in the prometheus plugin's"
                    + " configuration (a route's or a global rule's plugins), not in plugin_attr"));
    private static final Set<String> PROMETHEUS_UNSUPPORTED = Set.of();
    private static final Set<String> TRANSPORTS = Set.of("auto", "epoll", "io_uring", "nio");

    private final String file;
    private final List<ConfigProblem> errors = new ArrayList<>();
    private final List<ConfigProblem> warnings = new ArrayList<>();

    private ProcessConfigLoader(String file) {
        this.file = file;
    }

    /** Loads {@code configYaml}; a missing file gives all defaults (for the default path, conf/config.yaml). */
    public static ProcessConfigResult load(Path configYaml) {
        return load(configYaml, false);
    }

    /** Loads a file the user named explicitly (-c): a missing file is an error. */
    public static ProcessConfigResult loadExplicit(Path configYaml) {
        return load(configYaml, true);
    }

    public static ProcessConfigResult load(Path configYaml, boolean mustExist) {
        ProcessConfigLoader l = new ProcessConfigLoader(configYaml.toString());
        String text;
        try {
            text = Files.readString(configYaml, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            if (mustExist) {
                l.error(0, "", "file not found");
            }
            return l.result(ProcessConfig.defaults(configYaml));
        } catch (IOException e) {
            l.error(0, "", "cannot read: " + e);
            return l.result(ProcessConfig.defaults(configYaml));
        }
        return parse(text, configYaml);
    }

    /** Parses {@code text} as the content of {@code configYaml} (used for relative paths and messages). */
    public static ProcessConfigResult parse(String text, Path configYaml) {
        ProcessConfigLoader l = new ProcessConfigLoader(configYaml.toString());
        Node root;
        try {
            root = YamlDocument.compose(text, configYaml.toString());
        } catch (YamlDocument.SyntaxError e) {
            l.error(e.line(), "", e.getMessage());
            return l.result(ProcessConfig.defaults(configYaml));
        }
        return l.result(l.read(root, configYaml));
    }

    private ProcessConfigResult result(ProcessConfig config) {
        return new ProcessConfigResult(config, errors, warnings);
    }

    // ------------------------------------------------------------------ the keys

    private static final class Builder {
        List<ListenAddress> nodeListen = List.of(ProcessConfig.NODE_LISTEN_DEFAULT);
        boolean sslEnable = SslConfig.DEFAULT.enable();
        List<SslListen> sslListen = SslConfig.DEFAULT.listen();
        /** {@code apisix.enable_http2} (APISIX 3.9+): h2 on the HTTPS listeners that do not say otherwise. */
        Boolean enableHttp2;
        int enableHttp2Line;
        /** {@code apisix.ssl.listen[i].enable_http2}, null where the item does not set it (parallel to sslListen). */
        List<Boolean> sslListenHttp2;
        int sslListenLine;
        String fallbackSni;
        boolean enableAdmin = true;
        ListenAddress apisixStatus;
        String role = ProcessConfig.ROLE_DEFAULT;
        Map<String, String> providers = new HashMap<>();
        Map<String, Integer> providerLines = new HashMap<>();
        int roleLine;
        List<String> etcdHosts = EtcdConfig.DEFAULT.hosts();
        String etcdPrefix = EtcdConfig.DEFAULT_PREFIX;
        int etcdTimeout = EtcdConfig.DEFAULT_TIMEOUT_SECONDS;
        String etcdUser;
        String etcdPassword;
        ObjectNode etcdTls;
        List<AdminKey> adminKeys = List.of();
        boolean adminKeyRequired = true;
        ListenAddress adminListen = AdminConfig.DEFAULT_LISTEN;
        List<String> allowAdmin = AdminConfig.DEFAULT_ALLOW_ADMIN;
        ListenAddress prometheus = ProcessConfig.PROMETHEUS_EXPORT_ADDR_DEFAULT;
        OpenTelemetryAttr otel = OpenTelemetryAttr.DEFAULT;
        boolean enableControl = OperationsConfig.DEFAULT.enableControl();
        ListenAddress control = OperationsConfig.CONTROL_DEFAULT;
        String pidFile;
        boolean promExportServer = true;
        String promExportUri = PrometheusAttr.EXPORT_URI_DEFAULT;
        String promMetricPrefix = PrometheusAttr.METRIC_PREFIX_DEFAULT;
        List<Double> promBuckets = PrometheusAttr.DEFAULT_BUCKETS;
        Set<String> promLatencyLabels = PrometheusAttr.LATENCY_LABELS_DEFAULT;
        int promMaxSeries = PrometheusAttr.MAX_SERIES_DEFAULT;
        final Map<String, Object> tp = new LinkedHashMap<>();
        final Map<String, KeyServerConfig> keyless = new LinkedHashMap<>();
        Path configFile;
        /** turnpike.access_log: enabled, path, format, format_escape, buffer_entries, max_request_bytes. */
        final Object[] accessLog = new Object[6];
        int accessLogLine;
        /** nginx_config.http: enable_access_log, access_log, access_log_format, access_log_format_escape. */
        final Object[] nginxLog = new Object[4];
        int nginxLogLine;
        /** discovery.dns: servers, resolv_conf, order (null: absent), its line. */
        List<java.net.InetSocketAddress> dnsServers;
        Path dnsResolvConf;
        List<String> dnsOrder;
        boolean dnsSet;
        int dnsLine;
        /** turnpike.dns: min_ttl, max_ttl (s), query_timeout_ms, error_retry (s); null = default. */
        final Long[] dnsTuning = new Long[4];
        int dnsTuningLine;
    }

    private ProcessConfig read(Node root, Path configFile) {
        Builder b = new Builder();
        b.configFile = configFile;
        if (root != null && !isNull(root)) {
            Map<String, NodeTuple> top = mapping(root, "");
            if (top != null) {
                top.forEach((key, t) -> {
                    Node v = t.getValueNode();
                    String path = key;
                    switch (key) {
                        case "apisix" -> section(v, path, Map.of(
                                "node_listen", (n, p) -> b.nodeListen = nodeListen(n, p),
                                "ssl", (n, p) -> ssl(n, p, b),
                                "enable_http2", (n, p) -> {
                                    b.enableHttp2 = bool(n, p, false);
                                    b.enableHttp2Line = YamlDocument.line(n);
                                },
                                "enable_admin", (n, p) -> b.enableAdmin = bool(n, p, true),
                                "status", (n, p) -> b.apisixStatus = address(n, p, "127.0.0.1", null),
                                "enable_control", (n, p) -> b.enableControl = bool(n, p, b.enableControl),
                                "control", (n, p) -> b.control = orDefault(address(n, p,
                                        OperationsConfig.CONTROL_DEFAULT.ip(), OperationsConfig.CONTROL_DEFAULT.port()),
                                        b.control)),
                                APISIX_UNSUPPORTED, false);
                        case "deployment" -> deployment(v, path, b);
                        case "plugin_attr" -> pluginAttr(v, path, b);
                        case "turnpike" -> turnpike(v, path, b);
                        case "nginx_config" -> nginxConfig(v, path, b);
                        case "discovery" -> discovery(v, path, b);
                        default -> {
                            if (TOP_UNSUPPORTED.contains(key)) {
                                unsupported(t.getKeyNode(), path);
                            } else {
                                unknown(t.getKeyNode(), path);
                            }
                        }
                    }
                });
            }
        }
        return build(b, configFile);
    }

    private ProcessConfig build(Builder b, Path configFile) {
        String provider = b.providers.get(b.role);
        if (provider == null) {
            provider = ProcessConfig.CONFIG_PROVIDER_DEFAULT;
        }
        if ("traditional".equals(b.role) && "json".equals(provider)) {
            error(b.providerLines.getOrDefault(b.role, 0), "deployment.role_traditional.config_provider",
                    "expected etcd or yaml, got \"json\"");
            provider = ProcessConfig.CONFIG_PROVIDER_DEFAULT;
        }
        if ("control_plane".equals(b.role) && !b.enableAdmin) {
            error(b.roleLine, "deployment.role", "role control_plane serves the Admin API only, but"
                    + " apisix.enable_admin is false");
        }
        TurnpikeSettings d = TurnpikeSettings.defaults(configFile);
        Map<String, Object> tp = b.tp;
        AccessLogConfig accessLog = accessLogConfig(b, configFile);
        ListenAddress status = (ListenAddress) tp.getOrDefault("status_listen",
                b.apisixStatus != null ? b.apisixStatus : d.statusListen());
        String sf = (String) tp.get("standalone_file");
        TurnpikeSettings settings = new TurnpikeSettings(
                intOr(tp, "event_loops", d.eventLoops()),
                (String) tp.getOrDefault("transport", d.transport()),
                intOr(tp, "max_request_line_bytes", d.maxRequestLineBytes()),
                intOr(tp, "max_header_bytes", d.maxHeaderBytes()),
                intOr(tp, "max_headers", d.maxHeaders()),
                longOr(tp, "max_body_bytes", d.maxBodyBytes()),
                longOr(tp, "header_timeout_ms", d.headerTimeoutMs()),
                longOr(tp, "keepalive_timeout_ms", d.keepaliveTimeoutMs()),
                longOr(tp, "upstream_connect_timeout_ms", d.upstreamConnectTimeoutMs()),
                longOr(tp, "upstream_send_timeout_ms", d.upstreamSendTimeoutMs()),
                longOr(tp, "upstream_read_timeout_ms", d.upstreamReadTimeoutMs()),
                intOr(tp, "upstream_pool_size", d.upstreamPoolSize()),
                longOr(tp, "upstream_idle_timeout_ms", d.upstreamIdleTimeoutMs()),
                intOr(tp, "upstream_max_requests", d.upstreamMaxRequests()),
                longOr(tp, "drain_timeout_ms", d.drainTimeoutMs()),
                status,
                sf == null ? d.standaloneFile() : TurnpikeSettings.besideConfig(configFile, sf),
                accessLog.enabled(),
                b.keyless,
                intOr(tp, "max_connections_per_loop", d.maxConnectionsPerLoop()),
                intOr(tp, "pipeline_buffer_bytes", d.pipelineBufferBytes()),
                accessLog);
        return new ProcessConfig(configFile, b.nodeListen, new SslConfig(b.sslEnable, sslListenHttp2(b), b.fallbackSni),
                b.role, provider,
                new EtcdConfig(b.etcdHosts, b.etcdPrefix, b.etcdTimeout, b.etcdUser, b.etcdPassword, b.etcdTls),
                new AdminConfig(b.enableAdmin, b.adminKeys, b.adminKeyRequired, b.adminListen, b.allowAdmin),
                new PrometheusAttr(b.promExportServer, b.prometheus, b.promExportUri, b.promMetricPrefix,
                        b.promBuckets, b.promLatencyLabels, b.promMaxSeries), settings, b.otel,
                new OperationsConfig(b.enableControl, b.control, b.pidFile == null ? null : Path.of(b.pidFile)),
                discoveryConfig(b));
    }

    // ------------------------------------------------------------------ discovery (docs/discovery.md)

    private static final Set<String> DNS_ORDER = Set.of("last", "SRV", "A", "AAAA", "CNAME");

    /** {@code discovery}: APISIX's registries; only {@code dns} is implemented, the others are errors. */
    private void discovery(Node n, String path, Builder b) {
        Map<String, NodeTuple> m = mapping(n, path);
        if (m == null) {
            return;
        }
        m.forEach((key, t) -> {
            String p = path + "." + key;
            if (!key.equals("dns")) {
                error(YamlDocument.line(t.getKeyNode()), p, "discovery " + q(key) + " is not supported by Turnpike"
                        + " (only dns: consul, consul_kv, nacos, eureka, kubernetes, tars are not implemented)");
                return;
            }
            Node v = t.getValueNode();
            b.dnsLine = YamlDocument.line(t.getKeyNode());
            if (isNull(v)) {
                error(b.dnsLine, p, "\"servers\" or \"resolv_conf\" is required");
                return;
            }
            b.dnsSet = true;
            Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
            h.put("servers", (x, xp) -> {
                List<Node> items = list(x, xp);
                if (items == null) {
                    return;
                }
                if (items.isEmpty()) {
                    error(YamlDocument.line(x), xp, "expected at least 1 server, got none");
                    return;
                }
                List<java.net.InetSocketAddress> out = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    String s = string(items.get(i), item(xp, i));
                    java.net.InetSocketAddress a = s == null ? null : dnsServer(s);
                    if (s != null && a == null) {
                        error(YamlDocument.line(items.get(i)), item(xp, i), "expected an IP address with an optional"
                                + " port (\"127.0.0.1:8600\", \"[::1]:53\"), got " + q(s));
                    } else if (a != null) {
                        out.add(a);
                    }
                }
                b.dnsServers = out;
            });
            h.put("resolv_conf", (x, xp) -> {
                String s = filePath(x, xp);
                if (s == null) {
                    return;
                }
                Path f = TurnpikeSettings.besideConfig(b.configFile, s);
                if (!Files.isReadable(f)) {
                    error(YamlDocument.line(x), xp, "file " + f + " does not exist or is not readable");
                } else {
                    b.dnsResolvConf = f;
                }
            });
            h.put("order", (x, xp) -> {
                List<Node> items = list(x, xp);
                if (items == null) {
                    return;
                }
                if (items.isEmpty() || items.size() > 5) {
                    error(YamlDocument.line(x), xp, "expected 1..5 record types, got " + items.size());
                    return;
                }
                List<String> out = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    String s = enumValue(items.get(i), item(xp, i), DNS_ORDER);
                    if (s != null && out.contains(s)) {
                        error(YamlDocument.line(items.get(i)), item(xp, i), "duplicate " + q(s)
                                + " (items must be unique)");
                        return;
                    }
                    if (s == null) {
                        return;
                    }
                    out.add(s);
                }
                if (!out.contains("SRV") && !out.contains("A") && !out.contains("AAAA")) {
                    error(YamlDocument.line(x), xp, "expected at least one of SRV, A, AAAA (\"last\" and \"CNAME\""
                            + " query nothing of their own: CNAME chains are followed by the other lookups)");
                    return;
                }
                b.dnsOrder = out;
            });
            section(v, p, h, Set.of(), true);
            if (v instanceof MappingNode) {
                boolean servers = false;
                boolean resolv = false;
                for (NodeTuple kt : ((MappingNode) v).getValue()) {
                    String k = kt.getKeyNode() instanceof ScalarNode ? ((ScalarNode) kt.getKeyNode()).getValue() : "";
                    servers |= k.equals("servers") && !isNull(kt.getValueNode());
                    resolv |= k.equals("resolv_conf") && !isNull(kt.getValueNode());
                }
                if (servers && resolv) {
                    error(b.dnsLine, p, "value should match only one schema, but matches both: set either \"servers\""
                            + " or \"resolv_conf\", not both");
                } else if (!servers && !resolv) {
                    error(b.dnsLine, p, "\"servers\" or \"resolv_conf\" is required");
                }
            }
        });
    }

    /** {@code ip}, {@code ip:port}, {@code [v6]}, {@code [v6]:port} (default port 53); null when invalid. */
    static java.net.InetSocketAddress dnsServer(String s) {
        String host = s;
        int port = 53;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                return null;
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    return null;
                }
                port = dnsPort(rest.substring(1));
            }
        } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) {
            host = s.substring(0, s.indexOf(':'));
            port = dnsPort(s.substring(s.indexOf(':') + 1));
        }
        if (port < 1 || !ResourceCodec.isIpOrCidr(host) || host.indexOf('/') >= 0) {
            return null;
        }
        try {
            // an IP literal: no lookup
            return new java.net.InetSocketAddress(java.net.InetAddress.getByName(host), port);
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }

    private static int dnsPort(String p) {
        if (p.isEmpty() || p.length() > 5 || !p.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        int v = Integer.parseInt(p);
        return v <= 65535 ? v : -1;
    }

    /** {@code turnpike.dns}: the resolver's tuning, strictly. */
    private void dnsTuning(Node n, String path, Builder b) {
        b.dnsTuningLine = YamlDocument.line(n);
        Long[] t = b.dnsTuning;
        Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
        h.put("min_ttl", (v, p) -> t[0] = integer(v, p, 0, 86_400));
        h.put("max_ttl", (v, p) -> t[1] = integer(v, p, 1, 86_400));
        h.put("query_timeout_ms", (v, p) -> t[2] = integer(v, p, 10, 60_000));
        h.put("error_retry", (v, p) -> t[3] = integer(v, p, 1, 3_600));
        section(n, path, h, Set.of(), true);
    }

    private DiscoveryConfig discoveryConfig(Builder b) {
        Long[] t = b.dnsTuning;
        long min = t[0] == null ? DiscoveryConfig.MIN_TTL_MS_DEFAULT : t[0] * 1000;
        long max = t[1] == null ? DiscoveryConfig.MAX_TTL_MS_DEFAULT : t[1] * 1000;
        long timeout = t[2] == null ? DiscoveryConfig.QUERY_TIMEOUT_MS_DEFAULT : t[2];
        long retry = t[3] == null ? DiscoveryConfig.ERROR_RETRY_MS_DEFAULT : t[3] * 1000;
        if (max < min) {
            error(b.dnsTuningLine, "turnpike.dns", "max_ttl (" + max / 1000 + ") must not be below min_ttl ("
                    + min / 1000 + ")");
            return DiscoveryConfig.DEFAULT;
        }
        DiscoveryConfig.Dns system = DiscoveryConfig.Dns.system(min, max, timeout, retry);
        DiscoveryConfig.Dns dns = null;
        if (b.dnsSet && (b.dnsServers != null || b.dnsResolvConf != null)) {
            dns = new DiscoveryConfig.Dns(b.dnsServers == null ? List.of() : b.dnsServers, b.dnsResolvConf,
                    b.dnsOrder == null ? DiscoveryConfig.ORDER_DEFAULT : b.dnsOrder, min, max, timeout, retry, false);
        }
        return new DiscoveryConfig(dns, system);
    }

    private static int intOr(Map<String, Object> m, String k, int def) {
        Object v = m.get(k);
        return v == null ? def : ((Long) v).intValue();
    }

    private static long longOr(Map<String, Object> m, String k, long def) {
        Object v = m.get(k);
        return v == null ? def : (Long) v;
    }

    private void pluginAttr(Node n, String path, Builder b) {
        ListenAddress def = ProcessConfig.PROMETHEUS_EXPORT_ADDR_DEFAULT;
        section(n, path, Map.of("prometheus", (v, p) -> section(v, p, Map.of(
                "export_addr", (x, xp) -> b.prometheus = orDefault(address(x, xp, def.ip(), def.port()), def),
                "enable_export_server", (x, xp) -> b.promExportServer = bool(x, xp, true),
                "export_uri", (x, xp) -> {
                    String u = string(x, xp);
                    if (u != null && (!u.startsWith("/") || u.length() < 2 || u.indexOf('?') >= 0)) {
                        error(YamlDocument.line(x), xp, "expected a path starting with /, got " + show(x));
                    } else if (u != null) {
                        b.promExportUri = u;
                    }
                },
                "metric_prefix", (x, xp) -> {
                    String m = string(x, xp);
                    if (m != null && !m.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
                        error(YamlDocument.line(x), xp, "expected a Prometheus metric name prefix"
                                + " ([a-zA-Z_:][a-zA-Z0-9_:]*), got " + show(x));
                    } else if (m != null) {
                        b.promMetricPrefix = m;
                    }
                },
                "default_buckets", (x, xp) -> {
                    List<Node> items = list(x, xp);
                    if (items == null) {
                        return;
                    }
                    List<Double> out = new ArrayList<>();
                    for (int i = 0; i < items.size(); i++) {
                        Node it = items.get(i);
                        JsonNode jv = it instanceof ScalarNode ? JsonTree.scalar((ScalarNode) it) : null;
                        if (jv == null || !jv.isNumber() || !(jv.asDouble() > 0) || Double.isInfinite(jv.asDouble())) {
                            expected(it, item(xp, i), "a positive number (milliseconds)");
                            return;
                        }
                        if (!out.isEmpty() && jv.asDouble() <= out.get(out.size() - 1)) {
                            error(YamlDocument.line(it), item(xp, i), "buckets must increase, got " + show(it)
                                    + " after " + out.get(out.size() - 1));
                            return;
                        }
                        out.add(jv.asDouble());
                    }
                    if (out.isEmpty() || out.size() > 64) {
                        error(YamlDocument.line(x), xp, "expected 1..64 buckets, got " + out.size());
                        return;
                    }
                    b.promBuckets = out;
                },
                "latency_labels", (x, xp) -> {
                    List<Node> items = list(x, xp);
                    if (items == null) {
                        return;
                    }
                    Set<String> out = new java.util.HashSet<>();
                    for (int i = 0; i < items.size(); i++) {
                        String l = enumValue(items.get(i), item(xp, i), PrometheusAttr.LATENCY_LABELS_ALL);
                        if (l == null) {
                            return;
                        }
                        out.add(l);
                    }
                    b.promLatencyLabels = out;
                },
                "max_series", (x, xp) -> {
                    Long m = integer(x, xp, 16, 1_000_000);
                    if (m != null) {
                        b.promMaxSeries = m.intValue();
                    }
                }), PROMETHEUS_UNSUPPORTED, true),
                "opentelemetry", (v, p) -> b.otel = openTelemetry(v, p)), null, false);
    }

    /**
     * {@code plugin_attr.opentelemetry}: APISIX's keys, strictly (a typo or a key Turnpike does not act on is an error:
     * spans would otherwise go somewhere else than the operator meant, or be batched differently).
     */
    private OpenTelemetryAttr openTelemetry(Node n, String path) {
        OpenTelemetryAttr d = OpenTelemetryAttr.DEFAULT;
        String[] source = {d.traceIdSource()};
        Map<String, Object> resource = new LinkedHashMap<>();
        String[] address = {d.collectorAddress()};
        long[] timeout = {d.requestTimeoutSec()};
        Map<String, String> headers = new LinkedHashMap<>();
        boolean[] drop = {d.dropOnQueueFull()};
        long[] queue = {d.maxQueueSize()};
        long[] batch = {d.maxExportBatchSize()};
        double[] batchTimeout = {d.batchTimeoutSec()};
        double[] inactive = {d.inactiveTimeoutSec()};
        Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
        h.put("trace_id_source", (v, p) -> source[0] = orDefault(enumValue(v, p, Set.of("x-request-id", "random")),
                source[0]));
        h.put("resource", (v, p) -> {
            Map<String, NodeTuple> m = mapping(v, p);
            if (m == null) {
                return;
            }
            m.forEach((k, t) -> {
                Node x = t.getValueNode();
                JsonNode j = x instanceof ScalarNode ? JsonTree.scalar((ScalarNode) x) : null;
                if (j == null || !(j.isTextual() || j.isNumber() || j.isBoolean())) {
                    expected(x, p + "." + k, "a string, number or boolean");
                } else {
                    resource.put(k, j.isTextual() ? j.textValue() : j.isBoolean() ? (Object) j.booleanValue()
                            : (Object) j.doubleValue());
                }
            });
        });
        h.put("collector", (v, p) -> section(v, p, Map.of(
                "address", (x, xp) -> {
                    String s = string(x, xp);
                    if (s != null && !validCollectorAddress(s)) {
                        error(YamlDocument.line(x), xp, "expected host:port or an http:// or https:// URL, got "
                                + q(s));
                    } else if (s != null) {
                        address[0] = s;
                    }
                },
                "request_timeout", (x, xp) -> timeout[0] = orDefault(integer(x, xp, 1, 3600), timeout[0]),
                "request_headers", (x, xp) -> {
                    Map<String, NodeTuple> m = mapping(x, xp);
                    if (m == null) {
                        return;
                    }
                    m.forEach((k, t) -> {
                        Node y = t.getValueNode();
                        JsonNode j = y instanceof ScalarNode ? JsonTree.scalar((ScalarNode) y) : null;
                        if (!k.matches("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")) {
                            error(YamlDocument.line(t.getKeyNode()), xp + "." + k, "not a valid header name");
                        } else if (j == null || !(j.isTextual() || j.isNumber() || j.isBoolean())) {
                            expected(y, xp + "." + k, "a string, number or boolean");
                        } else {
                            headers.put(k, j.asText());
                        }
                    });
                }), Set.of(), true));
        h.put("batch_span_processor", (v, p) -> section(v, p, Map.of(
                "drop_on_queue_full", (x, xp) -> drop[0] = bool(x, xp, drop[0]),
                "max_queue_size", (x, xp) -> queue[0] = orDefault(integer(x, xp, 1, 65536), queue[0]),
                "batch_timeout", (x, xp) -> batchTimeout[0] = orDefault(seconds(x, xp), batchTimeout[0]),
                "inactive_timeout", (x, xp) -> inactive[0] = orDefault(seconds(x, xp), inactive[0]),
                "max_export_batch_size", (x, xp) -> batch[0] = orDefault(integer(x, xp, 1, 1 << 16), batch[0])),
                Set.of(), true));
        h.put("set_ngx_var", (v, p) -> {
            if (bool(v, p, false)) {
                error(YamlDocument.line(v), p, "true is not supported (Turnpike has no nginx variables; the trace id"
                        + " is the access log's $trace_id); remove it or set false");
            }
        });
        section(n, path, h, Set.of(), true);
        return new OpenTelemetryAttr(source[0], resource, address[0], (int) timeout[0], headers, drop[0],
                (int) queue[0], batchTimeout[0], inactive[0], (int) batch[0]);
    }

    private static boolean validCollectorAddress(String s) {
        String hostPort = s.startsWith("http://") ? s.substring(7) : s.startsWith("https://") ? s.substring(8) : s;
        int slash = hostPort.indexOf('/');
        if (slash >= 0 && s.equals(hostPort)) {
            return false; // a path needs a scheme
        }
        if (slash >= 0) {
            hostPort = hostPort.substring(0, slash);
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0) {
            return !s.equals(hostPort) && !hostPort.isEmpty(); // a URL may leave the port to its scheme
        }
        try {
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            return port >= 1 && port <= 65535;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A positive number of seconds (integer or decimal). */
    private Double seconds(Node n, String path) {
        JsonNode v = n instanceof ScalarNode ? JsonTree.scalar((ScalarNode) n) : null;
        if (v == null || !v.isNumber() || v.doubleValue() <= 0 || v.doubleValue() > 3600) {
            error(YamlDocument.line(n), path, "expected a number of seconds > 0 and <= 3600, got " + show(n));
            return null;
        }
        return v.doubleValue();
    }

    private void ssl(Node n, String path, Builder b) {
        section(n, path, Map.of(
                "enable", (v, p) -> b.sslEnable = bool(v, p, b.sslEnable),
                "fallback_sni", (v, p) -> b.fallbackSni = hostName(v, p),
                "listen", (v, p) -> {
                    List<Node> items = list(v, p);
                    if (items == null) {
                        return;
                    }
                    List<SslListen> out = new ArrayList<>();
                    List<Boolean> http2 = new ArrayList<>();
                    for (int i = 0; i < items.size(); i++) {
                        String ip = item(p, i);
                        Node it = items.get(i);
                        if (it instanceof ScalarNode) {
                            Integer port = port(it, ip);
                            if (port != null) {
                                out.add(new SslListen("0.0.0.0", port, null));
                                http2.add(null);
                            }
                            continue;
                        }
                        String[] ipHolder = {"0.0.0.0"};
                        Integer[] portHolder = {SslConfig.DEFAULT_PORT};
                        String[] sni = {null};
                        Boolean[] h2 = {null};
                        section(it, ip, Map.of(
                                "ip", (x, xp) -> ipHolder[0] = ip(x, xp, ipHolder[0]),
                                "port", (x, xp) -> portHolder[0] = port(x, xp),
                                "fallback_sni", (x, xp) -> sni[0] = hostName(x, xp),
                                "enable_http2", (x, xp) -> h2[0] = bool(x, xp, false)),
                                Set.of("enable_http3"), false);
                        if (portHolder[0] != null) {
                            out.add(new SslListen(ipHolder[0], portHolder[0], sni[0]));
                            http2.add(h2[0]);
                        }
                    }
                    if (!out.isEmpty()) {
                        b.sslListen = out;
                        b.sslListenHttp2 = http2;
                        b.sslListenLine = YamlDocument.line(v);
                    }
                }), SSL_UNSUPPORTED, false);
    }

    private void deployment(Node n, String path, Builder b) {
        section(n, path, Map.of(
                "role", (v, p) -> {
                    String r = enumValue(v, p, Set.of("traditional", "data_plane", "control_plane"));
                    if (r != null) {
                        b.role = r;
                        b.roleLine = YamlDocument.line(v);
                    }
                },
                "role_traditional", (v, p) -> provider(v, p, "traditional", Set.of("etcd", "yaml", "json"), b),
                "role_data_plane", (v, p) -> provider(v, p, "data_plane", Set.of("etcd", "yaml", "json"), b),
                // The Admin API alone, writing to etcd (APISIX's decoupled deployment): no data plane.
                "role_control_plane", (v, p) -> provider(v, p, "control_plane", Set.of("etcd"), b),
                "etcd", (v, p) -> section(v, p, Map.of(
                        "host", (x, xp) -> {
                            List<String> hosts = new ArrayList<>();
                            List<Node> items = x instanceof ScalarNode ? List.of(x) : list(x, xp);
                            if (items == null) {
                                return;
                            }
                            for (int i = 0; i < items.size(); i++) {
                                String ip = x instanceof ScalarNode ? xp : item(xp, i);
                                String url = string(items.get(i), ip);
                                if (url == null) {
                                    continue;
                                }
                                if (!url.startsWith("http://") && !url.startsWith("https://")) {
                                    error(YamlDocument.line(items.get(i)), ip,
                                            "expected an http:// or https:// URL, got " + q(url));
                                } else {
                                    hosts.add(url);
                                }
                            }
                            if (!hosts.isEmpty()) {
                                b.etcdHosts = hosts;
                            }
                        },
                        "prefix", (x, xp) -> {
                            String s = string(x, xp);
                            if (s != null && !s.startsWith("/")) {
                                error(YamlDocument.line(x), xp, "expected a key prefix starting with \"/\", got " + q(s));
                            } else if (s != null) {
                                b.etcdPrefix = s.length() > 1 && s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
                            }
                        },
                        "timeout", (x, xp) -> {
                            Long t = integer(x, xp, 1, Integer.MAX_VALUE);
                            if (t != null) {
                                b.etcdTimeout = t.intValue();
                            }
                        },
                        "user", (x, xp) -> b.etcdUser = string(x, xp),
                        "password", (x, xp) -> b.etcdPassword = string(x, xp),
                        "tls", (x, xp) -> {
                            if (!(x instanceof MappingNode)) {
                                expected(x, xp, "a mapping");
                                return;
                            }
                            JsonTree tree = JsonTree.of(x);
                            if (tree.error() != null) {
                                error(tree.errorLine(), xp, tree.error());
                                return;
                            }
                            ObjectNode t = (ObjectNode) tree.value();
                            // read by EtcdConfigStore: nothing else may pass unnoticed
                            for (String k : (Iterable<String>) t::fieldNames) {
                                if (!Set.of("cert", "key", "verify", "sni").contains(k)) {
                                    error(YamlDocument.line(x), xp + "." + k, "unknown key (known: cert, key, verify,"
                                            + " sni)");
                                }
                            }
                            if (t.hasNonNull("cert") != t.hasNonNull("key")) {
                                error(YamlDocument.line(x), xp, "\"cert\" and \"key\" must be set together");
                            }
                            b.etcdTls = t;
                        }), ETCD_UNSUPPORTED, false),
                "admin", (v, p) -> admin(v, p, b)), DEPLOYMENT_UNSUPPORTED, false);
    }

    private void provider(Node n, String path, String role, Set<String> allowed, Builder b) {
        section(n, path, Map.of("config_provider", (v, p) -> {
            String s = enumValue(v, p, allowed);
            if (s != null) {
                b.providers.put(role, s);
                b.providerLines.put(role, YamlDocument.line(v));
            }
        }), Set.of("conf_server"), false);
    }

    private void admin(Node n, String path, Builder b) {
        section(n, path, Map.of(
                "admin_key_required", (v, p) -> b.adminKeyRequired = bool(v, p, true),
                "admin_listen", (v, p) -> b.adminListen = orDefault(address(v, p, AdminConfig.DEFAULT_LISTEN.ip(),
                        AdminConfig.DEFAULT_LISTEN.port()), b.adminListen),
                "allow_admin", (v, p) -> {
                    List<Node> items = list(v, p);
                    if (items == null) {
                        return;
                    }
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < items.size(); i++) {
                        String s = string(items.get(i), item(p, i));
                        if (s != null && !ResourceCodec.isIpOrCidr(s)) {
                            error(YamlDocument.line(items.get(i)), item(p, i), "expected an IP or CIDR, got " + q(s));
                        } else if (s != null) {
                            out.add(s);
                        }
                    }
                    b.allowAdmin = out;
                },
                "admin_key", (v, p) -> {
                    List<Node> items = list(v, p);
                    if (items == null) {
                        return;
                    }
                    List<AdminKey> keys = new ArrayList<>();
                    for (int i = 0; i < items.size(); i++) {
                        String ip = item(p, i);
                        String[] f = new String[3];
                        f[2] = "admin";
                        section(items.get(i), ip, Map.of(
                                "name", (x, xp) -> f[0] = string(x, xp),
                                "key", (x, xp) -> f[1] = string(x, xp),
                                "role", (x, xp) -> f[2] = orDefault(enumValue(x, xp, Set.of("admin", "viewer")), f[2])),
                                Set.of(), false);
                        if (f[1] == null || f[1].isEmpty()) {
                            error(YamlDocument.line(items.get(i)), ip, "admin key has no \"key\"");
                        } else {
                            keys.add(new AdminKey(f[0] == null ? "key" + i : f[0], f[1], f[2]));
                        }
                    }
                    b.adminKeys = keys;
                }), ADMIN_UNSUPPORTED, false);
    }

    private void turnpike(Node n, String path, Builder b) {
        Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
        Map<String, Object> tp = b.tp;
        h.put("event_loops", (v, p) -> put(tp, "event_loops", integer(v, p, 0, 4096)));
        h.put("transport", (v, p) -> put(tp, "transport", enumValue(v, p, TRANSPORTS)));
        h.put("max_request_line_bytes", (v, p) -> put(tp, "max_request_line_bytes", integer(v, p, 64, Integer.MAX_VALUE)));
        h.put("max_header_bytes", (v, p) -> put(tp, "max_header_bytes", integer(v, p, 256, Integer.MAX_VALUE)));
        h.put("max_headers", (v, p) -> put(tp, "max_headers", integer(v, p, 1, 65536)));
        h.put("max_body_bytes", (v, p) -> put(tp, "max_body_bytes", integer(v, p, 0, Long.MAX_VALUE)));
        for (String k : List.of("header_timeout_ms", "keepalive_timeout_ms", "upstream_connect_timeout_ms",
                "upstream_send_timeout_ms", "upstream_read_timeout_ms", "upstream_idle_timeout_ms",
                "drain_timeout_ms")) {
            h.put(k, (v, p) -> put(tp, k, integer(v, p, 1, Long.MAX_VALUE)));
        }
        h.put("upstream_pool_size", (v, p) -> put(tp, "upstream_pool_size", integer(v, p, 0, 1_000_000)));
        h.put("upstream_max_requests", (v, p) -> put(tp, "upstream_max_requests", integer(v, p, 1, Integer.MAX_VALUE)));
        h.put("status_listen", (v, p) -> put(tp, "status_listen", address(v, p, "127.0.0.1", null)));
        h.put("standalone_file", (v, p) -> {
            String s = string(v, p);
            if (s != null && s.isBlank()) {
                error(YamlDocument.line(v), p, "expected a file path, got \"\"");
            } else {
                put(tp, "standalone_file", s);
            }
        });
        h.put("access_log", (v, p) -> accessLog(v, p, b));
        h.put("keyless", (v, p) -> keyless(v, p, b));
        h.put("dns", (v, p) -> dnsTuning(v, p, b));
        h.put("max_connections_per_loop", (v, p) -> put(tp, "max_connections_per_loop",
                integer(v, p, 1, Integer.MAX_VALUE)));
        h.put("pipeline_buffer_bytes", (v, p) -> put(tp, "pipeline_buffer_bytes", integer(v, p, 0, 1 << 30)));
        h.put("pid_file", (v, p) -> {
            String s = string(v, p);
            if (s != null && s.isBlank()) {
                error(YamlDocument.line(v), p, "expected a file path, got \"\"");
            } else {
                b.pidFile = s;
            }
        });
        section(n, path, h, Set.of(), true);
    }

    private static final Set<String> ESCAPES = Set.of("default", "json");

    /** {@code turnpike.access_log}: true/false, or a mapping {enabled, path, format, format_escape, ...}. */
    private void accessLog(Node n, String path, Builder b) {
        b.accessLogLine = YamlDocument.line(n);
        Object[] a = b.accessLog;
        if (n instanceof ScalarNode) {
            a[0] = bool(n, path, false);
            return;
        }
        Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
        h.put("enabled", (v, p) -> a[0] = bool(v, p, true));
        h.put("path", (v, p) -> a[1] = filePath(v, p));
        h.put("format", (v, p) -> a[2] = format(v, p));
        h.put("format_escape", (v, p) -> a[3] = enumValue(v, p, ESCAPES));
        h.put("buffer_entries", (v, p) -> a[4] = integer(v, p, 16, 1 << 20));
        h.put("max_request_bytes", (v, p) -> a[5] = integer(v, p, 256, 1 << 20));
        if (!(n instanceof MappingNode)) {
            expected(n, path, "true, false or a mapping");
            return;
        }
        if (a[0] == null) {
            a[0] = Boolean.TRUE; // a mapping turns it on unless it says enabled: false
        }
        section(n, path, h, Set.of(), true);
    }

    /** APISIX's access log keys under {@code nginx_config.http}; the rest of nginx_config is not read. */
    private void nginxConfig(Node n, String path, Builder b) {
        section(n, path, Map.of("http", (v, p) -> {
            b.nginxLogLine = YamlDocument.line(v);
            Object[] a = b.nginxLog;
            section(v, p, Map.of(
                    "enable_access_log", (x, xp) -> a[0] = bool(x, xp, true),
                    "access_log", (x, xp) -> a[1] = filePath(x, xp),
                    "access_log_format", (x, xp) -> a[2] = format(x, xp),
                    "access_log_format_escape", (x, xp) -> a[3] = enumValue(x, xp, ESCAPES)), null, false);
        }), null, false);
    }

    private String filePath(Node n, String path) {
        String s = string(n, path);
        if (s != null && s.isBlank()) {
            error(YamlDocument.line(n), path, "expected a file path, got \"\"");
            return null;
        }
        return s;
    }

    private AccessLogFormat format(Node n, String path) {
        String s = string(n, path);
        if (s == null) {
            return null;
        }
        if (s.equals("json")) {
            return AccessLogFormat.parse(AccessLogFormat.JSON);
        }
        if (s.equals("default")) {
            return AccessLogFormat.parse(AccessLogFormat.DEFAULT);
        }
        try {
            return AccessLogFormat.parse(s);
        } catch (IllegalArgumentException e) {
            error(YamlDocument.line(n), path, e.getMessage());
            return null;
        }
    }

    private AccessLogConfig accessLogConfig(Builder b, Path configFile) {
        AccessLogConfig d = AccessLogConfig.off(configFile);
        Object[] t = b.accessLog;
        Object[] x = b.nginxLog;
        boolean tSet = t[0] != null;
        boolean xSet = x[0] != null || x[1] != null || x[2] != null || x[3] != null;
        if (tSet && xSet) {
            error(b.accessLogLine, "turnpike.access_log", "set either turnpike.access_log or nginx_config.http's"
                    + " access log keys, not both");
            return d;
        }
        if (xSet) {
            // APISIX writes the access log unless enable_access_log is false.
            t = new Object[]{x[0] == null ? Boolean.TRUE : x[0], x[1], x[2], x[3], null, null};
        }
        boolean enabled = Boolean.TRUE.equals(t[0]);
        Path path = t[1] == null ? d.path() : AccessLogConfig.resolve(configFile, (String) t[1]);
        AccessLogFormat format = t[2] == null ? d.format() : (AccessLogFormat) t[2];
        // format: json is JSON-escaped unless format_escape says otherwise.
        boolean json = t[3] != null ? "json".equals(t[3]) : format.source().equals(AccessLogFormat.JSON);
        int entries = t[4] == null ? d.bufferEntries() : ((Long) t[4]).intValue();
        int bytes = t[5] == null ? d.maxRequestBytes() : ((Long) t[5]).intValue();
        return new AccessLogConfig(enabled, path, format, json, entries, bytes);
    }

    private static final java.util.regex.Pattern KEY_SERVER_NAME = java.util.regex.Pattern.compile("^[A-Za-z0-9._-]{1,64}$");

    /** {@code turnpike.keyless}: key server name → {address, cert, key, ca, server_name}; unknown keys are errors. */
    private void keyless(Node n, String path, Builder b) {
        Map<String, NodeTuple> servers = mapping(n, path);
        if (servers == null) {
            return;
        }
        servers.forEach((name, t) -> {
            String p = path + "." + name;
            if (!KEY_SERVER_NAME.matcher(name).matches()) {
                error(YamlDocument.line(t.getKeyNode()), p, "expected a key server name of letters, digits, \".\", "
                        + "\"_\" or \"-\" (at most 64), got " + q(name));
                return;
            }
            String[] f = new String[5]; // address, cert, key, ca, server_name
            int errorsBefore = errors.size();
            Map<String, BiConsumer<Node, String>> h = new LinkedHashMap<>();
            h.put("address", (x, xp) -> f[0] = string(x, xp));
            h.put("cert", (x, xp) -> f[1] = string(x, xp));
            h.put("key", (x, xp) -> f[2] = string(x, xp));
            h.put("ca", (x, xp) -> f[3] = string(x, xp));
            h.put("server_name", (x, xp) -> f[4] = hostName(x, xp));
            Node v = t.getValueNode();
            if (isNull(v)) {
                expected(v, p, "a mapping with address, cert, key and ca");
                return;
            }
            section(v, p, h, Set.of(), true);
            int line = YamlDocument.line(v);
            String host = null;
            int port = 0;
            if (f[0] == null) {
                error(line, p, "\"address\" is required (host:port of the key server)");
            } else {
                int colon = f[0].lastIndexOf(':');
                String portText = colon < 0 ? "" : f[0].substring(colon + 1);
                host = colon <= 0 ? "" : f[0].substring(0, colon);
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                try {
                    port = Integer.parseInt(portText);
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (host.isEmpty() || port < 1 || port > 65535) {
                    error(line, p + ".address", "expected host:port, got " + q(f[0]));
                }
            }
            Path[] files = new Path[3];
            String[] keys = {"cert", "key", "ca"};
            for (int i = 0; i < 3; i++) {
                String s = f[i + 1];
                if (s == null || s.isBlank()) {
                    error(line, p, "\"" + keys[i] + "\" is required (a PEM file path)");
                    continue;
                }
                Path file = TurnpikeSettings.besideConfig(b.configFile, s);
                if (!Files.isReadable(file)) {
                    error(line, p + "." + keys[i], "file " + file + " does not exist or is not readable");
                }
                files[i] = file;
            }
            if (errors.size() == errorsBefore) {
                b.keyless.put(name, new KeyServerConfig(name, host, port, files[0], files[1], files[2], f[4]));
            }
        });
    }

    private static void put(Map<String, Object> m, String k, Object v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    private static <T> T orDefault(T v, T def) {
        return v == null ? def : v;
    }

    // ------------------------------------------------------------------ node readers

    /**
     * Walks the mapping {@code n}: known keys to their handler (skipping null values), {@code unsupported} ones to a
     * warning, others to an error ({@code strict}) or a warning.
     */
    private void section(Node n, String path, Map<String, BiConsumer<Node, String>> handlers,
                         Set<String> unsupported, boolean strict) {
        if (isNull(n)) {
            return;
        }
        Map<String, NodeTuple> m = mapping(n, path);
        if (m == null) {
            return;
        }
        m.forEach((key, t) -> {
            String p = path.isEmpty() ? key : path + "." + key;
            BiConsumer<Node, String> h = handlers.get(key);
            if (h == null && REFUSED.containsKey(p)) {
                if (!isNull(t.getValueNode())) {
                    refuse(t.getValueNode(), p);
                }
            } else if (h != null) {
                if (!isNull(t.getValueNode())) {
                    h.accept(t.getValueNode(), p);
                }
            } else if (unsupported == null || unsupported.contains(key)) {
                unsupported(t.getKeyNode(), p);
            } else if (strict) {
                error(YamlDocument.line(t.getKeyNode()), p, "unknown key (known: " + String.join(", ",
                        handlers.keySet()) + ")");
            } else {
                unknown(t.getKeyNode(), p);
            }
        });
    }

    private Map<String, NodeTuple> mapping(Node n, String path) {
        if (!(n instanceof MappingNode)) {
            expected(n, path, "a mapping");
            return null;
        }
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) n).getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode)) {
                error(YamlDocument.line(t.getKeyNode()), path, "keys must be plain scalars");
                continue;
            }
            String key = ((ScalarNode) t.getKeyNode()).getValue();
            if (out.containsKey(key)) {
                error(YamlDocument.line(t.getKeyNode()), path.isEmpty() ? key : path + "." + key, "duplicate key");
                continue;
            }
            out.put(key, t);
        }
        return out;
    }

    private List<ListenAddress> nodeListen(Node n, String path) {
        if (n instanceof ScalarNode) {
            Integer port = port(n, path);
            return port == null ? List.of(ProcessConfig.NODE_LISTEN_DEFAULT) : List.of(new ListenAddress("0.0.0.0", port));
        }
        List<Node> items = list(n, path);
        if (items == null) {
            return List.of(ProcessConfig.NODE_LISTEN_DEFAULT);
        }
        List<ListenAddress> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Node it = items.get(i);
            String ip = item(path, i);
            if (it instanceof ScalarNode) {
                Integer port = port(it, ip);
                if (port != null) {
                    out.add(new ListenAddress("0.0.0.0", port));
                }
            } else {
                ListenAddress a = address(it, ip, "0.0.0.0", null, true);
                if (a != null) {
                    out.add(a);
                }
            }
        }
        if (out.isEmpty()) {
            if (items.isEmpty()) {
                error(YamlDocument.line(n), path, "expected at least one port");
            }
            return List.of(ProcessConfig.NODE_LISTEN_DEFAULT);
        }
        return out;
    }

    /** {@code {ip, port}}; a missing port takes {@code defaultPort} (or is an error when that is null). */
    private ListenAddress address(Node n, String path, String defaultIp, Integer defaultPort) {
        return address(n, path, defaultIp, defaultPort, false);
    }

    /** {@code http2Allowed}: an {@code apisix.node_listen} item, where {@code enable_http2} turns on h2c. */
    private ListenAddress address(Node n, String path, String defaultIp, Integer defaultPort, boolean http2Allowed) {
        boolean[] h2 = {false};
        String[] ip = {defaultIp};
        Integer[] port = {defaultPort};
        boolean[] portBad = {false};
        if (!(n instanceof MappingNode)) {
            expected(n, path, "a mapping with ip and port");
            return null;
        }
        Map<String, BiConsumer<Node, String>> keys = new HashMap<>(Map.of(
                "ip", (v, p) -> ip[0] = ip(v, p, ip[0]),
                "port", (v, p) -> {
                    port[0] = port(v, p);
                    portBad[0] = port[0] == null;
                }));
        if (http2Allowed) {
            keys.put("enable_http2", (v, p) -> h2[0] = bool(v, p, false));
        }
        section(n, path, keys, http2Allowed ? Set.of("enable_http3") : Set.of("enable_http2", "enable_http3"), false);
        if (portBad[0]) {
            return null;
        }
        if (port[0] == null) {
            error(YamlDocument.line(n), path, "\"port\" is required");
            return null;
        }
        return new ListenAddress(ip[0], port[0], h2[0]);
    }

    private String ip(Node n, String path, String def) {
        String s = string(n, path);
        if (s == null) {
            return def;
        }
        String bare = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        if (!ResourceCodec.isIpOrCidr(bare) || bare.indexOf('/') >= 0) {
            error(YamlDocument.line(n), path, "expected an IP address, got " + q(s));
            return def;
        }
        return bare;
    }

    private Integer port(Node n, String path) {
        JsonNode v = n instanceof ScalarNode ? JsonTree.scalar((ScalarNode) n) : null;
        if (v == null || !v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > 65535) {
            error(YamlDocument.line(n), path, "expected a port number 1..65535, got " + show(n));
            return null;
        }
        return v.intValue();
    }

    private Long integer(Node n, String path, long min, long max) {
        JsonNode v = n instanceof ScalarNode ? JsonTree.scalar((ScalarNode) n) : null;
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            error(YamlDocument.line(n), path, "expected an integer, got " + show(n));
            return null;
        }
        long l = v.asLong();
        if (l < min || l > max) {
            error(YamlDocument.line(n), path, "expected an integer " + (max == Long.MAX_VALUE || max == Integer.MAX_VALUE
                    ? ">= " + min : min + ".." + max) + ", got " + l);
            return null;
        }
        return l;
    }

    /**
     * The HTTPS listeners with their HTTP/2 setting: an item's own {@code enable_http2}, else {@code apisix.enable_http2}
     * (default false). The TLS contexts of the certificates are shared by all listeners, so ALPN offers the same
     * protocols on each: listeners that disagree are an error.
     */
    private List<SslListen> sslListenHttp2(Builder b) {
        boolean top = b.enableHttp2 != null && b.enableHttp2;
        List<SslListen> out = new ArrayList<>();
        Boolean first = null;
        for (int i = 0; i < b.sslListen.size(); i++) {
            SslListen l = b.sslListen.get(i);
            Boolean own = b.sslListenHttp2 == null ? null : b.sslListenHttp2.get(i);
            boolean h2 = own != null ? own : top;
            if (first == null) {
                first = h2;
            } else if (first != h2) {
                error(b.sslListenLine, "apisix.ssl.listen[" + i + "].enable_http2", "every HTTPS listener must have "
                        + "the same enable_http2 (their certificates' TLS contexts, and so ALPN, are shared); listener 0 "
                        + "has " + first + ", this one " + h2);
            }
            out.add(new SslListen(l.ip(), l.port(), l.fallbackSni(), h2));
        }
        return out;
    }

    private boolean bool(Node n, String path, boolean def) {
        JsonNode v = n instanceof ScalarNode ? JsonTree.scalar((ScalarNode) n) : null;
        if (v == null || !v.isBoolean()) {
            error(YamlDocument.line(n), path, "expected true or false, got " + show(n));
            return def;
        }
        return v.booleanValue();
    }

    private String string(Node n, String path) {
        if (!(n instanceof ScalarNode)) {
            expected(n, path, "a string");
            return null;
        }
        return ((ScalarNode) n).getValue();
    }

    private String hostName(Node n, String path) {
        String s = string(n, path);
        if (s != null && !s.matches("^[0-9a-zA-Z._-]+$")) {
            error(YamlDocument.line(n), path, "expected a host name, got " + q(s));
            return null;
        }
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    private String enumValue(Node n, String path, Set<String> allowed) {
        String s = n instanceof ScalarNode ? ((ScalarNode) n).getValue() : null;
        if (s == null || !allowed.contains(s)) {
            error(YamlDocument.line(n), path, "expected one of " + String.join(", ", allowed.stream().sorted().toList())
                    + ", got " + show(n));
            return null;
        }
        return s;
    }

    private List<Node> list(Node n, String path) {
        if (!(n instanceof SequenceNode)) {
            expected(n, path, "a list");
            return null;
        }
        return ((SequenceNode) n).getValue();
    }

    private void expected(Node n, String path, String what) {
        error(YamlDocument.line(n), path, "expected " + what + ", got " + show(n));
    }

    private static String item(String path, int i) {
        return path + "[" + i + "]";
    }

    private static boolean isNull(Node n) {
        return n instanceof ScalarNode && JsonTree.scalar((ScalarNode) n).isNull();
    }

    private static String show(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof SequenceNode) {
            return "a list";
        }
        JsonNode v = JsonTree.scalar((ScalarNode) n);
        return v.isTextual() ? q(v.textValue()) : v.toString();
    }

    private static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private void error(int line, String key, String message) {
        errors.add(new ConfigProblem(null, null, -1, key, message, file, line));
    }

    private void refuse(Node valueNode, String key) {
        error(YamlDocument.line(valueNode), key, REFUSED.get(key));
    }

    private void unsupported(Node keyNode, String key) {
        warnings.add(new ConfigProblem(null, null, -1, key, "not supported by Turnpike, ignored", file,
                YamlDocument.line(keyNode)));
    }

    private void unknown(Node keyNode, String key) {
        warnings.add(new ConfigProblem(null, null, -1, key, "unknown key, ignored", file, YamlDocument.line(keyNode)));
    }
}
