package io.turnpike.engine.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain-socket HTTP/1.1 backend on 127.0.0.1 whose {@link #kill()} does what the kernel does to a killed process's
 * sockets: the listener and every connection close at once, requests in flight unanswered. Keep-alive; answers
 * {@code ok:<port>} (after {@code ms} milliseconds for {@code /slow?ms=N}); reads Content-Length bodies.
 */
public final class KillableBackend implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    public final AtomicInteger requests = new AtomicInteger();
    public final AtomicInteger connections = new AtomicInteger();
    /** The status it answers with (200 unless a test changes it). */
    public volatile int status = 200;
    private final byte[] body;

    public KillableBackend() throws IOException {
        this(InetAddress.getLoopbackAddress(), 0);
    }

    /** On {@code address} (e.g. 127.0.0.2: the whole 127/8 is local on Linux) and {@code port} (0: any). */
    public KillableBackend(InetAddress address, int port) throws IOException {
        server = new ServerSocket(port, 200, address);
        body = ("ok:" + server.getLocalPort()).getBytes(StandardCharsets.US_ASCII);
        Thread t = new Thread(this::accept, "killable-backend-" + server.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public String body() {
        return new String(body, StandardCharsets.US_ASCII);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s));
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                requests.incrementAndGet();
                int cl = 0;
                for (String line : head.split("\r\n")) {
                    if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                        cl = Integer.parseInt(line.substring(15).trim());
                    }
                }
                for (int i = 0; i < cl; i++) {
                    if (in.read() < 0) {
                        return;
                    }
                }
                int q = head.indexOf("/slow?ms=");
                if (q >= 0) {
                    int end = q + 9;
                    while (Character.isDigit(head.charAt(end))) {
                        end++;
                    }
                    Thread.sleep(Long.parseLong(head.substring(q + 9, end)));
                }
                // Head and body in one write (as nginx writes a small response with one writev): a kill never
                // splits them, so "killed before answering" and "answered" are the only outcomes. A node dying
                // after the response head left cannot be retried by anyone (the client already has the head).
                byte[] responseHead = ("HTTP/1.1 " + status + " X\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII);
                byte[] response = java.util.Arrays.copyOf(responseHead, responseHead.length + body.length);
                System.arraycopy(body, 0, response, responseHead.length, body.length);
                out.write(response);
                out.flush();
            }
        } catch (IOException | InterruptedException ignored) {
            // killed, or the gateway went away
        } finally {
            open.remove(s);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            b.append((char) c);
            if (b.length() >= 4 && b.charAt(b.length() - 1) == '\n' && b.substring(b.length() - 4).equals("\r\n\r\n")) {
                return b.toString();
            }
        }
        return null;
    }

    /** The listener and every connection close now. */
    public void kill() throws IOException {
        server.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    @Override
    public void close() throws IOException {
        kill();
    }
}
