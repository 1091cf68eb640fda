package io.turnpike.bench.propagation;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Config propagation benchmark (issue 4): with N routes loaded, how long from an Admin API write until the data port
 * serves the new route, and what route churn does to the request latency of the routes already there.
 *
 * <ol>
 *   <li><b>Bulk load</b>: N routes (exact, prefix and host routes, see {@link Routes}) through the Admin API with a
 *       few concurrent writers (or straight into etcd with {@code --load-via etcd}), then a sentinel route; once the
 *       sentinel serves, every earlier write is in the gateway's snapshot.</li>
 *   <li><b>Probes</b>: sequentially, PUT {@code /probe/<k>} and poll the data port on a keep-alive connection every
 *       {@code --poll-interval-us} until it answers 200 instead of 404 (timeout {@code --probe-timeout-ms}). Two
 *       times per probe: write acknowledged → served, and PUT sent → served.</li>
 *   <li><b>Churn</b>: a fixed-rate request load on {@code /load} (coordinated-omission corrected, see
 *       {@link FixedRateLoad}): warm-up, then a quiet window, then a window during which {@code --churn-rate} route
 *       writes per second stream in (half new routes, half updates of bulk routes).</li>
 * </ol>
 *
 * <p>Prints a table and writes {@code <out>/propagation-<UTC>.json}. See docs/benchmarks-propagation.md.
 */
public final class PropagationBench {
    static final String FORMAT = "turnpike-propagation/v1";
    static final long HIGHEST_US = 60_000_000L;

    private final Params p;
    private final PrintStream out;
    private final PrintStream log;
    private final Routes routes;
    private final AdminClient admin;
    private final InetSocketAddress data;

