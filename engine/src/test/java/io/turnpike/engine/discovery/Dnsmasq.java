package io.turnpike.engine.discovery;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server for tests: Debian's dnsmasq (package {@code dnsmasq-base}) on 127.0.0.1 and a free port, answering
 * from a hosts file the test rewrites ({@link #hosts}: rewritten, then SIGHUP, then waited for until dnsmasq says it
 * read it again) and from {@code --srv-host} records. Names under {@code .test} that are not in the file are NXDOMAIN.
 */
final class Dnsmasq implements AutoCloseable {
    private final Path hostsFile;
    private final int port;
    private final Process process;
    private final List<String> lines = new ArrayList<>();

    private Dnsmasq(Path dir, int ttl, String hosts, List<String> srv) throws IOException, InterruptedException {
        hostsFile = dir.resolve("hosts");
        Files.writeString(hostsFile, hosts);
        port = freePort();
        String bin = Files.isExecutable(Path.of("/usr/sbin/dnsmasq")) ? "/usr/sbin/dnsmasq" : "dnsmasq";
        List<String> cmd = new ArrayList<>(List.of(bin, "--keep-in-foreground", "--log-facility=-",
                "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--addn-hosts=" + hostsFile, "--local=/test/", "--local-ttl=" + ttl, "--cache-size=0",
                "--conf-file=/dev/null", "--pid-file=" + dir.resolve("dnsmasq.pid"),
                "--user=" + System.getProperty("user.name")));
        for (String s : srv) {
            cmd.add("--srv-host=" + s);
        }
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot start dnsmasq (Debian package dnsmasq-base): " + e.getMessage(), e);
        }
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(l);
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // process ended
            }
        }, "dnsmasq-log");
        t.setDaemon(true);
        t.start();
        awaitReads(1);
    }

    /** Starts dnsmasq answering from {@code hosts} (hosts-file lines) with TTL {@code ttl} s and the SRV records. */
    static Dnsmasq start(Path dir, int ttl, String hosts, String... srv) throws IOException, InterruptedException {
        return new Dnsmasq(dir, ttl, hosts, List.of(srv));
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Rewrites the hosts file, sends SIGHUP and waits until dnsmasq has read it. */
    void hosts(String content) throws IOException, InterruptedException {
        int before = reads();
        Files.writeString(hostsFile, content);
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -HUP failed");
        }
        awaitReads(before + 1);
    }

    private int reads() {
        synchronized (lines) {
            return (int) lines.stream().filter(l -> l.contains("read " + hostsFile)).count();
        }
    }

    private void awaitReads(int n) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        synchronized (lines) {
            while (reads() < n) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !process.isAlive()) {
                    throw new IOException("dnsmasq did not read " + hostsFile + " (alive " + process.isAlive()
                            + "): " + lines);
                }
                lines.wait(Math.min(left, 100));
            }
        }
    }

    /** Kills dnsmasq (SIGKILL) and waits for it: the server is down. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            kill();
        }
    }

    /** A port free for both UDP and TCP on 127.0.0.1 right now. */
    private static int freePort() throws IOException {
        for (int i = 0; i < 50; i++) {
            try (DatagramSocket u = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                int p = u.getLocalPort();
                try (ServerSocket s = new ServerSocket()) {
                    s.bind(new InetSocketAddress("127.0.0.1", p));
                    return p;
                } catch (IOException taken) {
                    // TCP side in use: try another
                }
            }
        }
        throw new IOException("no free port");
    }
}
