package io.turnpike.config.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.source.ConfigListener;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link EtcdConfigSource} against a real etcd: list + watch, coalescing, order, rejection, faults. */
class EtcdConfigSourceIT {

    private static EtcdServer etcd;
    private static EtcdConfigStore writer;

    @BeforeAll
    static void up() {
        etcd = EtcdServer.startNew();
        writer = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), "/unused"));
    }

    @AfterAll
    static void down() {
        if (writer != null) {
            writer.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    static EtcdConfig cfg(List<String> hosts, String prefix) {
        return new EtcdConfig(hosts, prefix, 5, null, null, null);
    }

    static String route(String uri) {
        return "{\"uri\":\"" + uri + "\",\"upstream\":{\"type\":\"roundrobin\",\"nodes\":{\"127.0.0.1:1980\":1}}}";
    }

    static long put(EtcdConfigStore s, String key, String value) throws Exception {
        return s.put(key, value.getBytes(StandardCharsets.UTF_8)).modRevision();
    }

    /** Records deliveries; checks the thread and that versions only grow. */
    static class Recorder implements ConfigListener {
        final List<ConfigSet> configs = new CopyOnWriteArrayList<>();
        final List<ConfigProblem> rejected = new CopyOnWriteArrayList<>();
        final List<String> violations = new CopyOnWriteArrayList<>();

        @Override
        public void onConfig(ConfigSet config) {
            check();
            if (!configs.isEmpty() && config.version() <= last().version()) {
                violations.add("version " + config.version() + " after " + last().version());
            }
            configs.add(config);
        }

        @Override
        public void onRejected(List<ConfigProblem> problems) {
            check();
            rejected.addAll(problems);
        }

        private void check() {
            if (!EtcdConfigSource.THREAD_NAME.equals(Thread.currentThread().getName())) {
                violations.add("called on " + Thread.currentThread().getName());
            }
        }

        ConfigSet last() {
            return configs.isEmpty() ? null : configs.get(configs.size() - 1);
        }

        ConfigSet await(Predicate<ConfigSet> p, String what) {
            awaitTrue(() -> last() != null && p.test(last()), what + "; last=" + (last() == null ? null
                    : last().routes().keySet() + "@" + last().version()));
            return last();
        }
    }

    static void awaitTrue(BooleanSupplier c, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static String uri(ConfigSet c, String id) {
        return c.routes().get(id).uris().get(0);
    }

    @Test
    void initialListThenWatchUpdatesInOrder() throws Exception {
        String p = "/t-order";
        put(writer, p + "/routes/1", route("/one"));
        put(writer, p + "/routes/2", route("/two"));
        long r = put(writer, p + "/routes/3", route("/three"));
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            ConfigSet first = rec.configs.get(0);
            assertTrue(first.version() >= r);
            assertEquals(List.of("1", "2", "3"), new ArrayList<>(first.routes().keySet()));
            awaitTrue(src::isConnected, "connected");

            put(writer, p + "/routes/4", route("/four"));
            put(writer, p + "/routes/1", route("/one-v2"));
            long last = writer.delete(p + "/routes/2") == null ? -1 : writer.revision();
            ConfigSet c = rec.await(x -> x.version() >= last, "all three changes");
            assertEquals(List.of("1", "3", "4"), new ArrayList<>(c.routes().keySet()));
            assertEquals("/one-v2", uri(c, "1"));
            assertEquals(last, c.version());
            assertEquals(last, src.lastRevision());
            assertEquals(3, src.appliedEvents());
            assertEquals(0, src.rejectedCount());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * Start-up path: the list (pages parsed and decoded while the next is read) begins before there is a listener;
     * the first delivery waits for start(), holds every page's entries and the same problems as a plain start, and
     * a write made in between follows through the watch.
     */
    @Test
    void prefetchListsPageByPageThenDeliversOnStart() throws Exception {
        String p = "/t-prefetch";
        for (int i = 0; i < 40; i++) {
            put(writer, p + "/routes/r" + (100 + i), i % 3 == 0
                    ? "{\"uri\":\"/r" + i + "\",\"upstream_id\":\"u1\"}" : route("/r" + i));
        }
        put(writer, p + "/routes/bad", "{not json");
        put(writer, p + "/routes/dangling", "{\"uri\":\"/d\",\"upstream_id\":\"nope\"}");
        long r = put(writer, p + "/upstreams/u1", "{\"nodes\":{\"127.0.0.1:1980\":1}}");
        Recorder rec = new Recorder();
        Recorder plain = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p),
                EtcdConfigStore.DEFAULT_MAX_INBOUND_MESSAGE_BYTES, 7);
             EtcdConfigSource src = new EtcdConfigSource(store);
             EtcdConfigStore store2 = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src2 = new EtcdConfigSource(store2)) {
            src.prefetch();
            awaitTrue(() -> src.lastRevision() >= r, "the list before start");
            assertEquals(0, src.deliveries());
            long later = put(writer, p + "/routes/r999", route("/late"));
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            ConfigSet first = rec.configs.get(0);
            assertEquals(r, first.version());
            assertEquals(40, first.routes().size());
            assertEquals(Set.of("u1"), first.upstreams().keySet());
            rec.await(c -> c.routes().containsKey("r999"), "the write made before start");
            assertTrue(rec.last().version() >= later);

            src2.start(plain); // the same store read in one page, without prefetch: same problems
            assertTrue(src2.awaitFirstDelivery(20, TimeUnit.SECONDS));
            assertEquals(plain.last().routes().keySet(), rec.last().routes().keySet());
            assertEquals(render(plain.rejected), render(rec.rejected));
            assertEquals(2, rec.rejected.size(), rec.rejected.toString());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /** A prefetched source closed before start ends its thread (the gateway failing to start after prefetch). */
    @Test
    void prefetchedSourceClosesWithoutStart() throws Exception {
        String p = "/t-prefetch-close";
        long r = put(writer, p + "/routes/1", route("/one"));
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p))) {
            EtcdConfigSource src = new EtcdConfigSource(store);
            src.prefetch();
            awaitTrue(() -> src.lastRevision() >= r, "the list");
            long t0 = System.nanoTime();
            src.close();
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "close waited for its thread");
            assertEquals(0, src.deliveries());
            assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.isAlive()
                    && EtcdConfigSource.THREAD_NAME.equals(t.getName()) && t.getState() == Thread.State.WAITING
                    && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("publish"))),
                    "an agent thread still waits for its listener");
        }
    }

    private static Set<String> render(List<ConfigProblem> problems) {
        Set<String> out = new java.util.TreeSet<>();
        for (ConfigProblem pr : problems) {
            out.add(pr.render());
        }
        return out;
    }

    @Test
    void burstOf500WritesIsCoalesced() throws Exception {
        String p = "/t-burst";
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            long before = src.deliveries();
            // A controller pushing 500 routes at once (pipelined on one connection).
            List<CompletableFuture<?>> fs = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                fs.add(writer.client().getKVClient().put(
                        ByteSequence.from(p + "/routes/r" + i, StandardCharsets.UTF_8),
                        ByteSequence.from(route("/r" + i), StandardCharsets.UTF_8)));
            }
            CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            rec.await(c -> c.routes().size() == 500, "500 routes");
            Thread.sleep(300); // any straggling delivery would show up here
            long deliveries = src.deliveries() - before;
            System.out.println("burst of 500 writes -> " + deliveries + " deliveries (compiles)");
            assertTrue(deliveries < 20, "deliveries: " + deliveries);
            assertEquals(500, src.appliedEvents());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    @Test
    void deleteAndRecreateApplyInOrder() throws Exception {
        String p = "/t-recreate";
        put(writer, p + "/routes/x", route("/x1"));
        put(writer, p + "/routes/y", route("/y1"));
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            // One burst: x deleted then re-created; y re-created then deleted; z created, deleted, re-created.
            writer.delete(p + "/routes/x");
            put(writer, p + "/routes/x", route("/x2"));
            put(writer, p + "/routes/y", route("/y2"));
            writer.delete(p + "/routes/y");
            put(writer, p + "/routes/z", route("/z1"));
            writer.delete(p + "/routes/z");
            long last = put(writer, p + "/routes/z", route("/z2"));
            ConfigSet c = rec.await(x -> x.version() >= last, "burst applied");
            assertEquals("/x2", uri(c, "x"));
            assertNull(c.routes().get("y"));
            assertEquals("/z2", uri(c, "z"));
            // A route that points at an upstream deleted and re-created keeps resolving in the end state.
            put(writer, p + "/upstreams/u", "{\"nodes\":{\"127.0.0.1:1980\":1}}");
            put(writer, p + "/routes/w", "{\"uri\":\"/w\",\"upstream_id\":\"u\"}");
            writer.delete(p + "/upstreams/u");
            long l2 = put(writer, p + "/upstreams/u", "{\"nodes\":{\"127.0.0.1:1981\":1}}");
            c = rec.await(x -> x.version() >= l2, "upstream re-created");
            assertNotNull(c.routes().get("w"));
            assertEquals(0, src.rejectedCount(), src.problems().toString());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    @Test
    void badValuesAreRejectedAndReportedTheRestIsDelivered() throws Exception {
        String p = "/t-bad";
        put(writer, p + "/routes/good", route("/good"));
        put(writer, p + "/routes/json", "{not json");
        put(writer, p + "/routes/invalid", "{\"uri\":123,\"upstream_id\":\"1\"}");
        put(writer, p + "/routes/dangling", "{\"uri\":\"/d\",\"upstream_id\":\"missing\"}");
        // A plugin Turnpike does not implement: left out (fail closed), reported, the rest serves.
        put(writer, p + "/routes/authed", "{\"uri\":\"/authed\",\"plugins\":{\"hmac-auth\":{}},\"upstream_id\":\"1\"}");
        // APISIX housekeeping: ignored quietly.
        put(writer, p + "/data_plane/server_info/abc", "{\"id\":\"abc\"}");
        put(writer, p + "/routes/", "init_dir");
        put(writer, p + "/plugins", "[{\"name\":\"limit-count\"}]");
        // A consumer and its credential (APISIX 3 layout).
        put(writer, p + "/consumers/jack", "{\"username\":\"jack\"}");
        put(writer, p + "/consumers/jack/credentials/c1", "{\"plugins\":{},\"desc\":\"k1\"}");
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            ConfigSet c = rec.configs.get(0);
            assertEquals(List.of("good"), new ArrayList<>(c.routes().keySet()));
            assertEquals(4, src.rejectedCount(), src.problems().toString());
            assertEquals(4, rec.rejected.size(), rec.rejected.toString());
            String all = rec.rejected.toString();
            System.out.println("rejected: " + all);
            assertTrue(all.contains(p + "/routes/json") && all.contains("invalid JSON"), all);
            assertTrue(all.contains(p + "/routes/invalid") && all.contains("property \"uri\" validation failed"), all);
            assertTrue(all.contains(p + "/routes/dangling")
                    && all.contains("failed to fetch upstream info by upstream id [missing]"), all);
            assertTrue(all.contains(p + "/routes/authed") && all.contains("unknown plugin [hmac-auth]"), all);
            assertEquals("k1", c.others("consumers").get("jack").value()
                    .path("credentials").path("c1").path("desc").asText());

            // Fixing one bad value delivers it; the problem is no longer counted; nothing is reported twice.
            long r = put(writer, p + "/routes/json", route("/fixed"));
            c = rec.await(x -> x.version() >= r, "fix delivered");
            assertEquals("/fixed", uri(c, "json"));
            assertEquals(3, src.rejectedCount());
            assertEquals(4, rec.rejected.size(), "already-reported problems are not reported again");

            // An update that adds an unknown plugin to a serving route (incremental path) takes that route out and
            // reports it; the other routes keep serving. A credential naming one takes its consumer out.
            long a = put(writer, p + "/routes/good", "{\"uri\":\"/good\",\"plugins\":{\"syslog\":{\"host\":\"h\"}},"
                    + "\"upstream\":{\"nodes\":{\"127.0.0.1:1980\":1}}}");
            c = rec.await(x -> x.version() >= a, "plugin update delivered");
            assertFalse(c.routes().containsKey("good"), "a route whose plugin is not implemented is not served");
            assertEquals("/fixed", uri(c, "json"));
            awaitTrue(() -> rec.rejected.toString().contains("unknown plugin [syslog]"), "reported");
            long k = put(writer, p + "/consumers/jack/credentials/c2", "{\"plugins\":{\"hmac-auth\":{\"key\":\"k\"}}}");
            c = rec.await(x -> x.version() >= k, "credential delivered");
            assertFalse(c.others("consumers").containsKey("jack"), "consumer with an unknown credential plugin left out");
            assertEquals("/fixed", uri(c, "json"));
            awaitTrue(() -> rec.rejected.toString().contains("credential \"c2\": unknown plugin [hmac-auth]"),
                    "credential reported");

            // Housekeeping writes (APISIX heartbeats) advance the revision but cost no compile or delivery.
            long d = src.deliveries();
            long hk = put(writer, p + "/data_plane/server_info/abc", "{\"id\":\"abc\",\"t\":2}");
            awaitTrue(() -> src.lastRevision() >= hk, "heartbeat seen");
            Thread.sleep(200);
            assertEquals(d, src.deliveries());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * A value larger than {@link io.turnpike.config.ConfigLimits#maxValueBytes()} (written straight to etcd, past the
     * Admin API) is left out and reported without being parsed; the rest is delivered, at startup and on the watch.
     */
    @Test
    void oversizedValueIsLeftOutAndReported() throws Exception {
        String p = "/t-oversized";
        int limit = io.turnpike.config.ConfigLimits.maxValueBytes();
        String pad = "x".repeat(limit);
        put(writer, p + "/routes/good", route("/good"));
        put(writer, p + "/routes/huge", "{\"uri\":\"/huge\",\"desc\":\"" + pad + "\"}");
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            assertEquals(List.of("good"), new ArrayList<>(rec.configs.get(0).routes().keySet()));
            String all = rec.rejected.toString();
            assertEquals(1, rec.rejected.size(), all);
            assertTrue(all.contains(p + "/routes/huge") && all.contains("is larger than the limit of " + limit
                    + " bytes (turnpike.max_config_value_bytes)"), all);

            // On the watch: an oversized route next to a small one; the small one is served.
            put(writer, p + "/routes/huge2", "{\"uri\":\"/huge2\",\"labels\":{\"a\":\"" + pad + "\"}}");
            long r = put(writer, p + "/routes/small", route("/small"));
            ConfigSet c = rec.await(x -> x.version() >= r, "small route delivered");
            assertEquals(List.of("good", "small"), new ArrayList<>(c.routes().keySet()));
            assertEquals(2, src.rejectedCount(), src.problems().toString());
            assertTrue(rec.rejected.toString().contains(p + "/routes/huge2"), rec.rejected.toString());

            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * Route-only bursts are delivered incrementally (with a delta naming the changed routes) and end in exactly the
     * configuration a fresh full list compiles: same routes, same values, same problems.
     */
    @Test
    void routeOnlyChangesAreDeliveredIncrementallyAndMatchAFullCompile() throws Exception {
        String p = "/t-incremental";
        put(writer, p + "/upstreams/u1", "{\"nodes\":{\"127.0.0.1:1980\":1}}");
        for (int i = 0; i < 40; i++) {
            put(writer, p + "/routes/r" + i, route("/r" + i));
        }
        List<io.turnpike.config.model.ConfigDelta> deltas = new CopyOnWriteArrayList<>();
        Recorder rec = new Recorder() {
            @Override
            public void onConfig(ConfigSet config, io.turnpike.config.model.ConfigDelta delta) {
                if (delta != null) {
                    deltas.add(delta);
                    if (last() != null && delta.fromVersion() != last().version()) {
                        violations.add("delta from " + delta.fromVersion() + " after " + last().version());
                    }
                }
                onConfig(config);
            }
        };
        java.util.Random rnd = new java.util.Random(42);
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            long last = 0;
            for (int round = 0; round < 30; round++) {
                for (int k = 0; k < 1 + rnd.nextInt(4); k++) {
                    String key = p + "/routes/r" + rnd.nextInt(50);
                    int op = rnd.nextInt(8);
                    if (op == 6) { // the shared upstream changes its nodes (incremental), or goes and comes back
                        if (rnd.nextInt(4) == 0) {
                            writer.delete(p + "/upstreams/u1");
                            last = writer.revision();
                        } else {
                            last = put(writer, p + "/upstreams/u1", "{\"nodes\":{\"127.0.0.1:" + (1980 + round)
                                    + "\":1}}");
                        }
                        continue;
                    }
                    switch (op) {
                        case 0 -> { writer.delete(key); last = writer.revision(); }
                        case 1 -> last = put(writer, key, "{bad json");
                        case 2 -> last = put(writer, key, "{\"uri\":\"/ref\",\"upstream_id\":\""
                                + (rnd.nextBoolean() ? "u1" : "missing") + "\"}");
                        case 3 -> last = put(writer, key, "{\"uri\":42}");
                        default -> last = put(writer, key, route("/v" + round + "/" + k));
                    }
                }
                long target = last;
                rec.await(x -> x.version() >= target, "round " + round);
            }
            assertTrue(src.incrementalDeliveries() > 0, "incremental deliveries: " + src.incrementalDeliveries());
            assertFalse(deltas.isEmpty());
            ConfigSet inc = rec.last();
            Recorder fresh = new Recorder();
            try (EtcdConfigStore store2 = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
                 EtcdConfigSource full = new EtcdConfigSource(store2)) {
                full.start(fresh);
                assertTrue(full.awaitFirstDelivery(20, TimeUnit.SECONDS));
                ConfigSet f = fresh.configs.get(0);
                assertEquals(f.version(), inc.version());
                assertEquals(new ArrayList<>(f.routes().keySet()), new ArrayList<>(inc.routes().keySet()));
                for (String id : f.routes().keySet()) {
                    assertEquals(f.routes().get(id).raw(), inc.routes().get(id).raw(), id);
                    assertEquals(f.routes().get(id).uris(), inc.routes().get(id).uris(), id);
                }
                java.util.function.Function<List<ConfigProblem>, List<String>> render = ps -> ps.stream()
                        .map(ConfigProblem::render).sorted().toList();
                assertEquals(render.apply(full.problems()), render.apply(src.problems()));
                assertEquals(full.rejectedCount(), src.rejectedCount());
            }
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * Consumers, credentials, global rules and plugin_configs change at random (with routes naming plugin_configs that
     * come and go): delivered incrementally where possible, and always equal to a fresh full list.
     */
    @Test
    void consumerChangesAreDeliveredIncrementallyAndMatchAFullCompile() throws Exception {
        String p = "/t-consumers";
        put(writer, p + "/upstreams/u1", "{\"nodes\":{\"127.0.0.1:1980\":1}}");
        put(writer, p + "/routes/r1", route("/r1"));
        Recorder rec = new Recorder();
        java.util.Random rnd = new java.util.Random(7);
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            long before = src.incrementalDeliveries();
            long last = 0;
            for (int round = 0; round < 30; round++) {
                for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
                    String user = "c" + rnd.nextInt(6);
                    String ckey = p + "/consumers/" + user;
                    String cred = ckey + "/credentials/k" + rnd.nextInt(3);
                    String grule = p + "/global_rules/g" + rnd.nextInt(3);
                    String pconf = p + "/plugin_configs/pc" + rnd.nextInt(3);
                    switch (rnd.nextInt(13)) {
                        case 9 -> last = put(writer, grule, "{\"plugins\":{\"request-id\":{\"header_name\":\"X-R" + round
                                + "\"}}}");
                        case 10 -> {
                            if (rnd.nextBoolean()) {
                                writer.delete(grule);
                                last = writer.revision();
                            } else {
                                last = put(writer, grule, "{\"plugins\":{\"hmac-auth\":{}}}");
                            }
                        }
                        case 11 -> last = put(writer, pconf, "{\"plugins\":{\"response-rewrite\":{\"status_code\":"
                                + (200 + round) + "}}}");
                        case 12 -> {
                            if (rnd.nextInt(4) == 0) {
                                writer.delete(pconf);
                                last = writer.revision();
                            } else {
                                last = put(writer, p + "/routes/pr" + rnd.nextInt(3), "{\"uri\":\"/pc\",\"plugin_config_id\":\"pc"
                                        + rnd.nextInt(3) + "\",\"upstream_id\":\"u1\"}");
                            }
                        }
                        case 0 -> { writer.delete(ckey); last = writer.revision(); }
                        case 1 -> last = put(writer, ckey, "{bad json");
                        case 2 -> last = put(writer, ckey, "{\"username\":\"" + user + "\",\"plugins\":{\"hmac-auth\":{}}}");
                        case 3 -> { writer.delete(cred); last = writer.revision(); }
                        case 4 -> last = put(writer, cred, "{\"plugins\":{\"key-auth\":{}}}");
                        case 5, 6 -> last = put(writer, cred, "{\"plugins\":{\"key-auth\":{\"key\":\"" + user + "-"
                                + round + "\"}}}");
                        default -> last = put(writer, ckey, "{\"username\":\"" + user + "\",\"plugins\":{\"key-auth\":"
                                + "{\"key\":\"" + user + "-own-" + round + "\"}}}");
                    }
                }
                long target = last;
                rec.await(x -> x.version() >= target, "round " + round);
            }
            assertTrue(src.incrementalDeliveries() - before >= 15,
                    "consumer changes delivered incrementally: " + (src.incrementalDeliveries() - before));
            ConfigSet inc = rec.last();
            Recorder fresh = new Recorder();
            try (EtcdConfigStore store2 = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
                 EtcdConfigSource full = new EtcdConfigSource(store2)) {
                full.start(fresh);
                assertTrue(full.awaitFirstDelivery(20, TimeUnit.SECONDS));
                ConfigSet f = fresh.configs.get(0);
                assertEquals(f.version(), inc.version());
                assertEquals(new ArrayList<>(f.others("consumers").keySet()),
                        new ArrayList<>(inc.others("consumers").keySet()));
                for (String id : f.others("consumers").keySet()) {
                    assertEquals(f.others("consumers").get(id).value(), inc.others("consumers").get(id).value(), id);
                }
                assertEquals(f.routes().keySet(), inc.routes().keySet());
                for (String r : java.util.List.of("global_rules", "plugin_configs")) {
                    assertEquals(new ArrayList<>(f.others(r).keySet()), new ArrayList<>(inc.others(r).keySet()), r);
                    for (String id : f.others(r).keySet()) {
                        assertEquals(f.others(r).get(id).value(), inc.others(r).get(id).value(), r + "/" + id);
                    }
                }
                java.util.function.Function<List<ConfigProblem>, List<String>> render = ps -> ps.stream()
                        .map(ConfigProblem::render).sorted().toList();
                assertEquals(render.apply(full.problems()), render.apply(src.problems()));
            }
        }
    }

    @Test
    void etcdDownAtStartupThenUp() throws Exception {
        try (EtcdServer e = EtcdServer.startNew()) {
            try (EtcdConfigStore w = new EtcdConfigStore(cfg(List.of(e.endpoint()), "/apisix"))) {
                put(w, "/apisix/routes/1", route("/boot"));
            }
            e.stop();
            Recorder rec = new Recorder();
            try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(e.endpoint()), "/apisix"));
                 EtcdConfigSource src = new EtcdConfigSource(store)) {
                src.start(rec);
                assertFalse(src.awaitFirstDelivery(1500, TimeUnit.MILLISECONDS));
                assertFalse(src.isConnected());
                assertNotNull(src.lastError());
                System.out.println("while down: " + src.lastError());
                e.start();
                assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS), "delivered after etcd came up");
                assertEquals("/boot", uri(rec.configs.get(0), "1"));
                awaitTrue(src::isConnected, "connected");
                assertTrue(rec.violations.isEmpty(), rec.violations.toString());
            }
        }
    }

    @Test
    void etcdDownWhileRunningKeepsConfigAndResumesWithoutLossOrDuplicates() throws Exception {
        try (EtcdServer e = EtcdServer.startNew()) {
            EtcdConfigStore w = new EtcdConfigStore(cfg(List.of(e.endpoint()), "/apisix"));
            put(w, "/apisix/routes/1", route("/v1"));
            Recorder rec = new Recorder();
            try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(e.endpoint()), "/apisix"));
                 EtcdConfigSource src = new EtcdConfigSource(store)) {
                src.start(rec);
                assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
                awaitTrue(src::isConnected, "connected");

                // A change written just before the stop: delivered before or after the outage, exactly once.
                long justBefore = put(w, "/apisix/routes/2", route("/just-before"));
                w.close();
                e.stop();
                awaitTrue(() -> !src.isConnected(), "disconnect noticed");
                long deliveriesWhileDown = src.deliveries();
                ConfigSet kept = rec.last();
                Thread.sleep(1500);
                assertEquals(deliveriesWhileDown, src.deliveries(), "no delivery while etcd is down");
                assertEquals(kept, rec.last());

                e.start();
                try (EtcdConfigStore w2 = new EtcdConfigStore(cfg(List.of(e.endpoint()), "/apisix"))) {
                    put(w2, "/apisix/routes/3", route("/after"));
                    long last = w2.delete("/apisix/routes/1") != null ? w2.revision() : -1;
                    ConfigSet c = rec.await(x -> x.version() >= last, "changes after restart");
                    assertEquals(List.of("2", "3"), new ArrayList<>(c.routes().keySet()));
                    assertEquals("/just-before", uri(c, "2"));
                    assertTrue(justBefore < last);
                }
                assertEquals(3, src.appliedEvents(), "exactly the three writes after the initial list");
                assertEquals(1, src.fullLists(), "resumed the watch, no re-list");
                assertTrue(src.isConnected());
                assertTrue(rec.violations.isEmpty(), rec.violations.toString());
            }
        }
    }

    @Test
    void compactionPastOurRevisionTriggersFullRelist() throws Exception {
        String p = "/t-compact";
        put(writer, p + "/routes/a", route("/a"));
        put(writer, p + "/routes/b", route("/b"));
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            awaitTrue(src::isConnected, "connected");
            src.pauseWatch();
            awaitTrue(() -> !src.isConnected(), "paused");
            put(writer, p + "/routes/c", route("/c"));
            writer.delete(p + "/routes/a");
            long rev = put(writer, p + "/routes/b", route("/b2"));
            writer.compact(rev);
            src.resumeWatch();
            ConfigSet c = rec.await(x -> x.version() >= rev, "re-listed after compaction");
            assertEquals(List.of("b", "c"), new ArrayList<>(c.routes().keySet()));
            assertEquals("/b2", uri(c, "b"));
            assertEquals(2, src.fullLists());
            assertTrue(src.lastError().contains("compact"), src.lastError());
            // and the watch goes on after the re-list
            long r2 = put(writer, p + "/routes/d", route("/d"));
            c = rec.await(x -> x.version() >= r2, "watch resumed after re-list");
            assertNotNull(c.routes().get("d"));
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * A re-list keeps what did not change: the unchanged route is the same record (not parsed or decoded again, so
     * the snapshot compiler reuses its compiled form), the changed one is new.
     */
    @Test
    void aRelistKeepsTheValuesThatDidNotChange() throws Exception {
        String p = "/t-relist-keep";
        put(writer, p + "/routes/a", route("/a"));
        put(writer, p + "/routes/b", route("/b"));
        long r0 = put(writer, p + "/routes/e", route("/e"));
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            ConfigSet first = rec.await(x -> x.version() >= r0, "first list");
            assertEquals(0, src.keptOnLastList());
            awaitTrue(src::isConnected, "connected");
            src.pauseWatch();
            awaitTrue(() -> !src.isConnected(), "paused");
            writer.delete(p + "/routes/a");
            put(writer, p + "/routes/c", route("/c"));
            long rev = put(writer, p + "/routes/b", route("/b2"));
            writer.compact(rev);
            src.resumeWatch();
            ConfigSet c = rec.await(x -> x.version() >= rev, "re-listed after compaction");
            assertEquals(2, src.fullLists());
            assertEquals(List.of("b", "c", "e"), new ArrayList<>(c.routes().keySet()));
            assertSame(first.routes().get("e"), c.routes().get("e"), "unchanged: the same record");
            assertEquals("/b2", uri(c, "b"));
            assertEquals(1, src.keptOnLastList(), "only e was kept");
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    /**
     * A value larger than the client's inbound message limit (1 MiB here) cannot be read at all: it is reported and
     * every other value loads, at the first list and when it arrives through the watch (which fails on it and
     * re-lists around it).
     */
    @Test
    void aValueLargerThanTheClientsMessageLimitIsReportedAndTheRestLoads() throws Exception {
        String p = "/t-huge";
        byte[] huge = new byte[2 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) 'x');
        put(writer, p + "/routes/a", route("/a"));
        writer.put(p + "/routes/b", huge);
        long r0 = put(writer, p + "/routes/c", route("/c"));
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(etcd.endpoint()), p), 1024 * 1024, 1000);
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            ConfigSet c = rec.await(x -> x.version() >= r0, "first list");
            assertEquals(List.of("a", "c"), new ArrayList<>(c.routes().keySet()));
            assertTrue(rec.rejected.stream().anyMatch(x -> x.toString().contains(p + "/routes/b")
                    && x.toString().contains("inbound message limit of 1048576 bytes")), rec.rejected.toString());
            awaitTrue(src::isConnected, "connected");
            writer.put(p + "/routes/d", huge);
            long r1 = put(writer, p + "/routes/e", route("/e"));
            c = rec.await(x -> x.version() >= r1, "the value after the huge one");
            assertEquals(List.of("a", "c", "e"), new ArrayList<>(c.routes().keySet()));
            assertTrue(rec.rejected.stream().anyMatch(x -> x.toString().contains(p + "/routes/d")),
                    rec.rejected.toString());
            assertTrue(rec.violations.isEmpty(), rec.violations.toString());
        }
    }

    @Test
    void deadFirstEndpointFallsOverToTheLiveOne() throws Exception {
        String p = "/t-dead";
        put(writer, p + "/routes/1", route("/one"));
        String dead = "http://127.0.0.1:" + EtcdConfigStoreIT.deadPort();
        Recorder rec = new Recorder();
        try (EtcdConfigStore store = new EtcdConfigStore(cfg(List.of(dead, etcd.endpoint()), p));
             EtcdConfigSource src = new EtcdConfigSource(store)) {
            src.start(rec);
            assertTrue(src.awaitFirstDelivery(20, TimeUnit.SECONDS));
            long r = put(writer, p + "/routes/2", route("/two"));
            ConfigSet c = rec.await(x -> x.version() >= r, "watch via the live endpoint");
            assertEquals(2, c.routes().size());
        }
    }
}
