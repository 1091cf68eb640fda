package io.turnpike.bench.load;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Open-loop HTTP/1.1 load at a fixed rate, with latency corrected for coordinated omission (the wrk2 model), for
 * {@code scripts/bench.sh --rate}.
 *
 * <p>Request {@code n} is due at {@code t0 + n / rate} and goes to keep-alive connection {@code n % conns}, one
 * request in flight per connection (no pipelining). A scheduler thread sleeps until the next due time and writes
 * the request; if that connection is still waiting for its previous answer, the request is queued on it and sent
 * the moment the answer arrives. Either way its latency is measured <em>from the time it was due</em>
 * ({@code recordValue(done - intended)}), so a server stall shows as the latency of every request that should
 * have been sent during it, not only of the one that was waiting: no coordinated omission. One selector thread
 * reads the answers. Two threads in all, so it fits on the one load core next to the backend.
 *
 * <p>The run is {@code --warmup} seconds (sent, not recorded) then {@code --duration} seconds: the requests due in
 * that window are recorded. With {@code --cpu-pids}, utime+stime of those processes is read from {@code /proc} at
 * the window's start and end. Prints one line {@code FIXED_RATE_JSON {...}} on stdout (times in microseconds):
 * {@code p50_us}... corrected, {@code uncorrected_*} from the actual send (what a closed-loop tool shows), and
 * {@code send_lag_*}, how late the generator itself sent requests (its own timer and scheduling noise: a floor
 * under every corrected figure).
 *
 * <pre>
 * java -cp benchmarks.jar io.turnpike.bench.load.FixedRateLoad --url http://127.0.0.1:8080/ --rate 20000 \
 *      --conns 64 --warmup 3 --duration 10 [--timeout-ms 5000] [--tick-us 250] [--cpu-pids 123,124]
 * </pre>
 */
public final class FixedRateLoad {

    private static final long NS = 1_000_000_000L;
    /** Latencies above this are recorded as this (60 s): far above any timeout used. */
    private static final long MAX_TRACKABLE_NS = TimeUnit.SECONDS.toNanos(60);

    private final InetSocketAddress address;
    private final byte[] request;
    private final long rate;
    private final long t0;
    private final long measureStart;
    private final long end;
    private final long timeoutNs;
    private final long tickNs;
    private final Conn[] conns;
    private final Selector selector;
    private final java.util.function.Consumer<SelectionKey> onKey = this::onKey;

    // Recorded by the selector thread only.
    private final Histogram corrected = new Histogram(MAX_TRACKABLE_NS, 3);
    private final Histogram uncorrected = new Histogram(MAX_TRACKABLE_NS, 3);
    private final Histogram sendLag = new Histogram(MAX_TRACKABLE_NS, 3);
    private long completed;
    private long non2xx;
    private long connectErrors;
    private long readErrors;
    private long timeoutErrors;
    private long bytesRead;

