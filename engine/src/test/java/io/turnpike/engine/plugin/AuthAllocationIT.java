package io.turnpike.engine.plugin;

import io.netty.util.ResourceLeakDetector;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bytes allocated on the event loop per authenticated keep-alive request (ThreadMXBean, as SteadyStateAllocationIT):
 * basic-auth and jwt-auth HS256 must allocate nothing in the steady state (fails above 64 bytes/request, as the
 * gateway-wide test); jwt-auth RS256 allocates inside the JDK's RSA verification, which is reported, and bounded
 * loosely (16 KiB/request) so a regression by an order of magnitude is seen.
 */
class AuthAllocationIT {
    @TempDir
    Path dir;

    static String b64url(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void authenticatedRequestsAllocateNothingOnTheLoopExceptRsaVerification() throws Exception {
        ResourceLeakDetector.Level level = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA");
        rg.initialize(2048);
        KeyPair rsa = rg.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(rsa.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----";
        String hsInput = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64url("{\"key\":\"one-key\"}");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("one-secret".getBytes(), "HmacSHA256"));
        String hs = hsInput + "." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString(mac.doFinal(hsInput.getBytes(StandardCharsets.US_ASCII)));
        String rsInput = b64url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + b64url("{\"key\":\"rsa-key\"}");
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(rsa.getPrivate());
        s.update(rsInput.getBytes(StandardCharsets.US_ASCII));
        String rs = rsInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(s.sign());
        String basic = Base64.getEncoder().encodeToString("one:one-pass".getBytes());
        try (TestBackend backend = new TestBackend()) {
            String up = "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
            String yaml = "routes:\n"
                    + "  - id: ba\n    uri: /ba\n    plugins:\n      basic-auth: {}\n"
                    + "      consumer-restriction:\n        whitelist: [one]\n" + up
                    + "  - id: jwt\n    uri: /jwt\n    plugins:\n      jwt-auth: {}\n" + up
                    + "consumers:\n  - username: one\n    plugins:\n"
                    + "      basic-auth:\n        username: one\n        password: one-pass\n"
                    + "      jwt-auth:\n        key: one-key\n        secret: one-secret\n"
                    + "  - username: rsauser\n    plugins:\n      jwt-auth:\n        key: rsa-key\n"
                    + "        algorithm: RS256\n        public_key: |\n          " + pem.replace("\n", "\n          ")
                    + "\n";
            try (GatewayFixture gw = GatewayFixture.start(dir, yaml,
                    "  event_loops: 1\n  upstream_max_requests: 1000000\n")) {
                measure(gw, "basic-auth + consumer-restriction", "GET /ba HTTP/1.1\r\nHost: h\r\nAuthorization: Basic "
                        + basic + "\r\n\r\n", 20_000, 50_000, 64);
                measure(gw, "jwt-auth HS256", "GET /jwt HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + hs
                        + "\r\n\r\n", 20_000, 50_000, 64);
                measure(gw, "jwt-auth RS256", "GET /jwt HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + rs
                        + "\r\n\r\n", 3_000, 10_000, 16 * 1024);
            }
        } finally {
            ResourceLeakDetector.setLevel(level);
        }
    }

    private static void measure(GatewayFixture gw, String name, String requestText, int warmup, int measured,
                                double limit) throws Exception {
        LoopContext loop = gw.running.server.loops().get(0);
        long loopThreadId = loop.eventLoop.submit(() -> Thread.currentThread().getId()).get(5, TimeUnit.SECONDS);
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        byte[] request = requestText.getBytes(StandardCharsets.US_ASCII);
        int responseLength;
        try (RawHttpClient probe = gw.client()) {
            RawHttpClient.Response r = probe.exchange(requestText);
            assertEquals(200, r.status(), name + ": " + r.bodyText());
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
            run(in, out, request, response, warmup);
            long before = threads.getThreadAllocatedBytes(loopThreadId);
            long cpuBefore = threads.getThreadCpuTime(loopThreadId);
            run(in, out, request, response, measured);
            long cpuAfter = threads.getThreadCpuTime(loopThreadId);
            long after = threads.getThreadAllocatedBytes(loopThreadId);
            double perRequest = (after - before) / (double) measured;
            System.out.printf("%s: event-loop allocation %.3f bytes/request, loop CPU %.1f us/request "
                            + "(%d requests)%n", name, perRequest, (cpuAfter - cpuBefore) / 1000.0 / measured,
                    measured);
            assertTrue(new String(response, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200 OK"), name);
            assertTrue(perRequest <= limit, name + ": the event loop allocated " + perRequest + " bytes per request");
        }
    }

    private static void run(InputStream in, OutputStream out, byte[] request, byte[] response, int count)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
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
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("too slow: " + i + " requests in 120 s");
            }
        }
    }
}