    PropagationBench(Params p, PrintStream out, PrintStream log) {
        this.p = p;
        this.out = out;
        this.log = log;
        this.routes = new Routes(p.backend);
        this.admin = new AdminClient(p.admin, p.adminKey, Duration.ofMillis(p.adminTimeoutMs));
        this.data = p.dataAddress();
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Params p;
        try {
            p = Params.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("propagation: " + e.getMessage());
            Params.usage(err);
            return 2;
        }
        if (p.help) {
            Params.usage(out);
            return 0;
        }
        try {
            return new PropagationBench(p, out, err).execute(String.join(" ", args));
        } catch (Exception e) {
            err.println("propagation: error: " + e);
            if (e.getCause() != null) {
                err.println("propagation:   caused by " + e.getCause());
            }
            return 3;
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    int execute(String commandLine) throws Exception {
        Instant startedAt = Instant.now();
        String loadavgStart = readFirstLine("/proc/loadavg");
        ObjectNode json = MAPPER.createObjectNode();
        json.put("format", FORMAT);
        json.put("generated_at", DateTimeFormatter.ISO_INSTANT.format(startedAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        json.put("command", commandLine);
        json.set("environment", environment(loadavgStart));
        json.set("parameters", p.toJson());
        ObjectNode results = json.putObject("results");

        if (p.status != null) {
            waitReady(p.status, p.readyTimeoutS);
        }
        // The route the load runs against, first: it also proves the Admin API and its key work.
        AdminClient.Result r = admin.put("routes", Routes.LOAD_ID, routes.exact(Routes.LOAD_PATH));
        if (!r.ok()) {
            throw new IOException("PUT routes/" + Routes.LOAD_ID + " answered " + r.status() + ": " + r.body());
        }

        ObjectNode bulk = bulkLoad();
        results.set("bulk_load", bulk);
        ObjectNode probes = probes();
        results.set("propagation", probes);
        ObjectNode churn = churn();
        results.set("churn", churn);
        ObjectNode verdicts = verdicts(probes, churn);
        results.set("targets", verdicts);

        printTable(bulk, probes, churn, verdicts);

        Path dir = Path.of(p.outDir);
        Files.createDirectories(dir);
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(startedAt);
        Path file = dir.resolve("propagation-" + stamp + ".json");
        for (int n = 2; Files.exists(file); n++) {
            file = dir.resolve("propagation-" + stamp + "-" + n + ".json");
        }
        Files.writeString(file, MAPPER.writeValueAsString(json) + "\n");
        out.println("JSON: " + file);
        boolean pass = verdicts.path("all_pass").asBoolean(false);
        return p.strict && !pass ? 1 : 0;
    }

    // --- phase 1: bulk load --------------------------------------------------------------------------------------

    private ObjectNode bulkLoad() throws Exception {
        ObjectNode o = MAPPER.createObjectNode();
        int n = p.routes;
        o.put("routes", n);
        o.put("via", p.loadVia);
        log.printf("propagation: loading %,d routes via %s%n", n, p.loadVia);
        long t0 = System.nanoTime();
        AtomicLong failures = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        if (p.loadVia.equals("etcd")) {
            o.put("etcd_txn_ops", EtcdLoader.TXN_OPS);
            try (EtcdLoader loader = new EtcdLoader(p.etcd, p.etcdPrefix)) {
                loader.loadBulk(routes, 0, n);
            }
        } else {
            o.put("writers", p.loadWriters);
            AtomicInteger next = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < p.loadWriters; w++) {
                Thread t = new Thread(() -> {
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        boolean ok = false;
                        String why = null;
                        for (int attempt = 0; attempt < 3 && !ok; attempt++) {
                            try {
                                AdminClient.Result res = admin.put("routes", Routes.bulkId(i), routes.bulk(i, null));
                                ok = res.ok();
                                if (!ok) {
                                    why = "HTTP " + res.status() + " " + res.body();
                                }
                            } catch (IOException e) {
                                why = e.toString();
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                        if (!ok) {
                            failures.incrementAndGet();
                            firstFailure.compareAndSet(null, Routes.bulkId(i) + ": " + why);
                        }
                        done.incrementAndGet();
                    }
                }, "bulk-writer-" + w);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
            long lastReport = t0;
            for (Thread t : threads) {
                while (t.isAlive()) {
                    t.join(1000);
                    long now = System.nanoTime();
                    if (now - lastReport > 5_000_000_000L) {
                        lastReport = now;
                        log.printf("propagation:   %,d / %,d written (%.0f/s)%n", done.get(), n,
                                done.get() / ((now - t0) / 1e9));
                    }
                }
            }
        }
        long written = System.nanoTime();
        o.put("failed_writes", failures.get());
        if (firstFailure.get() != null) {
            o.put("first_failure", firstFailure.get());
            log.println("propagation: WARNING: " + failures.get() + " bulk writes failed; first: " + firstFailure.get());
        }
        double writeS = (written - t0) / 1e9;
        o.put("write_s", round(writeS));
        o.put("writes_per_s", Math.round(n / writeS));

        if (p.consumers > 0 || p.probeKind.equals("consumer")) {
            AdminClient.Result ka = admin.put("routes", "ka-probe", routes.keyAuth(KEY_AUTH_PATH));
            if (!ka.ok()) {
                throw new IOException("PUT routes/ka-probe answered " + ka.status() + ": " + ka.body());
            }
        }
        if (p.consumers > 0) {
            long c0 = System.nanoTime();
            if (p.loadVia.equals("etcd")) {
                try (EtcdLoader loader = new EtcdLoader(p.etcd, p.etcdPrefix)) {
                    loader.loadConsumers(p.consumers);
                }
            } else {
                for (int i = 0; i < p.consumers; i++) {
                    String name = EtcdLoader.consumerName(i);
                    AdminClient.Result res = admin.putCollection("consumers", EtcdLoader.consumer(name, "bk" + i));
                    if (!res.ok()) {
                        throw new IOException("PUT consumers (" + name + ") answered " + res.status() + ": " + res.body());
                    }
                }
            }
            o.put("consumers", p.consumers);
            o.put("consumers_write_s", round((System.nanoTime() - c0) / 1e9));
            log.printf("propagation: %,d consumers written in %.1f s%n", p.consumers, (System.nanoTime() - c0) / 1e9);
        }

        // Sentinel: written after everything else; once it serves, the snapshot holds every earlier write.
        long sendNs = System.nanoTime();
        AdminClient.Result r = admin.put("routes", Routes.SENTINEL_ID, routes.exact(Routes.SENTINEL_PATH));
        long ackNs = System.nanoTime();
        if (!r.ok()) {
            throw new IOException("PUT routes/" + Routes.SENTINEL_ID + " answered " + r.status() + ": " + r.body());
        }
        Poller poller = new Poller(1);
        long served = poller.pollUntilServed(DataClient.request(Routes.SENTINEL_PATH, Routes.DEFAULT_HOST),
                ackNs + p.readyTimeoutS * 1_000_000_000L, 1_000_000L);
        poller.close();
        if (served < 0) {
            throw new IOException("the gateway did not serve " + Routes.SENTINEL_PATH + " within " + p.readyTimeoutS
                    + " s of the bulk load (" + poller.describe() + ")");
        }
        o.put("total_s", round((served - t0) / 1e9));
        o.put("sentinel_ack_to_served_ms", round((served - ackNs) / 1e6));
        o.put("sentinel_send_to_served_ms", round((served - sendNs) / 1e6));
        log.printf("propagation: %,d routes written in %.1f s (%,d/s); sentinel served %.1f ms after its ack%n",
                n, writeS, Math.round(n / writeS), (served - ackNs) / 1e6);

        // Spot check: a sample of bulk routes of every kind answers 200 (and so does /load).
        Random rnd = new Random(42);
        int checked = 0;
        int bad = 0;
        List<String> badSamples = new ArrayList<>();
        try (DataClient c = new DataClient(data, 5000)) {
            List<Integer> sample = new ArrayList<>(List.of(0, n - 1, Math.min(n - 1, 14), Math.min(n - 1, 17)));
            for (int k = 0; k < 60 && n > 0; k++) {
                sample.add(rnd.nextInt(n));
            }
            for (int i : sample) {
                int st;
                try {
                    st = c.exchange(DataClient.request(Routes.bulkPath(i), Routes.bulkHost(i)));
                } catch (IOException e) {
                    st = -1;
                }
                checked++;
                if (st != 200) {
                    bad++;
                    if (badSamples.size() < 5) {
                        badSamples.add(Routes.bulkHost(i) + Routes.bulkPath(i) + " -> " + st);
                    }
                }
            }
            int st;
            try {
                st = c.exchange(DataClient.request(Routes.LOAD_PATH, Routes.DEFAULT_HOST));
            } catch (IOException e) {
                st = -1;
            }
            checked++;
            if (st != 200) {
                bad++;
                badSamples.add(Routes.LOAD_PATH + " -> " + st);
            }
        }
        o.put("spot_checked", checked);
        o.put("spot_check_failures", bad);
        if (bad > 0) {
            o.putPOJO("spot_check_failure_samples", badSamples);
            log.println("propagation: WARNING: " + bad + " of " + checked + " spot-checked routes did not answer 200: "
                    + badSamples);
        }
        return o;
    }

    /** Makes probe keys unique per run (consumers of an earlier run on the same etcd keep theirs). */
    private static final long RUN_TAG = System.currentTimeMillis() / 1000;

    /** The key-auth route the consumer probes poll. */
    static final String KEY_AUTH_PATH = "/ka/probe";

    // --- phase 2: probes -----------------------------------------------------------------------------------------

    private ObjectNode probes() throws Exception {
        Histogram ackToServed = new Histogram(HIGHEST_US, 3);
        Histogram sendToServed = new Histogram(HIGHEST_US, 3);
        Histogram putAck = new Histogram(HIGHEST_US, 3);
        int timeouts = 0;
        int writeFailures = 0;
        long servedAtFirstPoll = 0;
        long polls = 0;
        Poller poller = new Poller(p.pollConns);
        long intervalNs = p.pollIntervalUs * 1000L;
        int total = p.warmupProbes + p.probes;
        log.printf("propagation: %d warm-up + %d measured probes%n", p.warmupProbes, p.probes);
        for (int k = 0; k < total; k++) {
            boolean measured = k >= p.warmupProbes;
            String id = measured ? "probe-" + (k - p.warmupProbes) : "probe-w" + k;
            String path = "/" + id.replace('-', '/');
            boolean consumerProbe = p.probeKind.equals("consumer");
            String key = "pk-" + id + "-" + RUN_TAG;
            byte[] req = consumerProbe ? DataClient.request(KEY_AUTH_PATH, Routes.DEFAULT_HOST, "apikey: " + key)
                    : DataClient.request(path, Routes.DEFAULT_HOST);
            long send = System.nanoTime();
            AdminClient.Result r;
            try {
                r = consumerProbe
                        ? admin.putCollection("consumers", EtcdLoader.consumer(id.replace('-', '_'), key))
                        : admin.put("routes", id, routes.exact(path));
            } catch (IOException e) {
                r = new AdminClient.Result(-1, e.toString());
            }
            long ack = System.nanoTime();
            if (!r.ok()) {
                if (measured) {
                    writeFailures++;
                }
                log.println("propagation: probe " + id + ": PUT answered " + r.status() + ": " + r.body());
                continue;
            }
            long pollsBefore = poller.polls;
            long served = poller.pollUntilServed(req, ack + p.probeTimeoutMs * 1_000_000L, intervalNs);
            if (!measured) {
                continue;
            }
            polls += poller.polls - pollsBefore;
            putAck.recordValue(Math.min(HIGHEST_US, (ack - send) / 1000));
            if (served < 0) {
                timeouts++;
                log.println("propagation: probe " + id + ": not served within " + p.probeTimeoutMs + " ms");
            } else {
                if (poller.polls - pollsBefore == p.pollConns) {
                    servedAtFirstPoll++;
                }
                ackToServed.recordValue(Math.min(HIGHEST_US, (served - ack) / 1000));
                sendToServed.recordValue(Math.min(HIGHEST_US, (served - send) / 1000));
            }
            if (p.probeGapMs > 0) {
                Thread.sleep(p.probeGapMs);
            }
        }
        poller.close();
        ObjectNode o = MAPPER.createObjectNode();
        o.put("probes", p.probes);
        o.put("warmup_probes", p.warmupProbes);
        o.put("timeouts", timeouts);
        o.put("write_failures", writeFailures);
        o.put("served_at_first_poll", servedAtFirstPoll);
        o.put("polls", polls);
        o.put("poll_errors", poller.errors);
        o.put("poll_unexpected_status", poller.unexpected);
        o.set("ack_to_served", hist(ackToServed));
        o.set("send_to_served", hist(sendToServed));
        o.set("put_ack", hist(putAck));
        return o;
    }

    /** Polls the data port on one or more keep-alive connections until each has answered 200 once. */
    private final class Poller implements AutoCloseable {
        final DataClient[] clients;
        final boolean[] served;
        long polls;
        long errors;
        long unexpected;
        String lastProblem = "";

        Poller(int conns) {
            clients = new DataClient[conns];
            served = new boolean[conns];
            for (int i = 0; i < conns; i++) {
                clients[i] = new DataClient(data, 2000);
            }
        }

        /** Returns the System.nanoTime when the last connection got its 200, or -1 past the deadline. */
        long pollUntilServed(byte[] req, long deadline, long intervalNs) {
            java.util.Arrays.fill(served, false);
            int remaining = clients.length;
            long next = System.nanoTime();
            while (true) {
                for (int i = 0; i < clients.length; i++) {
                    if (served[i]) {
                        continue;
                    }
                    polls++;
                    try {
                        int st = clients[i].exchange(req);
                        if (st == 200) {
                            served[i] = true;
                            remaining--;
                        } else if (st != 404) {
                            unexpected++;
                            lastProblem = "HTTP " + st;
                        }
                    } catch (IOException e) {
                        errors++;
                        lastProblem = e.toString();
                    }
                }
                long now = System.nanoTime();
                if (remaining == 0) {
                    return now;
                }
                if (now - deadline > 0) {
                    return -1;
                }
                next += intervalNs;
                if (next - now > 0) {
                    LockSupport.parkNanos(next - now);
                } else {
                    next = now;
                }
            }
        }

        String describe() {
            return polls + " polls, " + errors + " errors, " + unexpected + " unexpected statuses"
                    + (lastProblem.isEmpty() ? "" : ", last: " + lastProblem);
        }

        @Override
        public void close() {
            for (DataClient c : clients) {
                c.close();
            }
        }
    }

    // --- phase 3: latency under churn ----------------------------------------------------------------------------

    private ObjectNode churn() throws Exception {
        int warm = p.warmupS;
        int quiet = p.quietS;
        int churnS = p.churnS;
        int seconds = warm + quiet + churnS;
        log.printf("propagation: load %d req/s on %s over %d connections: %d s warm-up, %d s quiet, %d s with %d route"
                + " writes/s%n", p.rate, Routes.LOAD_PATH, p.conns, warm, quiet, churnS, p.churnRate);
        FixedRateLoad load = new FixedRateLoad(data, Routes.LOAD_PATH, Routes.DEFAULT_HOST, p.rate, p.conns, seconds,
                p.requestTimeoutMs);
        long t0 = System.nanoTime() + 200_000_000L;
        load.start(t0);

        long churnStart = t0 + (warm + quiet) * 1_000_000_000L;
        long churnEnd = churnStart + churnS * 1_000_000_000L;
        Histogram writeAck = new Histogram(HIGHEST_US, 3);
        long[] writes = new long[3]; // ok, failed, late (> 50 ms behind schedule)
        List<String> writeErrors = new ArrayList<>();
        // --churn-admin: a control run; the same writes through another Admin API (another etcd prefix), which the
        // gateway does not watch: the same work on the load side, none on the gateway.
        AdminClient churnAdmin = p.churnAdmin == null ? admin
                : new AdminClient(p.churnAdmin, p.adminKey, Duration.ofMillis(p.adminTimeoutMs));
        Thread writer = new Thread(() -> {
            Random rnd = new Random(7);
            double interval = 1e9 / p.churnRate;
            for (long j = 0; ; j++) {
                long intended = churnStart + (long) (j * interval);
                if (intended >= churnEnd) {
                    break;
                }
                long now;
                while ((now = System.nanoTime()) < intended) {
                    LockSupport.parkNanos(intended - now);
                }
                if (now - intended > 50_000_000L) {
                    writes[2]++;
                }
                String id;
                String body;
                if ((j & 1) == 0 || p.routes == 0) {
                    id = "churn-" + j;
                    body = routes.exact("/churn/" + j);
                } else {
                    int i = rnd.nextInt(p.routes);
                    id = Routes.bulkId(i);
                    body = routes.bulk(i, "churn " + j);
                }
                long send = System.nanoTime();
                try {
                    AdminClient.Result r = churnAdmin.put("routes", id, body);
                    writeAck.recordValue(Math.min(HIGHEST_US, (System.nanoTime() - send) / 1000));
                    if (r.ok()) {
                        writes[0]++;
                    } else {
                        writes[1]++;
                        if (writeErrors.size() < 5) {
                            writeErrors.add(id + ": HTTP " + r.status() + " " + r.body());
                        }
                    }
                } catch (IOException e) {
                    writes[1]++;
                    if (writeErrors.size() < 5) {
                        writeErrors.add(id + ": " + e);
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "churn-writer");
        writer.setDaemon(true);
        if (churnS > 0 && p.churnRate > 0) {
            writer.start();
        }
        load.join();
        writer.join(10_000);

        ObjectNode o = MAPPER.createObjectNode();
        o.put("rate", p.rate);
        o.put("connections", p.conns);
        o.put("warmup_s", warm);
        o.set("quiet", phase(load, warm, warm + quiet, quiet));
        ObjectNode c = phase(load, warm + quiet, seconds, churnS);
        c.put("writes_per_s", p.churnRate);
        c.put("writes_ok", writes[0]);
        c.put("writes_failed", writes[1]);
        c.put("writes_late", writes[2]);
        c.set("write_ack", hist(writeAck));
        if (!writeErrors.isEmpty()) {
            c.putPOJO("write_error_samples", writeErrors);
        }
        o.set("churn", c);
        o.put("warmup_errors", load.errors(0, warm) + load.non2xx(0, warm));
        o.put("reconnects", load.reconnects());
        List<String> samples = load.errorSamples();
        if (!samples.isEmpty()) {
            o.putPOJO("error_samples", samples);
        }
        ArrayNode perSecond = o.putArray("per_second");
        for (int s = warm; s < seconds; s++) {
            Histogram h = load.histogram(s, s + 1);
            ObjectNode row = perSecond.addObject();
            row.put("second", s - warm);
            row.put("phase", s < warm + quiet ? "quiet" : "churn");
            row.put("requests", h.getTotalCount());
            row.put("errors", load.errors(s, s + 1) + load.non2xx(s, s + 1));
            row.put("p50_ms", ms(h.getValueAtPercentile(50)));
            row.put("p99_ms", ms(h.getValueAtPercentile(99)));
            row.put("max_ms", ms(h.getMaxValue()));
        }
        return o;
    }

    private ObjectNode phase(FixedRateLoad load, int from, int to, int seconds) {
        Histogram h = load.histogram(from, to);
        ObjectNode o = hist(h);
        o.put("seconds", seconds);
        o.put("errors", load.errors(from, to));
        o.put("non2xx", load.non2xx(from, to));
        double worst = 0;
        for (int s = from; s < to; s++) {
            worst = Math.max(worst, ms(load.histogram(s, s + 1).getValueAtPercentile(99)));
        }
        o.put("worst_1s_p99_ms", worst);
        o.put("achieved_rps", seconds > 0 ? Math.round(h.getTotalCount() / (double) seconds) : 0);
        return o;
    }

    // --- verdicts, table -----------------------------------------------------------------------------------------

    private ObjectNode verdicts(ObjectNode probes, ObjectNode churn) {
        ObjectNode o = MAPPER.createObjectNode();
        double p99 = probes.path("send_to_served").path("p99_ms").asDouble();
        long probeProblems = probes.path("timeouts").asLong() + probes.path("write_failures").asLong();
        boolean propOk = probeProblems == 0 && probes.path("send_to_served").path("count").asLong() > 0
                && p99 < p.targetP99Ms;
        ObjectNode prop = o.putObject("propagation_p99");
        prop.put("target", "PUT sent -> served p99 < " + p.targetP99Ms + " ms, no probe timeout"
                + " (the issue sets it at 50,000 routes)");
        prop.put("value_ms", p99);
        prop.put("pass", propOk);

        ObjectNode q = (ObjectNode) churn.path("quiet");
        ObjectNode c = (ObjectNode) churn.path("churn");
        long errors = q.path("errors").asLong() + q.path("non2xx").asLong() + c.path("errors").asLong()
                + c.path("non2xx").asLong();
        ObjectNode err = o.putObject("no_request_errors");
        err.put("target", "no request error (socket error or non-2xx) in the quiet and churn windows");
        err.put("value", errors);
        err.put("pass", errors == 0);

        double qp99 = q.path("p99_ms").asDouble();
        double cp99 = c.path("p99_ms").asDouble();
        double ratio = qp99 > 0 ? cp99 / qp99 : Double.NaN;
        ObjectNode spike = o.putObject("churn_p99_vs_quiet");
        spike.put("target", "churn p99 <= " + p.spikeFactor + " x quiet p99");
        spike.put("quiet_p99_ms", qp99);
        spike.put("churn_p99_ms", cp99);
        spike.put("ratio", round(ratio));
        spike.put("worst_1s_p99_ratio", round(qp99 > 0 ? c.path("worst_1s_p99_ms").asDouble() / qp99 : Double.NaN));
        spike.put("pass", ratio <= p.spikeFactor);
        o.put("all_pass", propOk && errors == 0 && ratio <= p.spikeFactor);
        return o;
    }

    private void printTable(ObjectNode bulk, ObjectNode probes, ObjectNode churn, ObjectNode v) {
        out.println();
        out.printf(Locale.ROOT, "Propagation benchmark: %,d routes (loaded via %s in %.1f s, %,d writes/s; sentinel"
                        + " served %.1f ms after its ack; spot check %d/%d ok)%n",
                bulk.path("routes").asInt(), bulk.path("via").asText(), bulk.path("write_s").asDouble(),
                bulk.path("writes_per_s").asLong(), bulk.path("sentinel_ack_to_served_ms").asDouble(),
                bulk.path("spot_checked").asInt() - bulk.path("spot_check_failures").asInt(),
                bulk.path("spot_checked").asInt());
        out.printf(Locale.ROOT, "%-26s %6s %9s %9s %9s %9s %9s %9s%n", "probe (" + p.pollIntervalUs + " µs polls)",
                "n", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "timeouts");
        for (String[] row : new String[][] {{"write ack -> served", "ack_to_served"},
                {"PUT sent -> served", "send_to_served"}, {"Admin PUT ack", "put_ack"}}) {
            ObjectNode h = (ObjectNode) probes.path(row[1]);
            out.printf(Locale.ROOT, "%-26s %6d %9.2f %9.2f %9.2f %9.2f %9.2f %9s%n", row[0], h.path("count").asLong(),
                    h.path("p50_ms").asDouble(), h.path("p90_ms").asDouble(), h.path("p99_ms").asDouble(),
                    h.path("p999_ms").asDouble(), h.path("max_ms").asDouble(),
                    row[1].equals("put_ack") ? "" : String.valueOf(probes.path("timeouts").asInt()));
        }
        out.println();
        out.printf(Locale.ROOT, "Request latency on %s at %d req/s offered (CO-corrected), %d connections:%n",
                Routes.LOAD_PATH, p.rate, p.conns);
        out.printf(Locale.ROOT, "%-26s %8s %7s %9s %9s %9s %9s %12s%n", "window", "requests", "errors", "p50 ms",
                "p99 ms", "p99.9 ms", "max ms", "worst 1s p99");
        for (String[] row : new String[][] {{"quiet " + p.quietS + " s", "quiet"},
                {"churn " + p.churnS + " s (" + p.churnRate + " w/s)", "churn"}}) {
            ObjectNode h = (ObjectNode) churn.path(row[1]);
            out.printf(Locale.ROOT, "%-26s %8d %7d %9.3f %9.3f %9.3f %9.3f %12.3f%n", row[0], h.path("count").asLong(),
                    h.path("errors").asLong() + h.path("non2xx").asLong(), h.path("p50_ms").asDouble(),
                    h.path("p99_ms").asDouble(), h.path("p999_ms").asDouble(), h.path("max_ms").asDouble(),
                    h.path("worst_1s_p99_ms").asDouble());
        }
        ObjectNode c = (ObjectNode) churn.path("churn");
        out.printf(Locale.ROOT, "churn writes: %d ok, %d failed, %d late; Admin PUT ack p50 %.2f ms, p99 %.2f ms%n",
                c.path("writes_ok").asLong(), c.path("writes_failed").asLong(), c.path("writes_late").asLong(),
                c.path("write_ack").path("p50_ms").asDouble(), c.path("write_ack").path("p99_ms").asDouble());
        out.println();
        out.printf(Locale.ROOT, "target propagation p99 < %d ms: %s (%.2f ms)%n", p.targetP99Ms,
                pf(v.path("propagation_p99").path("pass")), v.path("propagation_p99").path("value_ms").asDouble());
        out.printf(Locale.ROOT, "target no request errors:     %s (%d)%n", pf(v.path("no_request_errors").path("pass")),
                v.path("no_request_errors").path("value").asLong());
        out.printf(Locale.ROOT, "target churn p99 <= %.1fx quiet: %s (%.2fx; worst second %.2fx)%n", p.spikeFactor,
                pf(v.path("churn_p99_vs_quiet").path("pass")), v.path("churn_p99_vs_quiet").path("ratio").asDouble(),
                v.path("churn_p99_vs_quiet").path("worst_1s_p99_ratio").asDouble());
    }

    private static String pf(com.fasterxml.jackson.databind.JsonNode n) {
        return n.asBoolean(false) ? "PASS" : "FAIL";
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    static ObjectNode hist(Histogram h) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("count", h.getTotalCount());
        o.put("p50_ms", ms(h.getValueAtPercentile(50)));
        o.put("p90_ms", ms(h.getValueAtPercentile(90)));
        o.put("p99_ms", ms(h.getValueAtPercentile(99)));
        o.put("p999_ms", ms(h.getValueAtPercentile(99.9)));
        o.put("max_ms", ms(h.getMaxValue()));
        o.put("mean_ms", h.getTotalCount() == 0 ? 0 : round(h.getMean() / 1000.0));
        return o;
    }

    static double ms(long us) {
        return Math.round(us) / 1000.0;
    }

    static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1000.0) / 1000.0 : v;
    }

    private void waitReady(String url, int timeoutS) throws Exception {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeoutS * 1_000_000_000L;
        String last = "";
        while (System.nanoTime() - deadline < 0) {
            try {
                HttpResponse<Void> r = c.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2))
                        .GET().build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IOException(url + " not ready after " + timeoutS + " s (" + last + ")");
    }

    private ObjectNode environment(String loadavg) {
        ObjectNode o = MAPPER.createObjectNode();
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown";
        }
        o.put("hostname", host);
        o.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        o.put("cpu_model", cpuModel());
        o.put("nproc_online", onlineCpus());
        o.put("bench_available_processors", Runtime.getRuntime().availableProcessors());
        o.put("bench_java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        o.put("loadavg_start", loadavg);
        for (Map.Entry<String, String> e : p.env.entrySet()) {
            o.put(e.getKey(), e.getValue());
        }
        return o;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return "unknown";
    }

    private static int onlineCpus() {
        try (var s = Files.list(Path.of("/sys/devices/system/cpu"))) {
            return (int) s.filter(f -> f.getFileName().toString().matches("cpu[0-9]+")).count();
        } catch (IOException e) {
            return -1;
        }
    }

    private static String readFirstLine(String file) {
        try {
            List<String> lines = Files.readAllLines(Path.of(file));
            return lines.isEmpty() ? "" : lines.get(0).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    // --- parameters ----------------------------------------------------------------------------------------------

    static final class Params {
        String admin;
        String adminKey = "";
        /** Where the churn writes go; null: {@link #admin}. */
        String churnAdmin;
        String data;
        String backend;
        String status;
        String etcd;
        String etcdPrefix = "/apisix";
        String loadVia = "admin";
        int routes = 10_000;
        /** Consumers with key-auth keys loaded beside the routes (0: none). */
        int consumers = 0;
        /** What a probe writes: {@code route} (a new route) or {@code consumer} (a new consumer's key on a key-auth route). */
        String probeKind = "route";
        int loadWriters = 4;
        int probes = 200;
        int warmupProbes = 10;
        int probeGapMs = 10;
        int pollIntervalUs = 500;
        int probeTimeoutMs = 5000;
        int pollConns = 1;
        int rate = 2000;
        int conns = 8;
        int warmupS = 5;
        int quietS = 20;
        int churnS = 20;
        int churnRate = 20;
        int requestTimeoutMs = 2000;
        int adminTimeoutMs = 10_000;
        int readyTimeoutS = 300;
        int targetP99Ms = 100;
        double spikeFactor = 2.0;
        String outDir = "perf-reports/results";
        boolean strict;
        boolean help;
        final Map<String, String> env = new LinkedHashMap<>();

        static void usage(PrintStream s) {
            s.println("usage: java -cp benchmarks.jar io.turnpike.bench.propagation.PropagationBench \\");
            s.println("         --admin http://127.0.0.1:9180 --admin-key KEY --data 127.0.0.1:9080 \\");
            s.println("         --backend 127.0.0.1:8080 [options]");
            s.println("  --status URL            wait until it answers 200 first (e.g. http://127.0.0.1:P/status/ready)");
            s.println("  --routes N              bulk routes to load (default 10000)");
            s.println("  --consumers N           consumers with key-auth keys to load beside them (default 0)");
            s.println("  --probe-kind K          route (default): each probe PUTs a new route; consumer: each probe PUTs a");
            s.println("                          new consumer and polls a key-auth route with its key until it is served");
            s.println("  --load-via admin|etcd   how to load them (default admin; etcd needs --etcd)");
            s.println("  --load-writers N        concurrent Admin API writers for the bulk load (default 4)");
            s.println("  --etcd URL --etcd-prefix P   etcd endpoint and prefix for --load-via etcd (default /apisix)");
            s.println("  --probes N              measured probe writes (default 200); --warmup-probes N (default 10)");
            s.println("  --poll-interval-us N    data-port poll period (default 500); --probe-timeout-ms N (default 5000)");
            s.println("  --poll-conns N          poll on N connections, served when each saw 200 (default 1)");
            s.println("  --probe-gap-ms N        pause between probes (default 10)");
            s.println("  --rate N --conns N      fixed-rate load: requests/s and connections (default 2000, 8)");
            s.println("  --warmup-s N --quiet-s N --churn-s N   load windows in seconds (default 5, 20, 20)");
            s.println("  --churn-rate N          route writes per second during the churn window (default 20)");
            s.println("  --churn-admin URL       send the churn writes to this Admin API instead (a control run: an");
            s.println("                          Admin API on another etcd prefix, so the gateway sees none of them)");
            s.println("  --target-p99-ms N       propagation target (default 100); --spike-factor X (default 2.0)");
            s.println("  --out DIR               where propagation-<UTC>.json goes (default perf-reports/results)");
            s.println("  --env KEY=VALUE         extra environment facts recorded in the JSON (repeatable)");
            s.println("  --strict                exit 1 when a target is missed");
        }

        static Params parse(String[] args) {
            Params p = new Params();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    p.help = true;
                    continue;
                }
                if (a.equals("--strict")) {
                    p.strict = true;
                    continue;
                }
                String name = a;
                String value;
                int eq = a.indexOf('=');
                if (a.startsWith("--") && eq > 0 && !a.startsWith("--env")) {
                    name = a.substring(0, eq);
                    value = a.substring(eq + 1);
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    value = args[++i];
                }
                switch (name) {
                    case "--admin" -> p.admin = value;
                    case "--admin-key" -> p.adminKey = value;
                    case "--churn-admin" -> p.churnAdmin = value;
                    case "--data" -> p.data = value;
                    case "--backend" -> p.backend = value;
                    case "--status" -> p.status = value;
                    case "--etcd" -> p.etcd = value;
                    case "--etcd-prefix" -> p.etcdPrefix = value;
                    case "--load-via" -> p.loadVia = value;
                    case "--routes" -> p.routes = nonNegative(name, value);
                    case "--consumers" -> p.consumers = nonNegative(name, value);
                    case "--probe-kind" -> {
                        if (!value.equals("route") && !value.equals("consumer")) {
                            throw new IllegalArgumentException("--probe-kind: route or consumer");
                        }
                        p.probeKind = value;
                    }
                    case "--load-writers" -> p.loadWriters = positive(name, value);
                    case "--probes" -> p.probes = positive(name, value);
                    case "--warmup-probes" -> p.warmupProbes = nonNegative(name, value);
                    case "--probe-gap-ms" -> p.probeGapMs = nonNegative(name, value);
                    case "--poll-interval-us" -> p.pollIntervalUs = nonNegative(name, value);
                    case "--probe-timeout-ms" -> p.probeTimeoutMs = positive(name, value);
                    case "--poll-conns" -> p.pollConns = positive(name, value);
                    case "--rate" -> p.rate = positive(name, value);
                    case "--conns" -> p.conns = positive(name, value);
                    case "--warmup-s" -> p.warmupS = nonNegative(name, value);
                    case "--quiet-s" -> p.quietS = positive(name, value);
                    case "--churn-s" -> p.churnS = positive(name, value);
                    case "--churn-rate" -> p.churnRate = positive(name, value);
                    case "--request-timeout-ms" -> p.requestTimeoutMs = positive(name, value);
                    case "--admin-timeout-ms" -> p.adminTimeoutMs = positive(name, value);
                    case "--ready-timeout-s" -> p.readyTimeoutS = positive(name, value);
                    case "--target-p99-ms" -> p.targetP99Ms = positive(name, value);
                    case "--spike-factor" -> p.spikeFactor = Double.parseDouble(value);
                    case "--out" -> p.outDir = value;
                    case "--env" -> {
                        int e = value.indexOf('=');
                        if (e <= 0) {
                            throw new IllegalArgumentException("--env needs KEY=VALUE, got '" + value + "'");
                        }
                        p.env.put(value.substring(0, e), value.substring(e + 1));
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (p.help) {
                return p;
            }
            if (p.admin == null || p.data == null || p.backend == null) {
                throw new IllegalArgumentException("--admin, --data and --backend are required");
            }
            if (!p.loadVia.equals("admin") && !p.loadVia.equals("etcd")) {
                throw new IllegalArgumentException("--load-via must be admin or etcd");
            }
            if (p.loadVia.equals("etcd") && p.etcd == null) {
                throw new IllegalArgumentException("--load-via etcd needs --etcd URL");
            }
            p.dataAddress();
            return p;
        }

        InetSocketAddress dataAddress() {
            int colon = data.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--data must be HOST:PORT, got '" + data + "'");
            }
            return new InetSocketAddress(data.substring(0, colon), Integer.parseInt(data.substring(colon + 1)));
        }

        private static int positive(String name, String v) {
            int n = nonNegative(name, v);
            if (n == 0) {
                throw new IllegalArgumentException(name + " must be > 0");
            }
            return n;
        }

        private static int nonNegative(String name, String v) {
            try {
                int n = Integer.parseInt(v.replace("_", "").replace(",", ""));
                if (n < 0) {
                    throw new IllegalArgumentException(name + " must be >= 0");
                }
                return n;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(name + ": not a number: '" + v + "'");
            }
        }

        ObjectNode toJson() {
            ObjectNode o = MAPPER.createObjectNode();
            o.put("routes", routes);
            o.put("consumers", consumers);
            o.put("probe_kind", probeKind);
            o.put("load_via", loadVia);
            o.put("load_writers", loadWriters);
            o.put("admin", admin);
            o.put("data", data);
            o.put("backend", backend);
            if (etcd != null) {
                o.put("etcd", etcd);
                o.put("etcd_prefix", etcdPrefix);
            }
            o.put("probes", probes);
            o.put("warmup_probes", warmupProbes);
            o.put("probe_gap_ms", probeGapMs);
            o.put("poll_interval_us", pollIntervalUs);
            o.put("poll_conns", pollConns);
            o.put("probe_timeout_ms", probeTimeoutMs);
            o.put("rate", rate);
            o.put("connections", conns);
            o.put("warmup_s", warmupS);
            o.put("quiet_s", quietS);
            o.put("churn_s", churnS);
            o.put("churn_rate", churnRate);
            o.put("request_timeout_ms", requestTimeoutMs);
            o.put("target_p99_ms", targetP99Ms);
            o.put("spike_factor", spikeFactor);
            o.put("route_mix", "70% exact /bulk/<i>, 15% prefix /bulkp/<i>/*, 15% hosts [h<i>.bulk.test] + /bulk/<i>;"
                    + " inline roundrobin upstream to the backend");
            return o;
        }
    }
}
