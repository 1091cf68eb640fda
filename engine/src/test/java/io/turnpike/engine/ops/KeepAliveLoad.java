package io.turnpike.engine.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * N keep-alive HTTP/1.1 clients, each sending GETs one after the other on its connection. A response with
 * {@code Connection: close} ends the connection and the client reconnects: not a failure. A failure is a refused
 * connect, a reset, a connection closed before the whole response, a timeout, or a status other than 200; each is
 * counted (by kind). Bounded: every socket has a read timeout.
 */
final class KeepAliveLoad implements AutoCloseable {
    final AtomicLong sent = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final ConcurrentHashMap<String, AtomicLong> failureKinds = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final int port;
    private final long startNs = System.nanoTime();
    private volatile long stopNs;

    KeepAliveLoad(int port, int clients) {
        this.port = port;
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(this::client, "load-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void fail(String kind) {
        failures.incrementAndGet();
        failureKinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    private void client() {
        byte[] request = "GET /load HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] buf = new byte[8192];
        while (running.get()) {
            try (Socket s = new Socket()) {
                s.setSoTimeout(10_000);
                s.setTcpNoDelay(true);
                try {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                } catch (IOException e) {
                    fail("connect: " + e.getClass().getSimpleName() + " " + e.getMessage());
                    Thread.sleep(10);
                    continue;
                }
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                boolean open = true;
                while (open && running.get()) {
                    sent.incrementAndGet();
                    try {
                        out.write(request);
                        out.flush();
                        open = readResponse(in, buf);
                    } catch (IOException e) {
                        fail("exchange: " + e.getClass().getSimpleName() + " " + e.getMessage());
                        open = false;
                        continue;
                    }
                    if (!open) {
                        reconnects.incrementAndGet();
                    }
                }
            } catch (IOException e) {
                fail("socket: " + e.getMessage());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Reads one response; true when the connection stays open. Counts ok / failure. */
    private boolean readResponse(InputStream in, byte[] buf) throws IOException {
        int len = 0;
        int headEnd = -1;
        while (headEnd < 0) {
            if (len == buf.length) {
                throw new IOException("response head too large");
            }
            int n = in.read(buf, len, buf.length - len);
            if (n < 0) {
                throw new IOException("closed before a response (" + len + " bytes)");
            }
            len += n;
            for (int i = Math.max(0, len - n - 3); i + 3 < len; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
                    headEnd = i + 4;
                    break;
                }
            }
        }
        String head = new String(buf, 0, headEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        long contentLength = -1;
        boolean close = false;
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].toLowerCase(Locale.ROOT);
            if (l.startsWith("content-length:")) {
                contentLength = Long.parseLong(l.substring(15).trim());
            } else if (l.startsWith("connection:") && l.contains("close")) {
                close = true;
            }
        }
        if (contentLength < 0) {
            throw new IOException("no content-length");
        }
        long remaining = contentLength - (len - headEnd);
        while (remaining > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, remaining));
            if (n < 0) {
                throw new IOException("closed in the body");
            }
            remaining -= n;
        }
        if (status == 200) {
            ok.incrementAndGet();
        } else {
            fail("status " + status);
        }
        return !close;
    }

    @Override
    public void close() throws InterruptedException {
        if (running.getAndSet(false)) {
            stopNs = System.nanoTime();
        }
        for (Thread t : threads) {
            t.join(15_000);
        }
    }

    String summary() {
        long end = stopNs != 0 ? stopNs : System.nanoTime();
        return sent.get() + " requests in " + (end - startNs) / 1_000_000 + " ms, " + ok.get() + " ok, " + failures.get() + " failed " + failureKinds
                + ", " + reconnects.get() + " reconnects after Connection: close";
    }
}