    private FixedRateLoad(URI url, long rate, int connCount, long warmupNs, long durationNs, int timeoutMs,
                          long tickUs) throws IOException {
        this.tickNs = TimeUnit.MICROSECONDS.toNanos(tickUs);
        String host = url.getHost();
        int port = url.getPort() > 0 ? url.getPort() : 80;
        this.address = new InetSocketAddress(host, port);
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        if (url.getRawQuery() != null) {
            path += "?" + url.getRawQuery();
        }
        // The same request wrk sends.
        this.request = ("GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        this.rate = rate;
        this.timeoutNs = TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        this.selector = Selector.open();
        this.conns = new Conn[connCount];
        for (int k = 0; k < connCount; k++) {
            conns[k] = new Conn();
            conns[k].requestBuf = ByteBuffer.wrap(request);
            connect(conns[k]);
            if (conns[k].channel == null) {
                throw new IOException("cannot connect to " + address);
            }
        }
        this.t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        this.measureStart = t0 + warmupNs;
        this.end = measureStart + durationNs;
    }

    /** When request number {@code n} is due. */
    private long due(long n) {
        return t0 + n * NS / rate; // exact while n < 9.2e9
    }

    /** Called with the connection's lock held (or before the threads start). */
    private void connect(Conn c) {
        try {
            SocketChannel ch = SocketChannel.open();
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ch.connect(address); // blocking; loopback
            ch.configureBlocking(false);
            c.channel = ch;
            c.buf.clear();
            c.parser.reset();
            c.key = null; // registered by the selector thread
        } catch (IOException e) {
            c.channel = null;
        }
    }

    /** One keep-alive connection. Fields are guarded by the object's lock. */
    private static final class Conn {
        SocketChannel channel;
        SelectionKey key;
        ByteBuffer buf = ByteBuffer.allocate(16384);
        final ResponseFramer parser = new ResponseFramer();
        /** The request bytes, sent again from position 0 each time (no buffer per request). */
        ByteBuffer requestBuf;
        boolean inFlight;
        long intended;
        long sent;
        /** Due times of requests waiting for this connection (ring buffer). */
        long[] pending = new long[64];
        int head;
        int size;

        void push(long t) {
            if (size == pending.length) {
                long[] p = new long[pending.length * 2];
                for (int i = 0; i < size; i++) {
                    p[i] = pending[(head + i) % pending.length];
                }
                pending = p;
                head = 0;
            }
            pending[(head + size) % pending.length] = t;
            size++;
        }

        long poll() {
            long t = pending[head];
            head = (head + 1) % pending.length;
            size--;
            return t;
        }
    }

    /** Sends the connection's next request if it is idle and one is waiting. Lock held. */
    private void sendNext(Conn c, long now) {
        if (c.inFlight || c.size == 0 || c.channel == null) {
            return;
        }
        c.intended = c.poll();
        c.sent = now;
        c.inFlight = true;
        try {
            ByteBuffer b = c.requestBuf;
            b.clear();
            while (b.hasRemaining()) {
                if (c.channel.write(b) == 0) {
                    Thread.onSpinWait(); // socket buffer full: cannot happen with one small request in flight
                }
            }
        } catch (IOException e) {
            fail(c, now, false);
        }
    }

    /** The in-flight request failed; the connection is replaced. Lock held. */
    private void fail(Conn c, long now, boolean timeout) {
        if (c.inFlight && c.intended >= measureStart) {
            if (timeout) {
                timeoutErrors++;
            } else {
                readErrors++;
            }
            record(corrected, now - c.intended);
        }
        c.inFlight = false;
        if (c.key != null) {
            c.key.cancel();
        }
        try {
            if (c.channel != null) {
                c.channel.close();
            }
        } catch (IOException ignored) {
            // replaced anyway
        }
        c.channel = null;
        if (now < end) {
            connect(c);
            if (c.channel == null) {
                connectErrors++;
            }
        }
    }

    private static void record(Histogram h, long ns) {
        h.recordValue(Math.min(Math.max(ns, 0), MAX_TRACKABLE_NS));
    }

    private void schedule() {
        int n = conns.length;
        long lastWake = Long.MIN_VALUE / 2;
        for (long i = 0; ; ) {
            long d = due(i);
            if (d >= end) {
                return;
            }
            // At most one wake-up per tick: above 1/tick req/s the requests due within a tick go out together at its
            // end (each still measured from its own due time), as wrk2's millisecond timers do. A wake-up per request
            // cost the load core more than the backend itself at 20,000 req/s.
            long wake = Math.max(d, lastWake + tickNs);
            long now = System.nanoTime();
            while (now < wake) {
                LockSupport.parkNanos(wake - now);
                now = System.nanoTime();
            }
            lastWake = now;
            // Everything due by now (a late wake-up sends a small burst, each measured from its own due time).
            do {
                Conn c = conns[(int) (i % n)];
                synchronized (c) {
                    c.push(d);
                    sendNext(c, now);
                }
                i++;
                d = due(i);
            } while (d <= now && d < end);
        }
    }

    /** Reads answers until every request due before the end is answered, or the timeout after the end. */
    private void readLoop() throws IOException {
        long nextCheck = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= nextCheck) {
                // Every 10 ms: register replaced connections, time out stuck requests, see whether we are done.
                nextCheck = now + TimeUnit.MILLISECONDS.toNanos(10);
                boolean busy = false;
                for (Conn c : conns) {
                    synchronized (c) {
                        if (c.channel != null && c.key == null) {
                            c.key = c.channel.register(selector, SelectionKey.OP_READ, c);
                        }
                        if (c.inFlight && now - c.sent > timeoutNs) {
                            fail(c, now, true);
                            sendNext(c, now);
                        }
                        busy |= c.inFlight || c.size > 0;
                    }
                }
                if (now >= end && (!busy || now > end + timeoutNs)) {
                    return;
                }
            }
            selector.select(onKey, 10); // the action form: no selected-key set and no iterator per wake-up
        }
    }

    /** Called by {@link Selector#select(java.util.function.Consumer, long)} on the reader thread. */
    private void onKey(SelectionKey key) {
        Conn c = (Conn) key.attachment();
        synchronized (c) {
            if (c.key == key && key.isValid()) {
                onReadable(c);
            }
        }
    }

    /** Lock held. */
    private void onReadable(Conn c) {
        while (true) {
            int r;
            int space = 0;
            try {
                if (!c.buf.hasRemaining()) {
                    ByteBuffer bigger = ByteBuffer.allocate(c.buf.capacity() * 2);
                    c.buf.flip();
                    bigger.put(c.buf);
                    c.buf = bigger;
                }
                space = c.buf.remaining();
                r = c.channel.read(c.buf);
            } catch (IOException e) {
                r = -1;
            }
            if (r < 0) {
                fail(c, System.nanoTime(), false);
                sendNext(c, System.nanoTime());
                return;
            }
            if (r == 0) {
                return;
            }
            c.buf.flip();
            while (true) {
                int consumed;
                try {
                    consumed = c.parser.parse(c.buf);
                } catch (RuntimeException e) {
                    consumed = -2;
                }
                if (consumed == -2 || (consumed >= 0 && !c.inFlight)) {
                    // Garbage, or an answer nobody asked for.
                    c.buf.clear();
                    fail(c, System.nanoTime(), false);
                    sendNext(c, System.nanoTime());
                    return;
                }
                if (consumed < 0) {
                    break; // need more bytes
                }
                long done = System.nanoTime();
                if (c.intended >= measureStart) {
                    record(corrected, done - c.intended);
                    record(uncorrected, done - c.sent);
                    record(sendLag, c.sent - c.intended);
                    completed++;
                    bytesRead += consumed;
                    if (c.parser.status < 200 || c.parser.status > 399) {
                        non2xx++;
                    }
                }
                c.inFlight = false;
                boolean close = c.parser.close;
                c.parser.reset();
                if (close) {
                    c.inFlight = false;
                    fail(c, done, false);
                }
                sendNext(c, done);
                if (close) {
                    return;
                }
            }
            c.buf.compact();
            if (r < space) {
                return; // the socket is drained: skip the read that would only say EAGAIN
            }
        }
    }

    private static long cpuTicks(List<Integer> pids) {
        long total = 0;
        for (int pid : pids) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
                total += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }
        return total;
    }

    private static void sleepUntil(long deadline) {
        long now;
        while ((now = System.nanoTime()) < deadline) {
            LockSupport.parkNanos(deadline - now);
        }
    }

    private static String us(double ns) {
        return String.format(Locale.ROOT, "%.1f", ns / 1000.0);
    }

    private static String histogramJson(String prefix, Histogram h) {
        boolean empty = h.getTotalCount() == 0;
        return "\"" + prefix + "count\":" + h.getTotalCount()
                + ",\"" + prefix + "p50_us\":" + us(empty ? 0 : h.getValueAtPercentile(50))
                + ",\"" + prefix + "p90_us\":" + us(empty ? 0 : h.getValueAtPercentile(90))
                + ",\"" + prefix + "p99_us\":" + us(empty ? 0 : h.getValueAtPercentile(99))
                + ",\"" + prefix + "p999_us\":" + us(empty ? 0 : h.getValueAtPercentile(99.9))
                + ",\"" + prefix + "max_us\":" + us(empty ? 0 : h.getMaxValue())
                + ",\"" + prefix + "mean_us\":" + us(empty ? 0 : h.getMean());
    }

    public static void main(String[] args) throws Exception {
        String url = null;
        long rate = 0;
        int connCount = 64;
        double warmup = 3;
        double duration = 10;
        int timeoutMs = 5000;
        long tickUs = 250;
        List<Integer> pids = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: FixedRateLoad --url http://HOST:PORT/PATH --rate REQ_PER_S [--conns N] "
                        + "[--warmup S] [--duration S] [--timeout-ms MS] [--tick-us US] [--cpu-pids PID,PID...]");
                return;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--url" -> url = v;
                case "--rate" -> rate = Long.parseLong(v);
                case "--conns" -> connCount = Integer.parseInt(v);
                case "--warmup" -> warmup = Double.parseDouble(v);
                case "--duration" -> duration = Double.parseDouble(v);
                case "--timeout-ms" -> timeoutMs = Integer.parseInt(v);
                case "--tick-us" -> tickUs = Long.parseLong(v);
                case "--cpu-pids" -> {
                    for (String p : v.split(",")) {
                        if (!p.isBlank()) {
                            pids.add(Integer.parseInt(p.trim()));
                        }
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (url == null || rate <= 0 || connCount <= 0 || duration <= 0 || warmup < 0 || tickUs < 0) {
            throw new IllegalArgumentException("need --url, --rate > 0, --conns > 0, --duration > 0, --tick-us >= 0");
        }
        URI uri = URI.create(url);
        if (!"http".equals(uri.getScheme())) {
            throw new IllegalArgumentException("only http:// URLs: " + url);
        }
        FixedRateLoad load = new FixedRateLoad(uri, rate, connCount, (long) (warmup * NS), (long) (duration * NS),
                timeoutMs, tickUs);
        Thread scheduler = new Thread(load::schedule, "scheduler");
        scheduler.setDaemon(true);
        Thread reader = new Thread(() -> {
            try {
                load.readLoop();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "reader");
        reader.setDaemon(true);
        reader.start();
        scheduler.start();

        sleepUntil(load.measureStart);
        long ticks0 = pids.isEmpty() ? -1 : cpuTicks(pids);
        long self0 = cpuTicks(List.of((int) ProcessHandle.current().pid()));
        long wall0 = System.nanoTime();
        sleepUntil(load.end);
        long ticks1 = pids.isEmpty() ? -1 : cpuTicks(pids);
        long self1 = cpuTicks(List.of((int) ProcessHandle.current().pid()));
        long wall1 = System.nanoTime();
        reader.join();
        scheduler.join();

        long expected = 0;
        for (long n = 0; load.due(n) < load.end; n++) {
            if (load.due(n) >= load.measureStart) {
                expected++;
            }
        }
        long errors = load.connectErrors + load.readErrors + load.timeoutErrors;
        long unfinished = 0;
        long now = System.nanoTime();
        for (Conn c : load.conns) {
            synchronized (c) {
                // Still waiting at the end (server stalled beyond the timeout): recorded as at least that late.
                if (c.inFlight && c.intended >= load.measureStart) {
                    unfinished++;
                    record(load.corrected, now - c.intended);
                }
                while (c.size > 0) {
                    long t = c.poll();
                    if (t >= load.measureStart) {
                        unfinished++;
                        record(load.corrected, now - t);
                    }
                }
            }
        }
        double durationS = duration;
        System.out.println("FIXED_RATE_JSON {"
                + "\"rate\":" + rate + ",\"conns\":" + connCount
                + ",\"duration_us\":" + (long) (duration * 1e6)
                + ",\"cpu_window_us\":" + (wall1 - wall0) / 1000
                + ",\"expected\":" + expected
                + ",\"requests\":" + load.completed
                + ",\"achieved_rps\":" + String.format(Locale.ROOT, "%.1f", load.completed / durationS)
                + ",\"bytes\":" + load.bytesRead
                + ",\"status_errors\":" + load.non2xx
                + ",\"connect_errors\":" + load.connectErrors
                + ",\"read_errors\":" + load.readErrors
                + ",\"timeout_errors\":" + load.timeoutErrors
                + ",\"unfinished\":" + unfinished
                + ",\"errors\":" + (errors + unfinished)
                + ",\"cpu_ticks\":" + (ticks0 < 0 || ticks1 < 0 ? -1 : ticks1 - ticks0)
                + ",\"generator_cpu_ticks\":" + (self1 - self0)
                + "," + histogramJson("", load.corrected)
                + "," + histogramJson("uncorrected_", load.uncorrected)
                + "," + histogramJson("send_lag_", load.sendLag)
                + "}");
        System.out.flush();
        System.exit(0);
    }
}
