package io.turnpike.tls.keyless;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Test keys and certificates, generated with the {@code openssl} CLI into a temporary directory (never committed).
 *
 * <ul>
 *   <li>{@code ca.pem/key}: the CA of the keyless mTLS channel; {@code keyserver.pem/key} (localhost, 127.0.0.1) and
 *       {@code gateway.pem/key} (client auth) are issued by it; {@code rogue-*} by another CA.</li>
 *   <li>{@code keys/rsa.key} (PKCS#8 RSA 2048), {@code keys/ec.key} (SEC1 P-256), {@code keys/ec384.key} (PKCS#8
 *       P-384): the keyless certificates' keys, only ever given to the key server; {@code certs/*.pem}: the matching
 *       self-signed certificates (CN/SAN localhost) the gateway serves.</li>
 * </ul>
 */
final class TestPki {
    final Path dir;
    final Path keysDir;
    final Path certsDir;

    private static final String CONFIG = """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = unused
            [ca_ext]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash
            [server_ext]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost,IP:127.0.0.1
            [client_ext]
            basicConstraints = CA:FALSE
            keyUsage = critical,digitalSignature
            extendedKeyUsage = clientAuth
            """;

    private TestPki(Path dir) {
        this.dir = dir;
        this.keysDir = dir.resolve("keys");
        this.certsDir = dir.resolve("certs");
    }

    static TestPki create(Path dir) throws Exception {
        TestPki pki = new TestPki(dir);
        Files.createDirectories(pki.keysDir);
        Files.createDirectories(pki.certsDir);
        Files.writeString(dir.resolve("openssl.cnf"), CONFIG);
        pki.ca("ca");
        pki.issued("keyserver", "ca", "server_ext");
        pki.issued("gateway", "ca", "client_ext");
        pki.ca("rogue-ca");
        pki.issued("rogue-gateway", "rogue-ca", "client_ext");
        pki.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "keys/rsa.key");
        pki.openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "keys/ec.key");
        pki.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "keys/ec384.key");
        for (String k : new String[] {"rsa", "ec", "ec384"}) {
            pki.openssl("req", "-x509", "-new", "-key", "keys/" + k + ".key", "-subj", "/CN=localhost", "-days", "2",
                    "-config", "openssl.cnf", "-extensions", "server_ext", "-out", "certs/" + k + ".pem");
        }
        Files.writeString(pki.keysDir.resolve("README.txt"), "not a key, skipped by the loader\n");
        return pki;
    }

    Path path(String name) {
        return dir.resolve(name);
    }

    Path cert(String name) {
        return certsDir.resolve(name + ".pem");
    }

    Path key(String name) {
        return keysDir.resolve(name + ".key");
    }

    X509Certificate[] chain(String name) throws Exception {
        return PemKeys.readCertificates(cert(name)).toArray(new X509Certificate[0]);
    }

    /** A JDK client context trusting exactly the given certificate. */
    SSLContext trusting(String certName) throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("c", chain(certName)[0]);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private void ca(String name) throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name,
                "-config", "openssl.cnf", "-extensions", "ca_ext");
    }

    private void issued(String name, String ca, String ext) throws Exception {
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key");
        openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + (ext.equals("server_ext") ? "localhost" : name),
                "-config", "openssl.cnf", "-out", name + ".csr");
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-days", "2", "-extfile", "openssl.cnf", "-extensions", ext, "-out", name + ".pem");
    }

    String openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("openssl timed out: " + cmd);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException("openssl failed (" + p.exitValue() + "): " + cmd + "\n" + text);
        }
        return text;
    }
}
