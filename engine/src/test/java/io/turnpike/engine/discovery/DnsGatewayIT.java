package io.turnpike.engine.discovery;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.GetLoad;
import io.turnpike.engine.testing.KillableBackend;
import io.turnpike.engine.testing.RawHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DNS discovery through a real gateway against dnsmasq on loopback: a {@code discovery_type: dns} upstream serves the
 * addresses its name has, and the seed's controller flow (the name loses an address, the gateway is asked to refresh,
 * the answer comes once every loop applied it, then the node stops) costs no request under load.
 */
class DnsGatewayIT {
    @TempDir
    Path dir;

    private static String config(int dnsPort) {
        return "  event_loops: 2\ndiscovery:\n  dns:\n    servers:\n      - \"127.0.0.1:" + dnsPort + "\"\n";
    }

    @Test
    void theRefreshFlowOfAControllerCostsNoRequest() throws Exception {
        InetAddress two = InetAddress.getByName("127.0.0.2");
        try (KillableBackend one = new KillableBackend();
             KillableBackend other = new KillableBackend(two, one.port());
             Dnsmasq dns = Dnsmasq.start(dir, 300, "127.0.0.1 svc.gw.test\n127.0.0.2 svc.gw.test\n");
             GatewayFixture gw = GatewayFixture.start(dir, "routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                     + "      service_name: \"svc.gw.test:" + one.port() + "\"\n      discovery_type: dns\n",
                     config(dns.address().getPort()))) {
            try (RawHttpClient c = gw.client()) {
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, c.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status());
                }
            }
            assertTrue(one.requests.get() > 0 && other.requests.get() > 0, "both addresses serve: "
                    + one.requests.get() + " / " + other.requests.get());
            GetLoad load;
            try (GetLoad l = new GetLoad(gw.port, 4, 5_000, 20_000)) {
                load = l;
                l.awaitOk(300, 10_000);
                dns.hosts("127.0.0.1 svc.gw.test\n");
                RefreshResult r = gw.running.watchers.dns.refresh("svc.gw.test").get(10, TimeUnit.SECONDS);
                assertTrue(r.toString().contains("127.0.0.2"), "the refresh reports the removed address: " + r);
                // Every loop applied the new set: the node can go.
                int before = other.requests.get();
                other.kill();
                long at = l.ok.get();
                l.awaitOk(at + 400, 10_000);
                assertEquals(before, other.requests.get(), "no request reached the removed node after the refresh");
            }
            assertEquals(Map.of(), GetLoad.counts(load.failures), "no failed request");
        }
    }

    @Test
    void anUpstreamOfDnsDiscoveryWithoutDiscoveryDnsIsLeftOut() throws Exception {
        try (KillableBackend one = new KillableBackend();
             GatewayFixture gw = GatewayFixture.start(dir, "routes:\n  - id: r\n    uri: /*\n    upstream:\n"
                     + "      service_name: \"svc.gw.test:" + one.port() + "\"\n      discovery_type: dns\n",
                     "  event_loops: 1\n");
             RawHttpClient c = gw.client()) {
            assertEquals(404, c.exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n").status(),
                    "the route of an upstream the process cannot resolve is left out (fail closed)");
        }
    }
}
