package io.turnpike.engine.tls;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Test certificates made by the openssl CLI at test time, and an {@code openssl s_client} runner. */
final class TlsTestSupport {
    private TlsTestSupport() {
    }

    /** A PEM certificate (chain) and key, as written in an ssl object. */
    record Pair(String cert, String key, Path certFile, Path keyFile) {
    }

    static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(new File("/dev/null"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timeout: " + String.join(" ", cmd));
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0 && !cmd[1].equals("s_client")) {
            throw new IOException(String.join(" ", cmd) + " failed: " + s);
        }
        return s;
    }

    static Pair ca(Path dir) throws Exception {
        run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
                "-subj", "/CN=Turnpike Test CA", "-days", "3");
        return read(dir, "ca");
    }

    /** keyType: "ec" (SEC1 key), "rsa" (PKCS#1 key), "rsa8" (PKCS#8 key). Signed by the CA in {@code dir}. */
    static Pair leaf(Path dir, String name, String keyType, String subject) throws Exception {
        String key = name + ".key";
        switch (keyType) {
            case "ec" -> run(dir, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key);
            case "rsa" -> run(dir, "openssl", "genrsa", "-traditional", "-out", key, "2048");
            default -> run(dir, "openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", key);
        }
        run(dir, "openssl", "req", "-new", "-key", key, "-subj", subject, "-out", name + ".csr");
        run(dir, "openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "3", "-out", name + ".crt");
        return read(dir, name);
    }

    /** A self-signed EC certificate valid only during 2020-01-01. */
    static Pair expired(Path dir, String name) throws Exception {
        run(dir, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", name + ".key");
        run(dir, "openssl", "req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
        Files.writeString(dir.resolve("index.txt"), "");
        Files.writeString(dir.resolve("serial"), "1000\n");
        Files.writeString(dir.resolve("ca.cnf"), "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nserial=serial\n"
                + "new_certs_dir=.\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n");
        run(dir, "openssl", "ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", name + ".key", "-in",
                name + ".csr", "-out", name + ".crt", "-startdate", "20200101000000Z", "-enddate",
                "20200102000000Z", "-notext");
        return read(dir, name);
    }

    static Pair read(Path dir, String name) throws IOException {
        Path c = dir.resolve(name + ".crt");
        Path k = dir.resolve(name + ".key");
        return new Pair(Files.readString(c), Files.readString(k), c, k);
    }

    /** A YAML block scalar for a PEM text, indented by {@code indent} spaces. */
    static String block(String pem, int indent) {
        String pad = " ".repeat(indent);
        StringBuilder sb = new StringBuilder("|\n");
        for (String line : pem.strip().split("\n")) {
            sb.append(pad).append(line).append('\n');
        }
        return sb.toString();
    }

    /** One ssl entry of apisix.yaml (under {@code ssls:}). */
    static String ssl(String id, List<String> snis, Pair main, List<Pair> extra, String more) {
        StringBuilder sb = new StringBuilder();
        sb.append("  - id: ").append(id).append('\n');
        sb.append("    snis: [").append(String.join(", ", snis.stream().map(s -> "\"" + s + "\"").toList()))
                .append("]\n");
        sb.append("    cert: ").append(block(main.cert(), 6));
        sb.append("    key: ").append(block(main.key(), 6));
        if (!extra.isEmpty()) {
            sb.append("    certs:\n");
            for (Pair p : extra) {
                sb.append("      - ").append(block(p.cert(), 8));
            }
            sb.append("    keys:\n");
            for (Pair p : extra) {
                sb.append("      - ").append(block(p.key(), 8));
            }
        }
        sb.append(more);
        return sb.toString();
    }

    /** {@code openssl s_client} against 127.0.0.1:port; {@code sni} null sends none. Output, stdout and stderr. */
    static String sClient(Path dir, int port, String sni, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        if (sni == null) {
            cmd.add("-noservername");
        } else {
            cmd.add("-servername");
            cmd.add(sni);
        }
        cmd.addAll(List.of(extra));
        return run(dir, cmd.toArray(new String[0]));
    }

    private static final Pattern SUBJECT = Pattern.compile("(?m)^subject=(.*)$");

    /** The server certificate's subject printed by s_client, or null when the handshake failed. */
    static String subject(String sClientOutput) {
        Matcher m = SUBJECT.matcher(sClientOutput);
        return m.find() ? m.group(1).trim() : null;
    }
}
