package io.turnpike.config.etcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.store.ConfigStore.Entry;
import io.turnpike.config.store.ConfigStore.Listing;
import io.turnpike.config.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link EtcdConfigStore} against a real etcd. */
class EtcdConfigStoreIT {

    private static EtcdServer etcd;
    private static EtcdConfigStore store;

    @BeforeAll
    static void up() {
        etcd = EtcdServer.startNew();
        store = new EtcdConfigStore(config(List.of(etcd.endpoint())));
    }

    @AfterAll
    static void down() {
        if (store != null) {
            store.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    static EtcdConfig config(List<String> hosts) {
        return new EtcdConfig(hosts, "/apisix", 10, null, null, null);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void crudAndCompareAndSet() throws Exception {
        String k = "/crud/routes/1";
        assertNull(store.get(k));
        Entry created = store.put(k, b("{\"uri\":\"/a\"}"));
        assertEquals(created.createRevision(), created.modRevision());
        Entry got = store.get(k);
        assertArrayEquals(b("{\"uri\":\"/a\"}"), got.value());
        assertEquals(created.modRevision(), got.modRevision());

        Entry updated = store.put(k, b("{\"uri\":\"/b\"}"));
        assertEquals(created.createRevision(), updated.createRevision(), "createRevision kept on update");
        assertTrue(updated.modRevision() > created.modRevision());

        // CAS: stale revision refused, current accepted, 0 = must not exist.
        assertNull(store.putIf(k, b("{\"uri\":\"/stale\"}"), created.modRevision()));
        Entry cas = store.putIf(k, b("{\"uri\":\"/c\"}"), updated.modRevision());
        assertNotNull(cas);
        assertEquals(created.createRevision(), cas.createRevision());
        assertNull(store.putIf(k, b("{}"), 0), "exists: create-only refused");
        Entry fresh = store.putIf("/crud/routes/2", b("{\"uri\":\"/new\"}"), 0);
        assertNotNull(fresh);
        assertEquals(fresh.createRevision(), fresh.modRevision());

        assertFalse(store.deleteIf(k, updated.modRevision()), "stale delete refused");
        assertTrue(store.deleteIf(k, cas.modRevision()));
        assertNull(store.get(k));
        Entry deleted = store.delete("/crud/routes/2");
        assertArrayEquals(b("{\"uri\":\"/new\"}"), deleted.value());
        assertNull(store.delete("/crud/routes/2"));

        Listing l = store.list("/crud/");
        assertTrue(l.entries().isEmpty());
        assertTrue(l.revision() >= cas.modRevision());
    }

    @Test
    void listOf20000KeysPagesAtOneRevision() throws Exception {
        String prefix = "/big/routes/";
        int n = 20_000;
        long t0 = System.nanoTime();
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inFlight.add(store.client().getKVClient().put(
                    ByteSequence.from(prefix + String.format("%06d", i), StandardCharsets.UTF_8),
                    ByteSequence.from("{\"uri\":\"/r" + i + "\"}", StandardCharsets.UTF_8)));
            if (inFlight.size() == 500) {
                CompletableFuture.allOf(inFlight.toArray(new CompletableFuture<?>[0])).get();
                inFlight.clear();
            }
        }
        CompletableFuture.allOf(inFlight.toArray(new CompletableFuture<?>[0])).get();
        System.out.printf("wrote %d keys in %d ms%n", n, (System.nanoTime() - t0) / 1_000_000);

        // A writer adds keys under the same prefix while we list: the listing must be one consistent cut.
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Long> extraRevisions = new ConcurrentLinkedQueue<>();
        Thread writer = new Thread(() -> {
            for (int i = 0; i < 2_000 && !stop.get(); i++) {
                try {
                    extraRevisions.add(store.put(prefix + "x" + i, b("{}")).modRevision());
                } catch (StoreException e) {
                    return;
                }
            }
        }, "test-writer");
        writer.start();
        for (int i = 0; i < 1000 && extraRevisions.size() < 20; i++) {
            Thread.sleep(5);
        }
        long t1 = System.nanoTime();
        Listing l = store.list(prefix);
        long listMs = (System.nanoTime() - t1) / 1_000_000;
        stop.set(true);
        writer.join(30_000);

        long expectedExtra = extraRevisions.stream().filter(r -> r <= l.revision()).count();
        System.out.printf("listed %d keys (%d written concurrently before the cut) in %d ms%n",
                l.entries().size(), expectedExtra, listMs);
        assertEquals(n + expectedExtra, l.entries().size());
        Set<String> keys = new HashSet<>();
        String prev = "";
        for (Entry e : l.entries()) {
            assertTrue(e.modRevision() <= l.revision(), "entry newer than the listing revision: " + e.key());
            assertTrue(keys.add(e.key()), "duplicate " + e.key());
            assertTrue(e.key().compareTo(prev) > 0, "sorted");
            prev = e.key();
        }

        // Listing at an explicit older revision ignores everything written later.
        Listing older = store.list(prefix, l.revision() - expectedExtra);
        assertEquals(n, older.entries().size());
        store.client().getKVClient().delete(ByteSequence.from(prefix, StandardCharsets.UTF_8),
                io.etcd.jetcd.options.DeleteOption.builder().isPrefix(true).build()).get();
    }

    @Test
    void sixMiBValueStoredAndReadBack() throws Exception {
        byte[] big = new byte[6 * 1024 * 1024];
        Arrays.fill(big, (byte) 'a');
        big[0] = '"';
        big[big.length - 1] = '"';
        Entry e = store.put("/large/routes/big", big);
        Entry got = store.get("/large/routes/big");
        assertArrayEquals(big, got.value());
        assertEquals(e.modRevision(), got.modRevision());
        Listing l = store.list("/large/");
        assertEquals(1, l.entries().size());
        assertEquals(big.length, l.entries().get(0).value().length);
        store.delete("/large/routes/big");
    }

    @Test
    void defaultGrpcLimitWouldRefuseTheSameValue() throws Exception {
        byte[] big = new byte[6 * 1024 * 1024];
        store.put("/large4/k", big);
        try (EtcdConfigStore small = new EtcdConfigStore(config(List.of(etcd.endpoint())), 4 * 1024 * 1024,
                1000)) {
            StoreException ex = assertThrows(StoreException.class, () -> small.get("/large4/k"));
            assertTrue(ex.getMessage().toLowerCase().contains("resource_exhausted")
                    || ex.getMessage().toLowerCase().contains("larger than max"), ex.getMessage());
        } finally {
            store.delete("/large4/k");
        }
    }

    /**
     * A page whose values together exceed the client's inbound message limit (here 1 MiB: 30 values of 100 KB in pages
     * of 1,000 keys) is read again in smaller pages instead of failing the whole list; a single value larger than the
     * limit fails the list with a message naming its key and the limit.
     */
    @Test
    void aPageLargerThanTheInboundLimitIsReadInSmallerPages() throws Exception {
        String prefix = "/bigpages/";
        byte[] v = new byte[100 * 1024];
        Arrays.fill(v, (byte) 'x');
        for (int i = 0; i < 30; i++) {
            store.put(prefix + String.format("k%02d", i), v);
        }
        try (EtcdConfigStore small = new EtcdConfigStore(config(List.of(etcd.endpoint())), 1024 * 1024, 1000)) {
            List<Integer> pages = new ArrayList<>();
            List<String> keys = new ArrayList<>();
            long rev = small.list(prefix, 0, page -> {
                pages.add(page.size());
                page.forEach(e -> keys.add(e.key()));
            });
            assertEquals(30, keys.size(), "every key, once, in order: " + keys);
            assertEquals(prefix + "k00", keys.get(0));
            assertEquals(prefix + "k29", keys.get(29));
            assertEquals(30, new HashSet<>(keys).size());
            assertTrue(pages.size() > 1, "smaller pages: " + pages);
            assertTrue(rev > 0);
            // one value above the limit: named in the error
            store.put(prefix + "k15", new byte[2 * 1024 * 1024]);
            StoreException ex = assertThrows(StoreException.class, () -> small.list(prefix, 0, page -> { }));
            assertTrue(ex.getMessage().contains(prefix + "k15") && ex.getMessage().contains("1048576"),
                    ex.getMessage());
            // the config-sync agent's list reads around it instead, the first key of the prefix too
            store.put(prefix + "a-first", new byte[2 * 1024 * 1024]);
            List<Entry> marked = new ArrayList<>();
            long rev2 = small.list(prefix, 0, marked::addAll, true);
            assertEquals(31, marked.size()); // a-first, k00 .. k29
            assertEquals(prefix + "a-first", marked.get(0).key());
            assertTrue(marked.get(0).value() == EtcdConfigStore.VALUE_LARGER_THAN_MESSAGE_LIMIT);
            assertTrue(marked.get(0).modRevision() > 0 && marked.get(0).modRevision() <= rev2);
            assertEquals(prefix + "k15", marked.get(16).key());
            assertTrue(marked.get(16).value() == EtcdConfigStore.VALUE_LARGER_THAN_MESSAGE_LIMIT);
            assertEquals(v.length, marked.get(30).value().length);
        } finally {
            store.client().getKVClient().delete(ByteSequence.from(prefix, StandardCharsets.UTF_8),
                    io.etcd.jetcd.options.DeleteOption.builder().isPrefix(true).build()).get();
        }
    }

    @Test
    void unreachableEtcdFailsWithinTheTimeout() {
        int dead = deadPort();
        try (EtcdConfigStore s = new EtcdConfigStore(new EtcdConfig(List.of("http://127.0.0.1:" + dead), "/apisix", 3,
                null, null, null))) {
            long t0 = System.nanoTime();
            StoreException ex = assertThrows(StoreException.class, () -> s.get("/x"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5_000, "took " + ms + " ms");
            assertTrue(ex.getMessage().contains("127.0.0.1:" + dead), ex.getMessage());
        }
    }

    static int deadPort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
