package io.turnpike.engine.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.process.DiscoveryConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link DnsDiscovery} against a real DNS server (dnsmasq) on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DnsDiscoveryIT {

    @TempDir
    Path dir;

    private Dnsmasq dnsmasq;
    private DnsDiscovery dns;
    private DnsRelay relay;
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();

    /** Records every call; answers with {@link #answer}'s future. */
    static final class Recorder implements DnsListener {
        final LinkedBlockingQueue<List<ResolvedNode>> calls = new LinkedBlockingQueue<>();
        volatile Supplier<CompletableFuture<?>> answer = () -> CompletableFuture.completedFuture(null);

        @Override
        public CompletableFuture<?> onNodes(String name, List<ResolvedNode> nodes) {
            calls.add(nodes);
            return answer.get();
        }

        List<ResolvedNode> next() throws InterruptedException {
            List<ResolvedNode> n = calls.poll(10, TimeUnit.SECONDS);
            assertNotNull(n, "no node set within 10 s");
            return n;
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (dns != null) {
            dns.close();
        }
        if (relay != null) {
            relay.close();
        }
        if (dnsmasq != null) {
            dnsmasq.close();
        }
    }

    private DnsDiscovery discovery(InetSocketAddress server, long minTtlMs, long maxTtlMs) {
        DiscoveryConfig.Dns conf = DiscoveryConfig.Dns.servers(List.of(server)).withTuning(minTtlMs, maxTtlMs, 300,
                500);
        dns = new DnsDiscovery(conf, new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        return dns;
    }

    private String log() {
        return logBytes.toString(StandardCharsets.UTF_8);
    }

    private static List<String> keys(List<ResolvedNode> nodes) {
        return nodes.stream().map(n -> n.key() + " w" + n.weight() + " p" + n.priority()).toList();
    }

    @Test
    void aAndAaaaRecordsThenTtlReResolutionPicksUpAChange() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 1, """
                127.0.0.11 web.test
                127.0.0.12 web.test
                ::1 v6.test
                127.0.0.21 both.test
                ::21 both.test
                """);
        discovery(dnsmasq.address(), 1000, 60_000);
        Recorder web = new Recorder();
        Recorder v6 = new Recorder();
        Recorder both = new Recorder();
        dns.watch("u1", "web.test", 8080, 5, 0, web);
        dns.watch("u2", "v6.test", 9000, 1, 0, v6);
        dns.watch("u3", "both.test", 80, 1, 0, both);
        assertEquals(List.of("127.0.0.11:8080 w5 p0", "127.0.0.12:8080 w5 p0"), keys(web.next()));
        assertEquals(List.of("[0:0:0:0:0:0:0:1]:9000 w1 p0"), keys(v6.next()));
        // A before AAAA (APISIX's order): a name with both gives its IPv4 addresses
        assertEquals(List.of("127.0.0.21:80 w1 p0"), keys(both.next()));
        assertEquals("web.test", dns.current("web.test").get(0).host());
        Recorder literal = new Recorder();
        dns.watch("u4", "127.0.0.5", 81, 1, 0, literal); // an address: no query
        assertEquals(List.of("127.0.0.5:81 w1 p0"), keys(literal.next()));

        // the TTL (1 s) runs out: the new answer comes without being asked for
        dnsmasq.hosts("127.0.0.12 web.test\n127.0.0.13 web.test\n::1 v6.test\n127.0.0.21 both.test\n::21 both.test\n");
        assertEquals(List.of("127.0.0.12:8080 w5 p0", "127.0.0.13:8080 w5 p0"), keys(web.next()));
        assertEquals(keys(dns.current("WEB.test.")), List.of("127.0.0.12:8080 w5 p0", "127.0.0.13:8080 w5 p0"));
        // unchanged names are re-resolved without calling their listeners
        Thread.sleep(1500);
        assertTrue(v6.calls.isEmpty(), "v6.test did not change");
        assertTrue(both.calls.isEmpty(), "both.test did not change");
        assertTrue(literal.calls.isEmpty());
        ObjectNode status = dns.status();
        assertTrue(status.get("resolutions").asLong() >= 6, status.toString());
        assertEquals(0, status.get("failures").asLong(), status.toString());
        JsonNode first = status.get("names").get(0);
        assertEquals("web.test", first.get("name").asText());
        assertEquals("A", first.get("type").asText());
        assertEquals(1, first.get("ttl").asLong());
        assertTrue(first.get("next_refresh_in_ms").asLong() <= 1000, first.toString());
    }

    @Test
    void refreshAnswersWithTheChangeAfterTheListenersApplied() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n127.0.0.12 web.test\n127.0.0.31 other.test\n");
        discovery(dnsmasq.address(), 600_000, 600_000); // no TTL re-resolution during the test
        Recorder web = new Recorder();
        Recorder other = new Recorder();
        dns.watch("u1", "web.test", 80, 1, 0, web);
        dns.watch("u2", "other.test", 80, 1, 0, other);
        web.next();
        other.next();

        RefreshResult none = dns.refresh(null).get(10, TimeUnit.SECONDS);
        assertEquals(List.of(), none.changed());
        assertEquals(List.of(), none.errors());

        dnsmasq.hosts("127.0.0.12 web.test\n127.0.0.13 web.test\n127.0.0.31 other.test\n");
        CompletableFuture<Void> applied = new CompletableFuture<>();
        web.answer = () -> applied;
        CompletableFuture<RefreshResult> r = dns.refresh("web.test");
        assertEquals(List.of("127.0.0.12:80 w1 p0", "127.0.0.13:80 w1 p0"), keys(web.next()));
        Thread.sleep(300);
        assertFalse(r.isDone(), "refresh waits for the listener's future");
        applied.complete(null);
        RefreshResult result = r.get(10, TimeUnit.SECONDS);
        assertEquals(1, result.changed().size(), result.toString());
        assertEquals("web.test", result.changed().get(0).name());
        assertEquals(List.of("127.0.0.13:80 w1 p0"), keys(result.changed().get(0).added()));
        assertEquals(List.of("127.0.0.11:80 w1 p0"), keys(result.changed().get(0).removed()));
        assertEquals(List.of(), result.errors());
        assertTrue(other.calls.isEmpty());
        JsonNode json = result.toJson();
        assertEquals("127.0.0.13", json.get("changed").get(0).get("added").get(0).get("host").asText());

        ExecutionException unknown = assertThrows(ExecutionException.class,
                () -> dns.refresh("nobody.test").get(10, TimeUnit.SECONDS));
        assertInstanceOf(DnsDiscovery.UnknownNameException.class, unknown.getCause());

        // a listener that fails to apply is an error of the refresh
        dnsmasq.hosts("127.0.0.13 web.test\n127.0.0.31 other.test\n");
        web.answer = () -> CompletableFuture.failedFuture(new IllegalStateException("loop 3 gone"));
        RefreshResult failed = dns.refresh("web.test").get(10, TimeUnit.SECONDS);
        assertTrue(failed.applyFailed(), failed.toString());
        assertTrue(failed.errors().get(0).error().contains("loop 3 gone"), failed.toString());
    }

    @Test
    void srvRecordsGivePortWeightAndPriority() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 a.test\n127.0.0.12 b.test\n127.0.0.13 b.test\n",
                // name, target, port, priority, weight
                "_http._tcp.svc.test,a.test,8081,20,0",
                "_http._tcp.svc.test,b.test,8080,10,60",
                "_zero._tcp.svc.test,a.test,0,1,5");
        discovery(dnsmasq.address(), 600_000, 600_000);
        Recorder srv = new Recorder();
        dns.watch("s1", "_http._tcp.svc.test", -1, 1, 0, srv);
        // b: weight 60 shared by 2 addresses, a: weight 0 counts as 1; both scaled by lcm(1, 2) = 2;
        // priority is minus the SRV priority (lower SRV priority first), highest first
        assertEquals(List.of("127.0.0.12:8080 w60 p-10", "127.0.0.13:8080 w60 p-10", "127.0.0.11:8081 w2 p-20"),
                keys(srv.next()));
        assertEquals("b.test", dns.current("_http._tcp.svc.test").get(0).host());
        Recorder fixed = new Recorder();
        dns.watch("s2", "_http._tcp.svc.test", 9000, 1, 0, fixed); // service_name "name:port": that port
        assertEquals(List.of("127.0.0.12:9000 w60 p-10", "127.0.0.13:9000 w60 p-10", "127.0.0.11:9000 w2 p-20"),
                keys(fixed.next()));
        Recorder zero = new Recorder();
        dns.watch("s3", "_zero._tcp.svc.test", -1, 443, 1, 0, false, zero); // SRV port 0: the default port
        assertEquals(List.of("127.0.0.11:443 w5 p-1"), keys(zero.next()));
        // without an SRV record the A records answer, with the default port
        Recorder plain = new Recorder();
        dns.watch("s4", "b.test", -1, 1, 0, plain);
        assertEquals(List.of("127.0.0.12:80 w1 p0", "127.0.0.13:80 w1 p0"), keys(plain.next()));
        assertEquals("SRV", dns.status().get("names").get(0).get("type").asText());
        dns.unwatch("s1"); // current(name) follows the name's first remaining watcher
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (dns.current("_http._tcp.svc.test").get(0).address().getPort() != 9000
                && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(9000, dns.current("_http._tcp.svc.test").get(0).address().getPort());

        // a node host never asks for SRV
        Recorder host = new Recorder();
        dns.watchHost("h1", "_http._tcp.svc.test", 80, 1, 0, host);
        Thread.sleep(1000);
        assertTrue(host.calls.isEmpty());
        JsonNode names = dns.status().get("names");
        assertEquals(4, names.size(), names.toString()); // s1 and s2 share one resolution
        JsonNode hostStatus = names.get(3);
        assertEquals("node host", hostStatus.get("kind").asText());
        assertTrue(hostStatus.get("last_error").asText().startsWith("empty answer"), hostStatus.toString());
    }

    @Test
    void serverDownKeepsTheLastGoodSetAndReportsIt() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n");
        discovery(dnsmasq.address(), 600_000, 600_000);
        Recorder web = new Recorder();
        dns.watch("u1", "web.test", 80, 1, 0, web);
        List<ResolvedNode> good = web.next();
        dnsmasq.kill();
        for (int i = 0; i < 3; i++) {
            RefreshResult r = dns.refresh("web.test").get(20, TimeUnit.SECONDS);
            System.out.println("server down: " + r.toJson());
            assertEquals(List.of(), r.changed());
            assertEquals(1, r.errors().size(), r.toString());
            assertTrue(r.errors().get(0).error().contains("timeout")
                    || r.errors().get(0).error().contains("refused"), r.toString());
        }
        assertEquals(good, dns.current("web.test"));
        assertTrue(web.calls.isEmpty(), "no listener call while DNS fails");
        assertTrue(dns.failures() >= 3);
        JsonNode n = dns.status().get("names").get(0);
        assertEquals(1, n.get("nodes").size());
        assertNotNull(n.get("last_error").textValue(), n.toString());
        assertNotNull(n.get("failing_since").textValue(), n.toString());
        assertTrue(n.get("failures").asLong() >= 3, n.toString());
        // logged once for the transition, not once per attempt
        assertEquals(1, log().split("resolution failed", -1).length - 1, log());
    }

    @Test
    void garbageAnswersKeepTheLastGoodSetThenRecovery() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n127.0.0.12 web.test\n");
        relay = new DnsRelay(dnsmasq.address());
        discovery(relay.address(), 600_000, 600_000);
        Recorder web = new Recorder();
        dns.watch("u1", "web.test", 80, 1, 0, web);
        List<ResolvedNode> good = web.next();
        assertEquals(2, good.size());

        relay.mode = DnsRelay.Mode.GARBAGE;
        dnsmasq.hosts("127.0.0.13 web.test\n");
        RefreshResult bad = dns.refresh("web.test").get(20, TimeUnit.SECONDS);
        System.out.println("garbage: " + bad.toJson());
        assertEquals(List.of(), bad.changed());
        assertEquals(1, bad.errors().size(), bad.toString());
        assertTrue(relay.garbageAnswers > 0);
        assertEquals(good, dns.current("web.test"));
        assertTrue(web.calls.isEmpty());

        relay.mode = DnsRelay.Mode.FORWARD;
        RefreshResult ok = dns.refresh("web.test").get(20, TimeUnit.SECONDS);
        assertEquals(List.of(), ok.errors(), ok.toString());
        assertEquals(List.of("127.0.0.13:80 w1 p0"), keys(ok.changed().get(0).added()));
        assertEquals(List.of("127.0.0.13:80 w1 p0"), keys(web.next()));
        assertNull(dns.status().get("names").get(0).get("last_error").textValue());
        assertTrue(log().contains("resolves again"), log());
    }

    @Test
    void aRefreshDuringARunningResolutionWaitsForTheNextOne() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n");
        relay = new DnsRelay(dnsmasq.address());
        discovery(relay.address(), 600_000, 600_000);
        Recorder web = new Recorder();
        dns.watch("u1", "web.test", 80, 1, 0, web);
        web.next();
        relay.mode = DnsRelay.Mode.DROP; // the next resolution hangs until its query times out (300 ms)
        CompletableFuture<RefreshResult> first = dns.refresh("web.test");
        Thread.sleep(50);
        dnsmasq.hosts("127.0.0.12 web.test\n");
        relay.mode = DnsRelay.Mode.FORWARD;
        CompletableFuture<RefreshResult> second = dns.refresh("web.test"); // asked after the change
        RefreshResult r1 = first.get(10, TimeUnit.SECONDS);
        RefreshResult r2 = second.get(10, TimeUnit.SECONDS);
        assertEquals(1, r1.errors().size(), r1.toString()); // its query was dropped
        assertEquals(List.of(), r2.errors(), r2.toString());
        assertEquals(List.of("127.0.0.12:80 w1 p0"), keys(r2.changed().get(0).added()));

        // a figure, not an assertion: refresh round trips against dnsmasq on loopback, no change
        int n = 200;
        long[] ns = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            dns.refresh("web.test").get(10, TimeUnit.SECONDS);
            ns[i] = System.nanoTime() - t0;
        }
        java.util.Arrays.sort(ns);
        System.out.printf("refresh of one name (dnsmasq on loopback, no change): p50 %.3f ms, p99 %.3f ms over %d%n",
                ns[n / 2] / 1e6, ns[n * 99 / 100] / 1e6, n);
    }

    @Test
    void theSystemResolverReadsEtcHostsForNodeHosts() throws Exception {
        dns = new DnsDiscovery(null, new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        assertFalse(dns.discoveryConfigured());
        Recorder local = new Recorder();
        dns.watchHost("n1", "localhost", 1980, 3, 0, local);
        List<ResolvedNode> nodes = local.next();
        assertEquals(1, nodes.size(), nodes.toString());
        assertTrue(nodes.get(0).address().getAddress().isLoopbackAddress(), nodes.toString());
        assertEquals(1980, nodes.get(0).address().getPort());
        assertEquals(3, nodes.get(0).weight());
        assertEquals("hosts", dns.status().get("names").get(0).get("type").asText());
    }

    @Test
    void emptyAnswersAndNxdomainKeepTheLastGoodSet() throws Exception {
        dnsmasq = Dnsmasq.start(dir, 3600, "127.0.0.11 web.test\n");
        discovery(dnsmasq.address(), 600_000, 600_000);
        Recorder web = new Recorder();
        Recorder missing = new Recorder();
        dns.watch("u1", "web.test", 80, 1, 0, web);
        dns.watch("u2", "missing.test", 80, 1, 0, missing);
        List<ResolvedNode> good = web.next();
        dnsmasq.hosts("127.0.0.99 unrelated.test\n"); // web.test now NXDOMAIN
        RefreshResult r = dns.refresh(null).get(20, TimeUnit.SECONDS);
        System.out.println("nxdomain: " + r.toJson() + "\n" + log());
        assertEquals(List.of("missing.test", "web.test"), r.errors().stream().map(RefreshResult.NameError::name)
                .sorted().toList());
        assertTrue(r.errors().get(0).error().startsWith("empty answer"), r.toString());
        assertEquals(good, dns.current("web.test"));
        assertNull(dns.current("missing.test"));
        assertTrue(missing.calls.isEmpty());
        dns.unwatch("u1");
        dns.unwatch("u2");
        assertEquals(0, dns.status().get("names").size());
        assertNull(dns.current("web.test"));
    }
}
