package io.turnpike.config.etcd;

import static io.turnpike.config.etcd.EtcdConfigSourceIT.awaitTrue;
import static io.turnpike.config.etcd.EtcdConfigSourceIT.cfg;
import static io.turnpike.config.etcd.EtcdConfigSourceIT.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.etcd.testing.Sockets;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real 3-member etcd cluster on loopback: one TCP connection from this JVM whatever the number of endpoints, and
 * the agent surviving the loss of the member it is connected to (the leader).
 */
class EtcdClusterIT {

    private static List<EtcdServer> members;

    @BeforeAll
    static void up() {
        members = EtcdServer.cluster(3);
    }

    @AfterAll
    static void down() {
        if (members != null) {
            members.forEach(EtcdServer::close);
        }
    }

    private static Set<Integer> clientPorts() {
        Set<Integer> ports = new HashSet<>();
        members.forEach(m -> ports.add(m.clientPort()));
        return ports;
    }

    private static long putRetrying(EtcdConfigStore s, String key, String value) throws Exception {
        StoreException last = null;
        for (int i = 0; i < 100; i++) {
            try {
                return s.put(key, value.getBytes(StandardCharsets.UTF_8)).modRevision();
            } catch (StoreException e) {
                last = e; // election in progress
                Thread.sleep(100);
            }
        }
        throw last;
    }

    @Test
    void oneConnectionThenLeaderKilledAndTheAgentContinuesOnAnotherMember() throws Exception {
        awaitTrue(() -> members.stream().anyMatch(EtcdServer::isLeader), "a leader");
        EtcdServer leader = members.stream().filter(EtcdServer::isLeader).findFirst().orElseThrow();
        List<String> endpoints = new ArrayList<>();
        endpoints.add(leader.endpoint()); // pick_first connects to the first: the leader
        members.stream().filter(m -> m != leader).forEach(m -> endpoints.add(m.endpoint()));
        System.out.println("leader " + leader + ", endpoints " + endpoints);

        EtcdConfigSourceIT.Recorder rec = new EtcdConfigSourceIT.Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(endpoints, "/apisix"));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            putRetrying(store, "/apisix/routes/1", route("/one"));
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            // Admin-API-like traffic on the same client while the watch is open.
            for (int i = 0; i < 20; i++) {
                store.get("/apisix/routes/1");
                store.list("/apisix/");
            }
            long r = putRetrying(store, "/apisix/routes/2", route("/two"));
            rec.await(c -> c.version() >= r, "route 2");
            int conns = Sockets.establishedTo(clientPorts());
            System.out.println("established connections to etcd (3 endpoints listed): " + conns);
            assertEquals(1, conns, "one TCP connection to etcd from this JVM");
            printClientThreads();

            leader.kill();
            awaitTrue(() -> members.stream().filter(EtcdServer::isRunning).anyMatch(EtcdServer::isLeader),
                    "new leader");
            long r3 = putRetrying(store, "/apisix/routes/3", route("/three"));
            ConfigSet c = rec.await(x -> x.version() >= r3, "change after the leader died");
            assertEquals(List.of("1", "2", "3"), new ArrayList<>(c.routes().keySet()));
            assertEquals(2, src.appliedEvents(), "no change lost or applied twice across the switch");
            awaitTrue(src::isConnected, "connected to another member");
            int after = Sockets.establishedTo(clientPorts());
            System.out.println("after the leader was killed: " + after + " connection(s), revision "
                    + src.lastRevision());
            assertEquals(1, after);
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        } finally {
            leader.start(); // rejoins with its data dir
        }
    }

    @Test
    void roundRobinWouldOpenOneConnectionPerEndpoint() throws Exception {
        awaitTrue(() -> members.stream().allMatch(EtcdServer::isRunning), "all members up");
        int before = Sockets.establishedTo(clientPorts());
        List<String> eps = EtcdServer.endpoints(members);
        try (Client rr = EtcdConfigStore.buildClient(cfg(eps, "/apisix"), 1 << 20).loadBalancerPolicy("round_robin")
                .build()) {
            for (int i = 0; i < 30; i++) {
                rr.getKVClient().get(ByteSequence.from("/x", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            }
            int n = Sockets.establishedTo(clientPorts()) - before;
            System.out.println("round_robin over 3 endpoints: " + n + " connections (pick_first: 1)");
            assertTrue(n > 1, "round_robin: " + n);
        }
    }

    private static void printClientThreads() {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            names.add(t.getName().replaceAll("\\d+", "N"));
        }
        System.out.println("threads in this JVM (digits folded): " + names);
    }
}
