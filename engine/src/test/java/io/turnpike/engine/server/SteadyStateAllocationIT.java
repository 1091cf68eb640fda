package io.turnpike.engine.server;

import io.netty.util.ResourceLeakDetector;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes allocated on the event-loop thread per proxied keep-alive request, read from
 * {@code ThreadMXBean#getThreadAllocatedBytes} across 100,000 requests after a warm-up. Allocation is deterministic,
 * so unlike speed this is a fair test: the target is 0 in the steady state and the test fails above 64 bytes/request.
 */
class SteadyStateAllocationIT {
    static final int WARMUP = 30_000;
    static final int MEASURED = 100_000;

    @TempDir
    Path dir;

    @Test
    void proxiedKeepAliveRequestsAllocateNothingOnTheLoop() throws Exception {
        // Paranoid leak detection (on for every other test) records a stack trace per buffer: that is the detector's
        // allocation, not the proxy's. Measure the proxy as it runs in production.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            measure(null, "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n",
                    "ok:/steady");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * The issue's plugin chain: key-auth (consumer lookup by key bytes), proxy-rewrite headers, response-rewrite
     * headers and cors with an echoed origin; every request authenticates and is edited both ways.
     */
    @Test
    void requestsThroughAPluginChainAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            String plugins = ""
                    + "    plugins:\n"
                    + "      key-auth: {}\n"
                    + "      proxy-rewrite:\n        headers:\n          set:\n            X-Api-Version: v2\n"
                    + "          add:\n            X-Via: turnpike\n          remove:\n            - User-Agent\n"
                    + "      response-rewrite:\n        headers:\n          set:\n            X-Served-By: turnpike\n"
                    + "          remove:\n            - X-Powered-By\n"
                    + "      cors:\n        allow_origins: \"http://app.example,http://other.example\"\n";
            measure(plugins, "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n"
                    + "apikey: key-of-consumer-one\r\nOrigin: http://app.example\r\n\r\n", "ok:/steady");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * The access log on, JSON to a file: the loop copies the request head and the record's fixed fields into its log
     * ring; formatting and the file write happen on the log writer thread.
     */
    @Test
    void requestsWithTheAccessLogOnAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            measure(null, "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n",
                    "ok:/steady", "  access_log:\n    path: access.log\n    format: json\n");
            long lines = java.nio.file.Files.lines(dir.resolve("access.log")).count();
            assertTrue(lines > 0, "the access log was written");
            System.out.println("access log lines: " + lines + " (drops: "
                    + io.turnpike.engine.logs.LogWriter.get().drops() + ")");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /** file-logger and http-logger (to a real receiver) on the route: the log phase copies into the loop's ring. */
    @Test
    void requestsThroughTheLoggerPluginsAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        com.sun.net.httpserver.HttpServer receiver = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 16);
        receiver.createContext("/", x -> {
            received.addAndGet(x.getRequestBody().readAllBytes().length);
            x.sendResponseHeaders(200, -1);
            x.close();
        });
        receiver.start();
        try {
            measure("    plugins:\n      file-logger:\n        path: " + dir.resolve("file-logger.log") + "\n"
                            + "      http-logger:\n        uri: http://127.0.0.1:" + receiver.getAddress().getPort()
                            + "/\n",
                    "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n",
                    "ok:/steady", "");
            assertTrue(java.nio.file.Files.size(dir.resolve("file-logger.log")) > 0, "file-logger wrote");
            assertTrue(received.get() > 0, "http-logger delivered");
        } finally {
            receiver.stop(0);
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * The limit plugins, policy local, shared by both loops' view of one process: limit-count (key remote_addr, quota
     * headers on), limit-req (nodelay) and limit-conn (slot taken and given back by the exchange's end hook), on top
     * of key-auth. The limits are far above what the run sends, so every response is the same 200.
     */
    @Test
    void requestsThroughTheLimitPluginsAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            String plugins = ""
                    + "    plugins:\n"
                    + "      key-auth: {}\n"
                    + "      limit-count:\n        count: 1000000000\n        time_window: 3600\n"
                    + "      limit-req:\n        rate: 1000000\n        burst: 1000\n        nodelay: true\n"
                    + "        key: consumer_name\n"
                    + "      limit-conn:\n        conn: 100000\n        burst: 0\n        default_conn_delay: 0.1\n"
                    + "        key_type: var_combination\n        key: \"$remote_addr:$http_user_agent\"\n"
                    + "      response-rewrite:\n        headers:\n          set:\n            X-Served-By: turnpike\n"
                    + "      cors:\n        allow_origins: \"http://app.example\"\n";
            measure(plugins, "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n"
                    + "apikey: key-of-consumer-one\r\nOrigin: http://app.example\r\n\r\n", "ok:/steady");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * The opentelemetry plugin, not sampling (always_off): the client's traceparent parsed, a span id drawn, the
     * traceparent header sent upstream, the record's trace id set; with response-rewrite and cors so the chain's
     * checks below hold.
     */
    @Test
    void tracingWithoutSamplingAllocatesNothingOnTheLoop() throws Exception {
        tracing("always_off");
    }

    /**
     * The same, sampled (always_on): each request's span is also copied into the loop's ring in the log phase and
     * exported by the exporter thread (whose allocation is not the loop's).
     */
    @Test
    void sampledTracingAllocatesNothingOnTheLoop() throws Exception {
        tracing("always_on");
    }

    private void tracing(String sampler) throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            String plugins = ""
                    + "    plugins:\n"
                    + "      opentelemetry:\n        sampler:\n          name: " + sampler + "\n"
                    + "      response-rewrite:\n        headers:\n          set:\n            X-Served-By: turnpike\n"
                    + "      cors:\n        allow_origins: \"http://app.example,http://other.example\"\n";
            measure(plugins, "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n"
                    + "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
                    + "Origin: http://app.example\r\n\r\n", "ok:/steady");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * The prometheus plugin as APISIX users enable it, in a global rule, over a key-auth route: every request is
     * counted in the status, latency and bandwidth series of (route, node, consumer).
     */
    @Test
    void requestsCountedByPrometheusAllocateNothingOnTheLoop() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            measureWith("    plugins:\n      key-auth: {}\n",
                    "global_rules:\n  - id: metrics\n    plugins:\n      prometheus: {}\n",
                    "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n"
                    + "apikey: key-of-consumer-one\r\n\r\n", "ok:/steady", "");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * traffic-split: a match rule on a header (the router's compiled vars) that passes, splitting 1:1 between an
     * upstream referenced by id and the route's own (smooth weighted round-robin per loop), so every other request
     * goes through a plugin-chosen target with its own balancer (both upstreams reach the same backend, so the
     * responses are the same bytes); with api-breaker counting healthy statuses in the log phase.
     */
    @Test
    void requestsThroughTrafficSplitAllocateNothingOnTheLoop() throws Exception {
        String plugins = ""
                + "    plugins:\n"
                + "      traffic-split:\n        rules:\n"
                + "          - match:\n              - vars: [[\"http_x_release\", \"==\", \"nope\"]]\n"
                + "              - vars: [[\"http_user_agent\", \"==\", \"alloc-test\"], [\"arg_x\", \"!\", \"==\", \"1\"]]\n"
                + "            weighted_upstreams:\n              - upstream_id: split\n              - weight: 1\n"
                + "      api-breaker:\n        break_response_code: 502\n";
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            measureWith(plugins, "upstreams:\n  - id: split\n    pass_host: node\n    nodes:\n"
                            + "      \"127.0.0.1:@BACKEND_PORT@\": 1\n",
                    "GET /steady HTTP/1.1\r\nHost: bench.local\r\nUser-Agent: alloc-test\r\nAccept: */*\r\n\r\n",
                    "ok:/steady", "");
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    /**
     * An upstream with {@code retries} and health checks (active tcp, passive): every GET is resendable (the exchange
     * keeps the request head and gives the channel a retained duplicate: recycled), every response head is reported
     * to the node's passive reporter, and the balancer is read through the endpoint slot.
     */
    @Test
    void requestsWithRetriesAndPassiveHealthChecksAllocateNothingOnTheLoop() throws Exception {
        // Paranoid leak detection records a stack trace for every derived buffer (the retained duplicate): that is the
        // detector's cost, not the gateway's; measured without it, as the traffic-split case.
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        try {
            retriesAndPassiveHealth();
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private void retriesAndPassiveHealth() throws Exception {
        measureWith(null, "", "GET /steady HTTP/1.1\r\nHost: bench.local\r\nAccept: */*\r\n\r\n", "ok:/steady", "",
                "routes:\n  - id: \"all\"\n    uri: /*\n    upstream:\n      retries: 1\n      nodes:\n"
                        + "        \"127.0.0.1:@BACKEND_PORT@\": 1\n"
                        + "      checks:\n        active:\n          type: tcp\n"
                        + "          healthy: {interval: 1, successes: 1}\n"
                        + "          unhealthy: {interval: 1, tcp_failures: 2}\n"
                        + "        passive:\n          unhealthy: {http_statuses: [500], http_failures: 3}\n");
    }

    private void measure(String plugins, String requestText, String expectedBody) throws Exception {
        measure(plugins, requestText, expectedBody, "");
    }

    private void measure(String plugins, String requestText, String expectedBody, String turnpikeYaml)
            throws Exception {
        measureWith(plugins, "", requestText, expectedBody, turnpikeYaml);
    }

    /** {@code extraYaml}: more of the standalone file after the consumers (global rules). */
    private void measureWith(String plugins, String extraYaml, String requestText, String expectedBody,
                             String turnpikeYaml) throws Exception {
        measureWith(plugins, extraYaml, requestText, expectedBody, turnpikeYaml, null);
    }

    /** {@code routesYaml}: when not null, the whole standalone file ({@code @BACKEND_PORT@} replaced). */
    private void measureWith(String plugins, String extraYaml, String requestText, String expectedBody,
                             String turnpikeYaml, String routesYaml) throws Exception {
        try (TestBackend backend = new TestBackend();
             GatewayFixture gw = GatewayFixture.start(dir, routesYaml != null
                             ? routesYaml.replace("@BACKEND_PORT@", String.valueOf(backend.port()))
                             : plugins == null ? GatewayFixture.catchAllRoute(backend.port())
                             : "routes:\n  - id: \"all\"\n    uri: /*\n"
                             + plugins.replace("@BACKEND_PORT@", String.valueOf(backend.port()))
                             + "    upstream:\n      type: roundrobin\n      nodes:\n        \"127.0.0.1:" + backend.port()
                             + "\": 1\n"
                             + "consumers:\n  - username: one\n    plugins:\n      key-auth:\n        key: key-of-consumer-one\n"
                             + "  - username: two\n    plugins:\n      key-auth:\n        key: key-of-consumer-two\n"
                             + extraYaml.replace("@BACKEND_PORT@", String.valueOf(backend.port())),
                     // Upstream connections are recycled every upstream_max_requests (APISIX default 1000); a
                     // reconnect costs a few KB of channel objects, ~5 B/request amortised. Measure the request
                     // path itself: one upstream connection for the whole run.
                     "  event_loops: 1\n  upstream_max_requests: 1000000\n" + turnpikeYaml)) {
            LoopContext loop = gw.running.server.loops().get(0);
            long loopThreadId = loop.eventLoop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
            com.sun.management.ThreadMXBean threads =
                    (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

            byte[] request = requestText.getBytes(StandardCharsets.US_ASCII);
            int responseLength;
            try (RawHttpClient probe = gw.client()) {
                RawHttpClient.Response r = probe.exchange(new String(request, StandardCharsets.US_ASCII));
                assertEquals(200, r.status());
                assertEquals(expectedBody, r.bodyText());
                if (plugins != null && plugins.contains("response-rewrite")) {
                    assertEquals("turnpike", r.header("x-served-by"), "the chain ran: " + r.headers());
                    assertEquals("http://app.example", r.header("access-control-allow-origin"));
                }
                responseLength = r.statusLine().length() + 2 + 2 + r.body().length;
                for (var e : r.headers().entrySet()) {
                    for (String v : e.getValue()) {
                        responseLength += e.getKey().length() + 2 + v.length() + 2;
                    }
                }
            }
            try (RawHttpClient c = gw.client()) {
                InputStream in = c.socket().getInputStream();
                OutputStream out = c.socket().getOutputStream();
                byte[] response = new byte[responseLength];
                run(in, out, request, response, WARMUP);
                long before = threads.getThreadAllocatedBytes(loopThreadId);
                long t0 = System.nanoTime();
                run(in, out, request, response, MEASURED);
                long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
                long after = threads.getThreadAllocatedBytes(loopThreadId);
                double perRequest = (after - before) / (double) MEASURED;
                System.out.printf("event-loop allocation: %.3f bytes/request over %d requests (%d bytes total, %d ms)%n",
                        perRequest, MEASURED, after - before, elapsedMs);
                assertTrue(new String(response, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK"));
                assertTrue(perRequest <= 64.0, "event loop allocated " + perRequest + " bytes per request");
                if (extraYaml.contains("prometheus")) {
                    java.net.http.HttpResponse<String> m = java.net.http.HttpClient.newHttpClient().send(
                            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                                    + gw.running.prometheusAddress.getPort() + "/apisix/prometheus/metrics")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                    String counted = "apisix_http_status{code=\"200\",route=\"all\",matched_uri=\"/*\",matched_host=\"\","
                            + "service=\"\",consumer=\"one\",node=\"127.0.0.1\"} " + (WARMUP + MEASURED + 1) + "\n";
                    assertTrue(m.body().contains(counted), "every request counted: " + counted + " in\n" + m.body());
                }
            }
            assertTrue(io.turnpike.engine.logs.LogWriter.flushIfStarted(10_000));
        }
    }

    /** Sends one request at a time on one keep-alive connection and reads exactly one response back. */
    private static void run(InputStream in, OutputStream out, byte[] request, byte[] response, int count)
            throws Exception {
        for (int i = 0; i < count; i++) {
            out.write(request);
            out.flush();
            int read = 0;
            while (read < response.length) {
                int n = in.read(response, read, response.length - read);
                if (n < 0) {
                    throw new IllegalStateException("connection closed after " + i + " requests");
                }
                read += n;
            }
        }
    }
}
