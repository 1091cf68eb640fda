package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.plugin.Consumer;
import io.turnpike.engine.plugin.JwtCredential;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * jwt-auth's verification pieces: the allocation-free HMAC against the JDK's Mac (every HS algorithm, keys shorter
 * and longer than the block), RS/ES verification with JDK-signed inputs, the JSON scanner, base64 decoding; and a
 * short report (no assertion on time) of CPU per verification and bytes allocated per verification.
 */
class JwtVerificationTest {
    static final ObjectMapper M = new ObjectMapper();
    static final Consumer C = new Consumer("c", null);

    static ObjectNode conf(String alg, String secretOrPem) {
        ObjectNode o = M.createObjectNode().put("key", "k").put("algorithm", alg);
        if (alg.startsWith("HS")) {
            o.put("secret", secretOrPem);
        } else {
            o.put("public_key", secretOrPem);
        }
        return o;
    }

    static String pem(java.security.PublicKey k) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(k.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    @Test
    void hmacMatchesTheJdkForEveryAlgorithmAndKeyLength() throws Exception {
        Random r = new Random(7);
        String[][] algs = {{"HS256", "HmacSHA256"}, {"HS384", "HmacSHA384"}, {"HS512", "HmacSHA512"}};
        for (String[] a : algs) {
            for (int keyLen : new int[]{1, 31, 64, 65, 128, 129, 300}) {
                byte[] key = new byte[keyLen];
                for (int i = 0; i < keyLen; i++) {
                    key[i] = (byte) ('a' + r.nextInt(26));
                }
                String secret = new String(key, StandardCharsets.US_ASCII);
                JwtKeys.Hmac h = (JwtKeys.Hmac) JwtKeys.credential(C, conf(a[0], secret));
                for (int msgLen : new int[]{0, 1, 63, 64, 200, 5000}) {
                    byte[] msg = new byte[msgLen];
                    r.nextBytes(msg);
                    Mac mac = Mac.getInstance(a[1]);
                    mac.init(new SecretKeySpec(key, a[1]));
                    byte[] expected = mac.doFinal(msg);
                    assertArrayEquals(expected, h.mac(msg), a[0] + " key " + keyLen + " msg " + msgLen);
                    byte[] padded = new byte[msgLen + 10];
                    System.arraycopy(msg, 0, padded, 5, msgLen);
                    byte[] sig = new byte[expected.length + 4];
                    System.arraycopy(expected, 0, sig, 2, expected.length);
                    assertTrue(h.verify(padded, 5, msgLen, sig, 2, expected.length));
                    sig[2 + expected.length - 1] ^= 1;
                    assertFalse(h.verify(padded, 5, msgLen, sig, 2, expected.length));
                    assertFalse(h.verify(padded, 5, msgLen, sig, 2, expected.length - 1));
                }
            }
        }
    }

    @Test
    void base64SecretIsDecoded() throws Exception {
        byte[] key = {0, 1, 2, (byte) 0xff, 0x7f};
        ObjectNode c = conf("HS256", Base64.getEncoder().encodeToString(key)).put("base64_secret", true);
        JwtKeys.Hmac h = (JwtKeys.Hmac) JwtKeys.credential(C, c);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        assertArrayEquals(mac.doFinal("x".getBytes()), h.mac("x".getBytes()));
    }

    @Test
    void rsaAndEcSignaturesOfEverySize() throws Exception {
        KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA");
        rg.initialize(2048);
        KeyPair rsa = rg.generateKeyPair();
        for (String[] a : new String[][]{{"RS256", "SHA256withRSA"}, {"RS384", "SHA384withRSA"},
                {"RS512", "SHA512withRSA"}}) {
            check(JwtKeys.credential(C, conf(a[0], pem(rsa.getPublic()))), a[1], rsa.getPrivate(), -1);
        }
        String[][] ecs = {{"ES256", "SHA256withECDSAinP1363Format", "secp256r1", "64"},
                {"ES384", "SHA384withECDSAinP1363Format", "secp384r1", "96"},
                {"ES512", "SHA512withECDSAinP1363Format", "secp521r1", "132"}};
        for (String[] a : ecs) {
            KeyPairGenerator eg = KeyPairGenerator.getInstance("EC");
            eg.initialize(new ECGenParameterSpec(a[2]));
            KeyPair ec = eg.generateKeyPair();
            check(JwtKeys.credential(C, conf(a[0], pem(ec.getPublic()))), a[1], ec.getPrivate(),
                    Integer.parseInt(a[3]));
        }
        // PKCS#1 "RSA PUBLIC KEY" PEM (OpenSSL reads it too): the SPKI's BIT STRING content after its unused-bits byte.
        byte[] spki = rsa.getPublic().getEncoded();
        byte[] pkcs1 = java.util.Arrays.copyOfRange(spki, spki.length - pkcs1Length(spki), spki.length);
        assertArrayEquals(spki, JwtKeys.spkiOfPkcs1(pkcs1));
        check(JwtKeys.credential(C, conf("RS256", "-----BEGIN RSA PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(pkcs1) + "\n-----END RSA PUBLIC KEY-----")),
                "SHA256withRSA", rsa.getPrivate(), -1);
        // The key type must fit the algorithm; PEM only.
        KeyPairGenerator eg = KeyPairGenerator.getInstance("EC");
        eg.initialize(new ECGenParameterSpec("secp256r1"));
        assertThrows(IllegalArgumentException.class,
                () -> JwtKeys.credential(C, conf("RS256", pem(eg.generateKeyPair().getPublic()))));
        assertThrows(IllegalArgumentException.class, () -> JwtKeys.credential(C, conf("ES256", pem(rsa.getPublic()))));
        assertThrows(IllegalArgumentException.class, () -> JwtKeys.credential(C, conf("RS256", "MIIB...")));
        assertThrows(IllegalArgumentException.class, () -> JwtKeys.credential(C, conf("PS256", pem(rsa.getPublic()))));
    }

    /** The length of the RSAPublicKey SEQUENCE at the end of an RSA SubjectPublicKeyInfo. */
    private static int pkcs1Length(byte[] spki) {
        for (int i = spki.length - 1; i > 0; i--) {
            if (spki[i] == 0x30 && spki[i - 1] == 0x00) { // the unused-bits byte, then the SEQUENCE
                int len = spki[i + 1] & 0xff;
                int total = len < 0x80 ? 2 + len : 2 + (len & 0x7f) + readLength(spki, i + 2, len & 0x7f);
                if (i + total == spki.length) {
                    return total;
                }
            }
        }
        throw new AssertionError("no RSAPublicKey in the SPKI");
    }

    private static int readLength(byte[] b, int at, int n) {
        int v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }

    private static void check(JwtCredential cred, String jca, PrivateKey key, int sigLen) throws Exception {
        byte[] msg = "eyJhbGciOiJSUzI1NiJ9.eyJrZXkiOiJrIn0".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(jca);
        s.initSign(key);
        s.update(msg);
        byte[] sig = s.sign();
        if (sigLen > 0) {
            assertEquals(sigLen, sig.length);
        }
        for (int i = 0; i < 3; i++) { // the per-thread verifier is reusable after success and failure
            assertTrue(cred.verify(msg, 0, msg.length, sig, 0, sig.length), jca);
            byte[] bad = sig.clone();
            bad[bad.length / 2] ^= 1;
            assertFalse(cred.verify(msg, 0, msg.length, bad, 0, bad.length), jca);
            assertFalse(cred.verify(msg, 0, msg.length, sig, 0, sig.length - 1), jca);
            assertFalse(cred.verify(msg, 1, msg.length - 1, sig, 0, sig.length), jca);
        }
    }

    @Test
    void jsonScanner() {
        JsonScan s = new JsonScan();
        byte[] tmp = new byte[256];
        s.fields("key".getBytes(), "exp".getBytes(), "nbf".getBytes());
        assertTrue(scan(s, " {\"key\" : \"a\\\"b\", \"exp\": -1.5e2, \"x\": [1, {\"nbf\": 1}], \"nbf\": null} ", tmp));
        assertEquals(JsonScan.STRING, s.type[0]);
        assertTrue(s.escaped[0]);
        assertEquals(JsonScan.NUMBER, s.type[1]);
        assertEquals(JsonScan.NULL, s.type[2], "only top-level members count; the last duplicate wins");
        byte[] doc = "{\"exp\":1700000000.25}".getBytes();
        assertTrue(s.object(doc, 0, doc.length, tmp, 0));
        assertEquals(1700000000.25, JsonScan.parseNumber(doc, s.start[1], s.end[1]), 1e-6);
        assertEquals(JsonScan.ABSENT, s.type[0]);
        assertTrue(scan(s, "{\"k\\u0065y\":\"\\u00e9\\ud83d\\ude00\"}", tmp));
        assertEquals(JsonScan.STRING, s.type[0], "escaped names are compared unescaped");
        byte[] d = "{\"key\":\"\\u00e9\\ud83d\\ude00\"}".getBytes();
        assertTrue(s.object(d, 0, d.length, tmp, 0));
        int n = JsonScan.unescape(d, s.start[0], s.end[0], tmp, 0);
        assertEquals("\u00e9\ud83d\ude00", new String(tmp, 0, n, StandardCharsets.UTF_8));
        for (String bad : new String[]{"", "[]", "\"s\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}",
                "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\u0001\"}", "{} x", "{\"a\":[1,]}",
                "{'a':1}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":\"\\u12\"}", "{\"a\":" + "[".repeat(300)
                + "]".repeat(300) + "}"}) {
            assertFalse(scan(s, bad, new byte[bad.length() + 16]), bad);
        }
        assertTrue(scan(s, "{\"a\":" + "[".repeat(200) + "]".repeat(200) + "}", new byte[1024]));
    }

    private static boolean scan(JsonScan s, String json, byte[] tmp) {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        return s.object(b, 0, b.length, tmp, 0);
    }

    @Test
    void base64LikeNginx() {
        byte[] out = new byte[64];
        byte[] in = "aGVsbG8=garbage after padding".getBytes();
        assertEquals(5, Base64Span.decodeUrl(in, 0, in.length, out, 0));
        assertEquals("hello", new String(out, 0, 5));
        byte[] url = "-_-_".getBytes();
        assertEquals(3, Base64Span.decodeUrl(url, 0, url.length, out, 0));
        assertArrayEquals(Base64.getUrlDecoder().decode("-_-_"), java.util.Arrays.copyOf(out, 3));
        byte[] one = "aGVsb".getBytes();
        assertEquals(-1, Base64Span.decodeUrl(one, 0, one.length, out, 0));
        byte[] bad = "aG!s".getBytes();
        assertEquals(-1, Base64Span.decodeUrl(bad, 0, bad.length, out, 0));
    }

    /**
     * Reports (does not assert) CPU per verification and bytes allocated per verification on this thread, for HS256,
     * RS256 (2048-bit) and ES256: a short bounded loop each.
     */
    @Test
    void reportCostPerVerification() throws Exception {
        KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA");
        rg.initialize(2048);
        KeyPair rsa = rg.generateKeyPair();
        KeyPairGenerator eg = KeyPairGenerator.getInstance("EC");
        eg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ec = eg.generateKeyPair();
        byte[] msg = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJrZXkiOiJqYWNrLWtleSIsImV4cCI6MTg5MzQ1NjAwMH0")
                .getBytes(StandardCharsets.US_ASCII);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("jack-secret-0123456789".getBytes(), "HmacSHA256"));
        measure("HS256", JwtKeys.credential(C, conf("HS256", "jack-secret-0123456789")), msg, mac.doFinal(msg), 200_000);
        measure("RS256", JwtKeys.credential(C, conf("RS256", pem(rsa.getPublic()))), msg,
                sign("SHA256withRSA", rsa.getPrivate(), msg), 5_000);
        measure("ES256", JwtKeys.credential(C, conf("ES256", pem(ec.getPublic()))), msg,
                sign("SHA256withECDSAinP1363Format", ec.getPrivate(), msg), 1_000);
    }

    private static byte[] sign(String jca, PrivateKey k, byte[] msg) throws Exception {
        Signature s = Signature.getInstance(jca);
        s.initSign(k);
        s.update(msg);
        return s.sign();
    }

    private static void measure(String name, JwtCredential cred, byte[] msg, byte[] sig, int n) {
        com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int i = 0; i < n; i++) { // warm-up
            assertTrue(cred.verify(msg, 0, msg.length, sig, 0, sig.length));
        }
        long id = Thread.currentThread().getId();
        long cpu0 = t.getCurrentThreadCpuTime();
        long a0 = t.getThreadAllocatedBytes(id);
        for (int i = 0; i < n; i++) {
            if (!cred.verify(msg, 0, msg.length, sig, 0, sig.length)) {
                throw new AssertionError(name);
            }
        }
        long a1 = t.getThreadAllocatedBytes(id);
        long cpu1 = t.getCurrentThreadCpuTime();
        System.out.printf("jwt %s: %.2f us CPU and %.1f bytes allocated per verification (%d verifications)%n",
                name, (cpu1 - cpu0) / 1000.0 / n, (a1 - a0) / (double) n, n);
    }
}
