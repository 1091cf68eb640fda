package io.turnpike.engine.discovery;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * A UDP DNS relay in front of a real server for tests: forwards queries and answers ({@link Mode#FORWARD}), answers
 * every query with malformed bytes that carry the query's id ({@link Mode#GARBAGE}), or drops them
 * ({@link Mode#DROP}). One thread, one query at a time.
 */
final class DnsRelay implements AutoCloseable {
    enum Mode { FORWARD, GARBAGE, DROP }

    private final DatagramSocket socket;
    private final InetSocketAddress upstream;
    private final Thread thread;
    volatile Mode mode = Mode.FORWARD;
    volatile int garbageAnswers;

    DnsRelay(InetSocketAddress upstream) throws IOException {
        this.upstream = upstream;
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        thread = new Thread(this::run, "dns-relay");
        thread.setDaemon(true);
        thread.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void run() {
        byte[] buf = new byte[4096];
        while (!socket.isClosed()) {
            try {
                DatagramPacket q = new DatagramPacket(buf, buf.length);
                socket.receive(q);
                byte[] query = Arrays.copyOf(q.getData(), q.getLength());
                switch (mode) {
                    case DROP -> {
                    }
                    case GARBAGE -> {
                        // a response header with the query's id, 1 question and 3 answers claimed, then junk
                        byte[] g = new byte[] {query[0], query[1], (byte) 0x81, (byte) 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
                                (byte) 0xC0, (byte) 0xFF, 0x7F, 0x01, 0x02};
                        socket.send(new DatagramPacket(g, g.length, q.getSocketAddress()));
                        garbageAnswers++;
                    }
                    case FORWARD -> {
                        try (DatagramSocket out = new DatagramSocket()) {
                            out.setSoTimeout(2000);
                            out.send(new DatagramPacket(query, query.length, upstream));
                            DatagramPacket a = new DatagramPacket(new byte[4096], 4096);
                            out.receive(a);
                            socket.send(new DatagramPacket(a.getData(), a.getLength(), q.getSocketAddress()));
                        } catch (SocketTimeoutException e) {
                            // upstream silent: so are we
                        }
                    }
                    default -> throw new IllegalStateException();
                }
            } catch (IOException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(3000);
    }
}
