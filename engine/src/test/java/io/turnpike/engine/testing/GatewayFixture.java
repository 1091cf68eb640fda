package io.turnpike.engine.testing;

import io.turnpike.config.process.AdminConfig;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.SslConfig;
import io.turnpike.config.process.SslListen;
import io.turnpike.config.process.TurnpikeSettings;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import io.turnpike.engine.TurnpikeMain;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Starts a real gateway in this JVM from real config files written to a temp folder: config.yaml (ports 0, so
 * parallel forks never collide) and apisix.yaml.
 */
public final class GatewayFixture implements AutoCloseable {
    public final TurnpikeMain.Running running;
    public final int port;
    public final int statusPort;

    private GatewayFixture(TurnpikeMain.Running running) {
        this.running = running;
        this.port = running.server.boundAddresses().get(0).getPort();
        this.statusPort = running.statusAddress.getPort();
    }

    /** {@code turnpikeYaml} is extra YAML under the {@code turnpike:} key, indented by 2 spaces (may be empty). */
    public static GatewayFixture start(Path dir, String routesYaml, String turnpikeYaml) throws Exception {
        return start(dir, routesYaml, "", turnpikeYaml);
    }

    /**
     * With extra YAML under the {@code apisix:} key, indented by 2 spaces, e.g. an {@code ssl:} section; HTTPS listen
     * ports other than 0 are replaced by ephemeral ones (in order: see {@link #httpsPorts()}).
     */
    public static GatewayFixture start(Path dir, String routesYaml, String apisixYaml, String turnpikeYaml)
            throws Exception {
        return start(dir, routesYaml, apisixYaml, turnpikeYaml, new PrintStream(new ByteArrayOutputStream()));
    }

    /** As above, with the gateway's output (startup line, config warnings) written to {@code log}. */
    public static GatewayFixture start(Path dir, String routesYaml, String apisixYaml, String turnpikeYaml,
                                       PrintStream log) throws Exception {
        return start(dir, routesYaml, apisixYaml, turnpikeYaml, log, false);
    }

    /** {@code h2c}: the HTTP port also takes HTTP/2 with prior knowledge ({@code enable_http2: true}). */
    public static GatewayFixture start(Path dir, String routesYaml, String apisixYaml, String turnpikeYaml,
                                       PrintStream log, boolean h2c) throws Exception {
        Path config = dir.resolve("config.yaml");
        Files.writeString(config, ""
                + "apisix:\n"
                + "  node_listen:\n"
                + "    - ip: 127.0.0.1\n"
                + "      port: 1\n"
                + (h2c ? "      enable_http2: true\n" : "")
                + apisixYaml
                + "deployment:\n"
                + "  role: data_plane\n"
                + "  role_data_plane:\n"
                + "    config_provider: yaml\n"
                + "turnpike:\n"
                + "  status_listen:\n"
                + "    ip: 127.0.0.1\n"
                + "    port: 1\n"
                + turnpikeYaml);
        Files.writeString(dir.resolve("apisix.yaml"), routesYaml + "\n#END\n");
        ProcessConfigResult pr = ProcessConfigLoader.loadExplicit(config);
        if (!pr.ok()) {
            throw new IllegalStateException("config.yaml: " + pr.errors());
        }
        // Port 1 in the file is replaced with 0 (ephemeral) here, so parallel test forks never collide.
        ProcessConfig pc = withEphemeralPorts(pr.config());
        LoadResult lr = StandaloneFileLoader.load(pc.turnpike().standaloneFile());
        if (!lr.ok()) {
            throw new IllegalStateException("apisix.yaml: " + lr.render());
        }
        return new GatewayFixture(TurnpikeMain.Running.start(pc, lr, log, log));
    }

    static ProcessConfig withEphemeralPorts(ProcessConfig c) {
        TurnpikeSettings t = c.turnpike();
        TurnpikeSettings t0 = new TurnpikeSettings(t.eventLoops(), t.transport(), t.maxRequestLineBytes(),
                t.maxHeaderBytes(), t.maxHeaders(), t.maxBodyBytes(), t.headerTimeoutMs(), t.keepaliveTimeoutMs(),
                t.upstreamConnectTimeoutMs(), t.upstreamSendTimeoutMs(), t.upstreamReadTimeoutMs(),
                t.upstreamPoolSize(), t.upstreamIdleTimeoutMs(), t.upstreamMaxRequests(), t.drainTimeoutMs(),
                new ListenAddress(t.statusListen().ip(), 0), t.standaloneFile(), t.accessLog(), t.keyless(),
                t.maxConnectionsPerLoop(), t.pipelineBufferBytes(), t.accessLogConfig());
        // The Admin API is off unless a test turns it on (it needs a key, and a fixed port would collide).
        AdminConfig a = c.admin();
        AdminConfig admin = new AdminConfig(false, a.adminKeys(), a.adminKeyRequired(),
                new ListenAddress("127.0.0.1", 0), a.allowAdmin());
        // HTTPS listeners (apisix.ssl, on by default as in APISIX) on ephemeral loopback ports as well.
        List<SslListen> sslListen = new java.util.ArrayList<>();
        for (SslListen l : c.ssl().listen()) {
            sslListen.add(new SslListen("127.0.0.1", 0, l.fallbackSni(), l.http2()));
        }
        SslConfig ssl = new SslConfig(c.ssl().enable(), sslListen, c.ssl().fallbackSni());
        return new ProcessConfig(c.configFile(), List.of(new ListenAddress("127.0.0.1", 0, c.nodeListen().get(0).http2())),
                ssl, c.role(),
                c.configProvider(), c.etcd(), admin, c.prometheus().withExportAddr(new ListenAddress("127.0.0.1", 0)), t0,
                c.opentelemetry(), c.operations(), c.discovery());
    }

    /** One route per backend path prefix "/*" to the given backend port. */
    public static String catchAllRoute(int backendPort) {
        return ""
                + "routes:\n"
                + "  - id: \"all\"\n"
                + "    uri: /*\n"
                + "    upstream:\n"
                + "      type: roundrobin\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + backendPort + "\": 1\n";
    }

    /** The bound HTTPS ports, in the order of {@code apisix.ssl.listen}. */
    public List<Integer> httpsPorts() {
        return running.server.httpsBoundAddresses().stream().map(java.net.InetSocketAddress::getPort).toList();
    }

    public RawHttpClient client() throws IOException {
        return new RawHttpClient(port);
    }

    @Override
    public void close() {
        running.close();
    }
}
