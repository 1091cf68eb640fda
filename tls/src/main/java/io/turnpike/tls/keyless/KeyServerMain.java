package io.turnpike.tls.keyless;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code turnpike keyserver --listen 127.0.0.1:9300 --keys DIR|FILE [--keys ...] --cert server.pem --key server.key
 * --client-ca ca.pem [--workers N]}: runs a {@link KeyServer} until the process is stopped.
 */
public final class KeyServerMain {
    private KeyServerMain() {
    }

    static final String USAGE = """
            usage: turnpike keyserver --listen HOST:PORT --keys DIR|FILE [--keys DIR|FILE ...]
                                      --cert CHAIN.pem --key KEY.pem --client-ca CA.pem [--workers N]
              --listen     address to listen on (mutual TLS), e.g. 127.0.0.1:9300
              --keys       directory of PEM private keys (RSA, EC; PKCS#8, PKCS#1 or SEC1) or one PEM file
              --cert/--key the key server's own TLS certificate chain and key
              --client-ca  CA that gateway client certificates must chain to (client certificates are required)
              --workers    signing threads (default: available processors)""";

    public static void main(String[] args) throws Exception {
        int rc = run(args, System.out, System.err, true);
        if (rc != 0) {
            System.exit(rc);
        }
    }

    /** Runs the CLI until the process is stopped (for {@code turnpike keyserver ...}); returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        return run(args, out, err, true);
    }

    /** Runs the CLI; with {@code block} false it returns as soon as the server is up (returns it via {@link #last}). */
    static int run(String[] args, PrintStream out, PrintStream err, boolean block) throws Exception {
        String listen = null;
        String cert = null;
        String key = null;
        String ca = null;
        int workers = 0;
        List<Path> keys = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--listen" -> listen = value(args, ++i, a);
                    case "--keys" -> keys.add(Path.of(value(args, ++i, a)));
                    case "--cert" -> cert = value(args, ++i, a);
                    case "--key" -> key = value(args, ++i, a);
                    case "--client-ca" -> ca = value(args, ++i, a);
                    case "--workers" -> workers = Integer.parseInt(value(args, ++i, a));
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (listen == null || cert == null || key == null || ca == null || keys.isEmpty()) {
                throw new IllegalArgumentException("--listen, --keys, --cert, --key and --client-ca are required");
            }
        } catch (IllegalArgumentException e) {
            err.println("keyserver: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        KeyServer.Builder b = KeyServer.builder().listen(parseAddress(listen));
        try {
            for (Path p : keys) {
                if (Files.isDirectory(p)) {
                    b.addKeyDirectory(p);
                } else {
                    b.addKeyFile(p);
                }
            }
            b.tls(Path.of(cert), Path.of(key), Path.of(ca));
            if (workers > 0) {
                b.workerThreads(workers);
            }
        } catch (Exception e) {
            err.println("keyserver: " + e.getMessage());
            return 1;
        }
        KeyServer server = b.start();
        last = server;
        InetSocketAddress at = server.localAddress();
        out.println("keyserver listening on " + at.getHostString() + ":" + at.getPort() + " (mutual TLS), "
                + server.keyIds().size() + " key(s):");
        for (KeyId id : server.keyIds()) {
            out.println("  " + id.hex());
        }
        out.flush();
        if (!block) {
            return 0;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }, "keyserver-shutdown"));
        stop.await();
        return 0;
    }

    static volatile KeyServer last;

    private static String value(String[] args, int i, String opt) {
        if (i >= args.length) {
            throw new IllegalArgumentException(opt + " needs a value");
        }
        return args[i];
    }

    static InetSocketAddress parseAddress(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--listen needs HOST:PORT, got " + s);
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = Integer.parseInt(s.substring(colon + 1));
        return new InetSocketAddress(host, port);
    }
}
