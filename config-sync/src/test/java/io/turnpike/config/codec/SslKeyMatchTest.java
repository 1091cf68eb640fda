package io.turnpike.config.codec;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SslCodec#matches}: RSA and EC pairs are compared by their public halves (no signature), every other case
 * signs a probe. Keys and certificates come from the {@code openssl} command line, in the forms operators paste:
 * PKCS#8, PKCS#1 RSA, SEC1 EC with and without the public point, curves whose point needs a long DER length.
 */
class SslKeyMatchTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void keys() throws Exception {
        for (String name : List.of("rsa-a", "rsa-b")) {
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
                    "-subj", "/CN=" + name, "-days", "2");
        }
        openssl("rsa", "-in", "rsa-a.key", "-traditional", "-out", "rsa-a.pkcs1.key");
        for (String curve : List.of("prime256v1", "secp384r1", "secp521r1")) {
            for (String name : List.of(curve + "-a", curve + "-b")) {
                openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:" + curve, "-nodes",
                        "-keyout", name + ".key", "-out", name + ".crt", "-subj", "/CN=" + name, "-days", "2");
            }
            openssl("ec", "-in", curve + "-a.key", "-out", curve + "-a.sec1.key");
            openssl("ec", "-in", curve + "-a.key", "-no_public", "-out", curve + "-a.nopub.key");
        }
        for (String name : List.of("ed-a", "ed-b")) {
            openssl("req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
                    "-subj", "/CN=" + name, "-days", "2");
        }
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(new File("/dev/null")).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
    }

    private static PrivateKey key(String file) throws Exception {
        return SslCodec.privateKey(Files.readString(dir.resolve(file)));
    }

    private static PublicKey pub(String name) throws Exception {
        X509Certificate c = SslCodec.certificates(Files.readString(dir.resolve(name + ".crt"))).get(0);
        return c.getPublicKey();
    }

    @Test
    void rsaKeysMatchTheirCertificateOnly() throws Exception {
        assertTrue(SslCodec.matches(key("rsa-a.key"), pub("rsa-a")));
        assertTrue(SslCodec.matches(key("rsa-a.pkcs1.key"), pub("rsa-a")));
        assertFalse(SslCodec.matches(key("rsa-a.key"), pub("rsa-b")));
        assertFalse(SslCodec.matches(key("rsa-b.key"), pub("rsa-a")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"prime256v1", "secp384r1", "secp521r1"})
    void ecKeysMatchTheirCertificateOnlyWithOrWithoutThePublicPoint(String curve) throws Exception {
        for (String form : List.of(".key", ".sec1.key", ".nopub.key")) {
            assertTrue(SslCodec.matches(key(curve + "-a" + form), pub(curve + "-a")), curve + form);
            assertFalse(SslCodec.matches(key(curve + "-a" + form), pub(curve + "-b")), curve + form);
        }
        assertFalse(SslCodec.matches(key(curve + "-a.key"), pub("prime256v1".equals(curve) ? "secp384r1-a"
                : "prime256v1-a")), "another curve");
    }

    @Test
    void theCarriedPointIsTheOneOpenSslPrints() throws Exception {
        // `openssl ec -pubout -outform DER` ends with the uncompressed point (the last 65 bytes on P-256)
        openssl("ec", "-in", "prime256v1-a.key", "-pubout", "-outform", "DER", "-out", "p256-a.pub.der");
        byte[] spki = Files.readAllBytes(dir.resolve("p256-a.pub.der"));
        byte[] point = java.util.Arrays.copyOfRange(spki, spki.length - 65, spki.length);
        assertArrayEquals(point, SslCodec.ecPublicPoint(key("prime256v1-a.key").getEncoded()),
                HexFormat.of().formatHex(point));
        assertNull(SslCodec.ecPublicPoint(key("prime256v1-a.nopub.key").getEncoded()));
        assertNull(SslCodec.ecPublicPoint(new byte[] {0x30, 0x03, 0x02, 0x01}), "truncated");
    }

    @Test
    void anEcKeyIsJudgedByThePointItCarriesAsOpenSslDoes() throws Exception {
        // A's scalar with B's point passes as B's key, as with nginx's X509_check_private_key: proof that the
        // comparison decides, not a signature (which would fail against both certificates).
        byte[] a = key("prime256v1-a.key").getEncoded();
        byte[] pointA = SslCodec.ecPublicPoint(a);
        byte[] pointB = SslCodec.ecPublicPoint(key("prime256v1-b.key").getEncoded());
        byte[] crafted = a.clone();
        System.arraycopy(pointB, 0, crafted, crafted.length - pointA.length, pointA.length);
        PrivateKey mixed = java.security.KeyFactory.getInstance("EC")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(crafted));
        assertTrue(SslCodec.matches(mixed, pub("prime256v1-b")));
        assertFalse(SslCodec.matches(mixed, pub("prime256v1-a")));
    }

    @Test
    void aCraftedDerLengthIsRefusedNotLoopedOn() {
        // SEC1 "EC PRIVATE KEY" bytes are walked before the JDK sees them (to find the curve). A 4-byte length of
        // -6 used to send the walk back to where it started, forever (the Admin API's thread, the config thread).
        byte[] der = {0x30, 0x0a, 0x04, (byte) 0x84, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfa, 0, 0, 0, 0};
        String pem = "-----BEGIN EC PRIVATE KEY-----\n" + java.util.Base64.getEncoder().encodeToString(der)
                + "\n-----END EC PRIVATE KEY-----\n";
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(5),
                () -> org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                        () -> SslCodec.privateKey(pem)));
        assertTrue(e.getMessage().startsWith("invalid ec private key"), e.getMessage());
        // an indefinite length (BER, not DER) is refused the same way
        byte[] indefinite = {0x30, (byte) 0x80, 0x02, 0x01, 0x01, 0, 0};
        assertNull(SslCodec.ecPublicPoint(indefinite));
    }

    @Test
    void keysOfAnotherTypeNeverMatch() throws Exception {
        assertFalse(SslCodec.matches(key("rsa-a.key"), pub("prime256v1-a")));
        assertFalse(SslCodec.matches(key("prime256v1-a.key"), pub("rsa-a")));
        assertFalse(SslCodec.matches(key("ed-a.key"), pub("rsa-a")));
    }

    @Test
    void ed25519SignsAProbe() throws Exception {
        assertTrue(SslCodec.matches(key("ed-a.key"), pub("ed-a")));
        assertFalse(SslCodec.matches(key("ed-a.key"), pub("ed-b")));
    }
}
