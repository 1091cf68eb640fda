package io.turnpike.engine.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.GrpcTestClient;
import io.turnpike.engine.testing.GrpcTestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real gRPC client and server (grpc-java) through the gateway: the client speaks h2c to Turnpike's listener, the
 * route's upstream is {@code scheme: grpc}. Unary, server-, client- and bidirectional streaming, a status relayed in
 * trailers, deadlines (the client's grpc-timeout) and cancellation reaching the server, a gateway error as a gRPC
 * status, and an HTTP/1.1 client refused.
 */
class GrpcGatewayIT {
    @TempDir
    static Path dir;
    static GrpcTestServer server;
    /** The same service over TLS (a self-signed certificate), behind a {@code scheme: grpcs} upstream. */
    static GrpcTestServer tlsServer;
    static GatewayFixture gw;
    static GrpcTestClient client;

    @BeforeAll
    static void start() throws Exception {
        server = GrpcTestServer.start();
        Path[] certKey = GrpcTestServer.selfSignedCert(dir);
        tlsServer = GrpcTestServer.start(new GrpcTestServer.Options().tls(certKey[0], certKey[1]));
        String routes = ""
                + "routes:\n"
                + "  - id: grpc\n"
                + "    uri: /turnpike.test.Test/*\n"
                + "    upstream:\n"
                + "      scheme: grpc\n"
                + "      type: roundrobin\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + server.port() + "\": 1\n"
                + "  - id: tls\n"
                + "    uri: /tls.Test/*\n"
                + "    plugins:\n"
                + "      proxy-rewrite:\n"
                + "        regex_uri: [\"^/tls.Test/(.*)\", \"/turnpike.test.Test/$1\"]\n"
                + "    upstream:\n"
                + "      scheme: grpcs\n"
                + "      type: roundrobin\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:" + tlsServer.port() + "\": 1\n"
                + "  - id: dead\n"
                + "    uri: /dead.Service/*\n"
                + "    upstream:\n"
                + "      scheme: grpc\n"
                + "      type: roundrobin\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:1\": 1\n";
        gw = GatewayFixture.start(dir, routes, "  ssl:\n    enable: false\n", "",
                new PrintStream(new ByteArrayOutputStream()), true);
        client = GrpcTestClient.plaintext("127.0.0.1", gw.port);
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        if (gw != null) {
            gw.close();
        }
        if (server != null) {
            server.close();
        }
        if (tlsServer != null) {
            tlsServer.close();
        }
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void unary() {
        assertArrayEquals(b("hello"), client.unary(GrpcTestServer.ECHO, b("hello")));
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        assertArrayEquals(big, client.unary(GrpcTestServer.ECHO, big));
    }

    @Test
    void grpcsUpstreamOverTlsWithAlpnH2() {
        io.grpc.MethodDescriptor<byte[], byte[]> echo = GrpcTestServer.ECHO.toBuilder()
                .setFullMethodName("tls.Test/Echo").build();
        io.grpc.MethodDescriptor<byte[], byte[]> stream = GrpcTestServer.STREAM.toBuilder()
                .setFullMethodName("tls.Test/Stream").build();
        int before = tlsServer.connectionsAccepted();
        assertArrayEquals(b("over tls"), client.unary(echo, b("over tls")));
        assertEquals(50, client.serverStream(stream, b("50:1000")).size());
        assertTrue(tlsServer.connectionsAccepted() > before, "the TLS server served it");
    }

    @Test
    void serverStreaming() {
        List<byte[]> got = client.serverStream(GrpcTestServer.STREAM, b("200:5000"));
        assertEquals(200, got.size());
        for (int k = 0; k < got.size(); k++) {
            assertEquals(5000, got.get(k).length);
            assertEquals((byte) (k + 7), got.get(k)[7]);
        }
    }

    @Test
    void clientStreaming() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<String> answer = new AtomicReference<>();
        StreamObserver<byte[]> req = client.stream(GrpcTestServer.COUNT, observer(done, answer, null));
        for (int i = 0; i < 100; i++) {
            req.onNext(new byte[1000]);
        }
        req.onCompleted();
        assertTrue(done.await(20, TimeUnit.SECONDS));
        assertEquals("100:100000", answer.get());
    }

    @Test
    void bidirectional() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        List<String> echoed = java.util.Collections.synchronizedList(new ArrayList<>());
        StreamObserver<byte[]> req = client.stream(GrpcTestServer.BIDI, observer(done, null, echoed));
        for (int i = 0; i < 50; i++) {
            req.onNext(b("m" + i));
        }
        req.onCompleted();
        assertTrue(done.await(20, TimeUnit.SECONDS));
        assertEquals(50, echoed.size());
        assertEquals("m0", echoed.get(0));
        assertEquals("m49", echoed.get(49));
    }

    @Test
    void statusAndMessageRelayedInTrailers() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.unary(GrpcTestServer.FAIL, b("7:not for you")));
        assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        assertEquals("not for you", e.getStatus().getDescription());
    }

    @Test
    void deadlineEndsTheCallAndCancelsItUpstream() throws Exception {
        int cancelledBefore = server.callsCancelled();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> client.unary(GrpcTestServer.SLOW, b("3000"), 300));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.callsCancelled() == cancelledBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(server.callsCancelled() > cancelledBefore, "the server saw the call cancelled");
    }

    @Test
    void clientCancellationReachesTheServer() throws Exception {
        int cancelledBefore = server.callsCancelled();
        io.grpc.ClientCall<byte[], byte[]> call = client.channel.newCall(GrpcTestServer.SLOW, io.grpc.CallOptions.DEFAULT);
        CountDownLatch closed = new CountDownLatch(1);
        call.start(new io.grpc.ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, io.grpc.Metadata trailers) {
                closed.countDown();
            }
        }, new io.grpc.Metadata());
        call.sendMessage(b("5000"));
        call.halfClose();
        call.request(1);
        Thread.sleep(300);
        call.cancel("changed my mind", null);
        assertTrue(closed.await(5, TimeUnit.SECONDS));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.callsCancelled() == cancelledBefore && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(server.callsCancelled() > cancelledBefore, "the server saw the call cancelled");
    }

    @Test
    void unreachableUpstreamIsUnavailable() {
        io.grpc.MethodDescriptor<byte[], byte[]> dead = GrpcTestServer.ECHO.toBuilder()
                .setFullMethodName("dead.Service/Echo").build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> client.unary(dead, b("x")));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("upstream connect failed"), e.getStatus().toString());
    }

    @Test
    void manyCallsShareOneUpstreamConnection() {
        int before = server.connectionsAccepted();
        for (int i = 0; i < 200; i++) {
            assertArrayEquals(b("n" + i), client.unary(GrpcTestServer.ECHO, b("n" + i)));
        }
        assertTrue(server.connectionsAccepted() - before <= 2, "calls multiplexed: "
                + (server.connectionsAccepted() - before) + " new upstream connections");
    }

    @Test
    void http11ClientIsRefused() throws Exception {
        Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                "http://127.0.0.1:" + gw.port + "/turnpike.test.Test/Echo").start();
        String code = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals("426", code);
    }

    private static StreamObserver<byte[]> observer(CountDownLatch done, AtomicReference<String> last,
                                                   List<String> all) {
        return new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
                String s = new String(value, StandardCharsets.US_ASCII);
                if (last != null) {
                    last.set(s);
                }
                if (all != null) {
                    all.add(s);
                }
            }

            @Override
            public void onError(Throwable t) {
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        };
    }
}
