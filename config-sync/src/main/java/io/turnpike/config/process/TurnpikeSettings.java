package io.turnpike.config.process;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turnpike's own settings: the {@code turnpike:} section of config.yaml (snake_case keys). Every key, its default
 * and its meaning:
 *
 * <pre>
 * event_loops                 0        event loop threads; 0 = one per available core
 * transport                   auto     auto | epoll | io_uring | nio
 * max_request_line_bytes      8192     longer request line: 414
 * max_header_bytes            65536    larger header block: 431
 * max_headers                 100      more header fields: 431
 * max_body_bytes              104857600  larger request body: 413; 0 = unlimited
 * header_timeout_ms           10000    time to receive a request head: 408
 * keepalive_timeout_ms        60000    idle client connection is closed after
 * upstream_connect_timeout_ms 6000     defaults for routes/upstreams without timeout
 * upstream_send_timeout_ms    60000
 * upstream_read_timeout_ms    60000
 * upstream_pool_size          320      idle keep-alive connections per upstream node per event loop
 * upstream_idle_timeout_ms    60000    idle upstream connection is closed after
 * upstream_max_requests       1000     requests per upstream connection before it is retired
 * drain_timeout_ms            30000    graceful shutdown: wait for in-flight requests this long
 * max_connections_per_loop    10620    open client connections per event loop; more are closed at accept
 *                                      (APISIX's nginx_config.event.worker_connections default)
 * pipeline_buffer_bytes       65536    pipelined bytes buffered while a request is in flight; reads pause beyond
 * status_listen               127.0.0.1:7085  {ip, port} for /status and /status/ready
 * standalone_file             apisix.yaml beside config.yaml (relative paths resolve against its folder)
 * access_log                  false    true, or {path, format, format_escape, buffer_entries,
 *                                      max_request_bytes}; see docs/logging.md
 * keyless                     {}       keyless key servers by name: {address: "host:port", cert, key, ca,
 *                                      server_name}; see docs/keyless.md
 * </pre>
 */
public record TurnpikeSettings(int eventLoops, String transport, int maxRequestLineBytes, int maxHeaderBytes,
                               int maxHeaders, long maxBodyBytes, long headerTimeoutMs, long keepaliveTimeoutMs,
                               long upstreamConnectTimeoutMs, long upstreamSendTimeoutMs, long upstreamReadTimeoutMs,
                               int upstreamPoolSize, long upstreamIdleTimeoutMs, int upstreamMaxRequests,
                               long drainTimeoutMs, ListenAddress statusListen, Path standaloneFile,
                               boolean accessLog, Map<String, KeyServerConfig> keyless, int maxConnectionsPerLoop,
                               int pipelineBufferBytes, AccessLogConfig accessLogConfig) {

    public TurnpikeSettings {
        keyless = keyless == null || keyless.isEmpty() ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(keyless));
        if (accessLogConfig == null) {
            accessLogConfig = AccessLogConfig.off(null);
        }
        if (accessLogConfig.enabled() != accessLog) {
            AccessLogConfig a = accessLogConfig;
            accessLogConfig = new AccessLogConfig(accessLog, a.path(), a.format(), a.jsonEscape(), a.bufferEntries(),
                    a.maxRequestBytes());
        }
    }

    /** The access log's defaults (the form before {@code access_log} took a mapping). */
    public TurnpikeSettings(int eventLoops, String transport, int maxRequestLineBytes, int maxHeaderBytes,
                            int maxHeaders, long maxBodyBytes, long headerTimeoutMs, long keepaliveTimeoutMs,
                            long upstreamConnectTimeoutMs, long upstreamSendTimeoutMs, long upstreamReadTimeoutMs,
                            int upstreamPoolSize, long upstreamIdleTimeoutMs, int upstreamMaxRequests,
                            long drainTimeoutMs, ListenAddress statusListen, Path standaloneFile, boolean accessLog,
                            Map<String, KeyServerConfig> keyless, int maxConnectionsPerLoop, int pipelineBufferBytes) {
        this(eventLoops, transport, maxRequestLineBytes, maxHeaderBytes, maxHeaders, maxBodyBytes, headerTimeoutMs,
                keepaliveTimeoutMs, upstreamConnectTimeoutMs, upstreamSendTimeoutMs, upstreamReadTimeoutMs,
                upstreamPoolSize, upstreamIdleTimeoutMs, upstreamMaxRequests, drainTimeoutMs, statusListen,
                standaloneFile, accessLog, keyless, maxConnectionsPerLoop, pipelineBufferBytes, null);
    }

    /** Default client-facing connection limits (the form before {@code max_connections_per_loop} existed). */
    public TurnpikeSettings(int eventLoops, String transport, int maxRequestLineBytes, int maxHeaderBytes,
                            int maxHeaders, long maxBodyBytes, long headerTimeoutMs, long keepaliveTimeoutMs,
                            long upstreamConnectTimeoutMs, long upstreamSendTimeoutMs, long upstreamReadTimeoutMs,
                            int upstreamPoolSize, long upstreamIdleTimeoutMs, int upstreamMaxRequests,
                            long drainTimeoutMs, ListenAddress statusListen, Path standaloneFile, boolean accessLog,
                            Map<String, KeyServerConfig> keyless) {
        this(eventLoops, transport, maxRequestLineBytes, maxHeaderBytes, maxHeaders, maxBodyBytes, headerTimeoutMs,
                keepaliveTimeoutMs, upstreamConnectTimeoutMs, upstreamSendTimeoutMs, upstreamReadTimeoutMs,
                upstreamPoolSize, upstreamIdleTimeoutMs, upstreamMaxRequests, drainTimeoutMs, statusListen,
                standaloneFile, accessLog, keyless, MAX_CONNECTIONS_PER_LOOP_DEFAULT, PIPELINE_BUFFER_BYTES_DEFAULT);
    }

    /** Without key servers (the form before {@code keyless} existed). */
    public TurnpikeSettings(int eventLoops, String transport, int maxRequestLineBytes, int maxHeaderBytes,
                            int maxHeaders, long maxBodyBytes, long headerTimeoutMs, long keepaliveTimeoutMs,
                            long upstreamConnectTimeoutMs, long upstreamSendTimeoutMs, long upstreamReadTimeoutMs,
                            int upstreamPoolSize, long upstreamIdleTimeoutMs, int upstreamMaxRequests,
                            long drainTimeoutMs, ListenAddress statusListen, Path standaloneFile, boolean accessLog) {
        this(eventLoops, transport, maxRequestLineBytes, maxHeaderBytes, maxHeaders, maxBodyBytes, headerTimeoutMs,
                keepaliveTimeoutMs, upstreamConnectTimeoutMs, upstreamSendTimeoutMs, upstreamReadTimeoutMs,
                upstreamPoolSize, upstreamIdleTimeoutMs, upstreamMaxRequests, drainTimeoutMs, statusListen,
                standaloneFile, accessLog, Map.of());
    }

    public static final int EVENT_LOOPS_DEFAULT = 0;
    public static final String TRANSPORT_DEFAULT = "auto";
    public static final int MAX_REQUEST_LINE_BYTES_DEFAULT = 8192;
    public static final int MAX_HEADER_BYTES_DEFAULT = 65536;
    public static final int MAX_HEADERS_DEFAULT = 100;
    public static final long MAX_BODY_BYTES_DEFAULT = 104_857_600L;
    public static final long HEADER_TIMEOUT_MS_DEFAULT = 10_000;
    public static final long KEEPALIVE_TIMEOUT_MS_DEFAULT = 60_000;
    public static final long UPSTREAM_CONNECT_TIMEOUT_MS_DEFAULT = 6_000;
    public static final long UPSTREAM_SEND_TIMEOUT_MS_DEFAULT = 60_000;
    public static final long UPSTREAM_READ_TIMEOUT_MS_DEFAULT = 60_000;
    public static final int UPSTREAM_POOL_SIZE_DEFAULT = 320;
    public static final long UPSTREAM_IDLE_TIMEOUT_MS_DEFAULT = 60_000;
    public static final int UPSTREAM_MAX_REQUESTS_DEFAULT = 1000;
    public static final long DRAIN_TIMEOUT_MS_DEFAULT = 30_000;
    public static final ListenAddress STATUS_LISTEN_DEFAULT = new ListenAddress("127.0.0.1", 7085);
    public static final String STANDALONE_FILE_DEFAULT = "apisix.yaml";
    public static final boolean ACCESS_LOG_DEFAULT = false;
    public static final int MAX_CONNECTIONS_PER_LOOP_DEFAULT = 10620;
    public static final int PIPELINE_BUFFER_BYTES_DEFAULT = 65536;

    /** The defaults, with the standalone file beside {@code configFile} (or in the working folder when null). */
    public static TurnpikeSettings defaults(Path configFile) {
        return new TurnpikeSettings(EVENT_LOOPS_DEFAULT, TRANSPORT_DEFAULT, MAX_REQUEST_LINE_BYTES_DEFAULT,
                MAX_HEADER_BYTES_DEFAULT, MAX_HEADERS_DEFAULT, MAX_BODY_BYTES_DEFAULT, HEADER_TIMEOUT_MS_DEFAULT,
                KEEPALIVE_TIMEOUT_MS_DEFAULT, UPSTREAM_CONNECT_TIMEOUT_MS_DEFAULT, UPSTREAM_SEND_TIMEOUT_MS_DEFAULT,
                UPSTREAM_READ_TIMEOUT_MS_DEFAULT, UPSTREAM_POOL_SIZE_DEFAULT, UPSTREAM_IDLE_TIMEOUT_MS_DEFAULT,
                UPSTREAM_MAX_REQUESTS_DEFAULT, DRAIN_TIMEOUT_MS_DEFAULT, STATUS_LISTEN_DEFAULT,
                besideConfig(configFile, STANDALONE_FILE_DEFAULT), ACCESS_LOG_DEFAULT, Map.of(),
                MAX_CONNECTIONS_PER_LOOP_DEFAULT, PIPELINE_BUFFER_BYTES_DEFAULT, AccessLogConfig.off(configFile));
    }

    /** {@code file} resolved against the folder of {@code configFile}. */
    static Path besideConfig(Path configFile, String file) {
        Path p = Path.of(file);
        if (p.isAbsolute() || configFile == null || configFile.getParent() == null) {
            return p;
        }
        return configFile.getParent().resolve(p);
    }

    /** Event loops to start: {@code eventLoops}, or the number of available cores when 0. */
    public int effectiveEventLoops() {
        return eventLoops > 0 ? eventLoops : Runtime.getRuntime().availableProcessors();
    }
}
