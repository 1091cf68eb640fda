package io.turnpike.config.etcd;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.etcd.testing.EtcdServer;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.source.ConfigListener;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Measures what a full re-list costs the config-sync agent with a large store (issue 14; docs/config-sync.md,
 * "Re-list"): a real etcd loaded with {@code scripts/lib/coldstart_routes.py}, the agent's first list, then
 * {@code cycles} times: watch paused, one route changed, the store compacted past the agent's revision, watch resumed
 * (the agent meets the compaction and lists everything again). Prints each list's phases as the agent timed them.
 * Not a test (no assertions, minutes of run time): run by hand, see docs/config-sync.md for the command.
 *
 * <pre>
 * java -cp CLASSPATH io.turnpike.config.etcd.RelistTiming REPO_ROOT [ROUTES] [CYCLES]
 * </pre>
 */
public final class RelistTiming {
    private RelistTiming() {
    }

    public static void main(String[] args) throws Exception {
        Path repo = Path.of(args.length > 0 ? args[0] : ".");
        int routes = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        int cycles = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String prefix = "/apisix";
        try (EtcdServer etcd = EtcdServer.startNew()) {
            Process load = new ProcessBuilder("python3", repo.resolve("scripts/lib/coldstart_routes.py").toString(),
                    etcd.endpoint(), prefix, Integer.toString(routes), "1980").inheritIO().start();
            if (!load.waitFor(10, TimeUnit.MINUTES) || load.exitValue() != 0) {
                throw new IllegalStateException("loading the routes failed");
            }
            EtcdConfig cfg = new EtcdConfig(List.of(etcd.endpoint()), prefix, 30, null, null, null);
            AtomicReference<ConfigSet> last = new AtomicReference<>();
            try (EtcdConfigStore writer = new EtcdConfigStore(cfg);
                 EtcdConfigStore store = new EtcdConfigStore(cfg);
                 EtcdConfigSource src = new EtcdConfigSource(store)) {
                long t0 = System.nanoTime();
                src.start(new ConfigListener() {
                    @Override
                    public void onConfig(ConfigSet config) {
                        last.set(config);
                    }

                    @Override
                    public void onRejected(List<ConfigProblem> problems) {
                    }
                });
                if (!src.awaitFirstDelivery(5, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("no first delivery");
                }
                long firstNs = System.nanoTime() - t0;
                while (src.lastFullList() == null) { // set just after the delivery
                    Thread.sleep(1);
                }
                report("first list", src, firstNs, last.get());
                for (int c = 1; c <= cycles; c++) {
                    while (!src.isConnected()) {
                        Thread.sleep(10);
                    }
                    src.pauseWatch();
                    while (src.isConnected()) {
                        Thread.sleep(10);
                    }
                    String value = "{\"uri\":\"/relist/" + c + "\",\"upstream\":{\"type\":\"roundrobin\","
                            + "\"nodes\":{\"127.0.0.1:1980\":1}}}";
                    byte[] bytes = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    writer.put(prefix + "/routes/r00000", bytes);
                    long rev = writer.put(prefix + "/routes/r00000", bytes).modRevision();
                    writer.compact(rev); // the agent's watch would resume at the first put: compacted away
                    EtcdConfigSource.FullListTimings before = src.lastFullList();
                    long r0 = System.nanoTime();
                    src.resumeWatch();
                    while (last.get().version() < rev) {
                        Thread.sleep(1);
                    }
                    long wallNs = System.nanoTime() - r0;
                    while (src.lastFullList() == before) {
                        Thread.sleep(1);
                    }
                    report("re-list " + c, src, wallNs, last.get());
                }
            }
        }
    }

    private static void report(String what, EtcdConfigSource src, long wallNs, ConfigSet config) {
        EtcdConfigSource.FullListTimings f = src.lastFullList();
        System.out.printf("%s: %d ms to the delivery of %d routes; keys %d, kept %d; waiting for pages %d ms, "
                        + "parsed and decoded %d ms, validated %d ms, delivery %d ms%n",
                what, TimeUnit.NANOSECONDS.toMillis(wallNs), config.routes().size(), f.keys(), src.keptOnLastList(),
                ms(f.listNs()), ms(f.parseNs()), ms(f.decodeNs()), ms(f.deliverNs()));
    }

    private static long ms(long ns) {
        return TimeUnit.NANOSECONDS.toMillis(ns);
    }
}
