package io.turnpike.bench.propagation;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop request load at a fixed offered rate, corrected for coordinated omission by construction: request
 * {@code i} has an intended start time {@code t0 + i / rate}, connection {@code c} of {@code C} sends requests
 * {@code i ≡ c (mod C)} on its own keep-alive socket, and a request's latency is measured from its intended start, not
 * from when it was actually sent. A stall therefore shows up in every request that should have been sent during it.
 *
 * <p>Latencies (µs) are bucketed by the second of their intended start, per connection thread, and merged afterwards,
 * so phases (warm-up, quiet, churn) are just ranges of seconds.
 */
final class FixedRateLoad {
    static final long HIGHEST_US = 60_000_000L;

    private final InetSocketAddress address;
    private final byte[] request;
    private final double rate;
    private final int conns;
    private final int seconds;
    private final int timeoutMs;
    private final List<Worker> workers = new ArrayList<>();
    private long t0;

    FixedRateLoad(InetSocketAddress address, String path, String host, double rate, int conns, int seconds,
                  int timeoutMs) {
        this.address = address;
        this.request = DataClient.request(path, host);
        this.rate = rate;
        this.conns = conns;
        this.seconds = seconds;
        this.timeoutMs = timeoutMs;
    }

    /** Connects every socket, then starts the schedule at {@code startNanos} (a System.nanoTime value). */
    void start(long startNanos) throws IOException {
        t0 = startNanos;
        for (int c = 0; c < conns; c++) {
            Worker w = new Worker(c);
            w.client.connect();
            workers.add(w);
        }
        for (Worker w : workers) {
            w.thread.start();
        }
    }

    void join() throws InterruptedException {
        for (Worker w : workers) {
            w.thread.join();
        }
    }

    /** Merged histogram of the requests whose intended start lies in seconds [from, to). */
    Histogram histogram(int from, int to) {
        Histogram h = new Histogram(HIGHEST_US, 3);
        for (Worker w : workers) {
            for (int s = from; s < to && s < seconds; s++) {
                h.add(w.perSecond[s]);
            }
        }
        return h;
    }

    long errors(int from, int to) {
        long n = 0;
        for (Worker w : workers) {
            for (int s = from; s < to && s < seconds; s++) {
                n += w.errors[s];
            }
        }
        return n;
    }

    long non2xx(int from, int to) {
        long n = 0;
        for (Worker w : workers) {
            for (int s = from; s < to && s < seconds; s++) {
                n += w.non2xx[s];
            }
        }
        return n;
    }

    /** Reconnects beyond the first connection of each socket. */
    long reconnects() {
        long n = 0;
        for (Worker w : workers) {
            n += Math.max(0, w.client.connects - 1);
        }
        return n;
    }

    /** The distinct error messages seen (first few), for the report. */
    List<String> errorSamples() {
        List<String> out = new ArrayList<>();
        for (Worker w : workers) {
            for (String s : w.errorSamples) {
                if (out.size() < 10 && !out.contains(s)) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private final class Worker implements Runnable {
        final int index;
        final DataClient client;
        final Histogram[] perSecond;
        final long[] errors;
        final long[] non2xx;
        final List<String> errorSamples = new ArrayList<>();
        final Thread thread;

        Worker(int index) {
            this.index = index;
            this.client = new DataClient(address, timeoutMs);
            this.perSecond = new Histogram[seconds];
            for (int s = 0; s < seconds; s++) {
                perSecond[s] = new Histogram(HIGHEST_US, 3);
            }
            this.errors = new long[seconds];
            this.non2xx = new long[seconds];
            this.thread = new Thread(this, "load-" + index);
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            double intervalNs = 1e9 / rate;
            long end = t0 + seconds * 1_000_000_000L;
            for (long i = index; ; i += conns) {
                long intended = t0 + (long) (i * intervalNs);
                if (intended >= end) {
                    break;
                }
                long now;
                while ((now = System.nanoTime()) < intended) {
                    LockSupport.parkNanos(intended - now);
                }
                int second = (int) ((intended - t0) / 1_000_000_000L);
                try {
                    int status = client.exchange(request);
                    long done = System.nanoTime();
                    if (status >= 200 && status < 300) {
                        perSecond[second].recordValue(Math.min(HIGHEST_US, (done - intended) / 1000));
                    } else {
                        non2xx[second]++;
                        note("HTTP " + status);
                    }
                } catch (IOException e) {
                    errors[second]++;
                    note(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
            client.close();
        }

        private void note(String s) {
            if (errorSamples.size() < 10 && !errorSamples.contains(s)) {
                errorSamples.add(s);
            }
        }
    }
}
