package io.turnpike.config.codec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.model.Ssl;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Turnpike's {@code key_server} extension of the ssl object: {@code cert} + {@code key_server} instead of {@code key}. */
class SslCodecKeylessTest {
    @TempDir
    static Path dir;
    static String cert;
    static String key;
    static String otherKey;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void certificates() throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                "a.key", "-out", "a.crt", "-subj", "/CN=site.test", "-days", "2");
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "b.key");
        cert = Files.readString(dir.resolve("a.crt"));
        key = Files.readString(dir.resolve("a.key"));
        otherKey = Files.readString(dir.resolve("b.key"));
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(new File("/dev/null")).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
    }

    private static ObjectNode ssl() {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", "s1");
        o.putArray("snis").add("site.test");
        o.put("cert", cert);
        return o;
    }

    private static String errors(Decoded<Ssl> d) {
        return d.errors().stream().map(e -> e.field() + ": " + e.message()).toList().toString();
    }

    @Test
    void certPlusKeyServerWithoutKey() {
        ObjectNode o = ssl();
        o.put("key_server", "ks1");
        Decoded<Ssl> d = new SslCodec().decode("s1", o);
        assertTrue(d.ok(), errors(d));
        Ssl.CertKeyPair p = d.value().pairs().get(0);
        assertTrue(p.keyless());
        assertEquals("ks1", p.keyServer());
        assertNull(p.key());
        assertEquals("CN=site.test", p.chain().get(0).getSubjectX500Principal().getName());
    }

    @Test
    void keyStillRequiredWithoutKeyServerAndStillChecked() {
        Decoded<Ssl> none = new SslCodec().decode("s1", ssl());
        assertFalse(none.ok());
        assertTrue(errors(none).contains("key"), errors(none));
        ObjectNode o = ssl();
        o.put("key", otherKey);
        Decoded<Ssl> mismatch = new SslCodec().decode("s1", o);
        assertFalse(mismatch.ok());
        assertTrue(errors(mismatch).contains("private key does not match the certificate"), errors(mismatch));
        o.put("key", key);
        assertTrue(new SslCodec().decode("s1", o).ok());
    }

    @Test
    void keyAndKeyServerTogetherBadNamesClientTypeAndExpiredCertRefused() {
        ObjectNode both = ssl();
        both.put("key", key);
        both.put("key_server", "ks1");
        Decoded<Ssl> d = new SslCodec().decode("s1", both);
        assertFalse(d.ok());
        assertTrue(errors(d).contains("both \"key\" and \"key_server\""), errors(d));

        ObjectNode bad = ssl();
        bad.put("key_server", "a b");
        assertTrue(errors(new SslCodec().decode("s1", bad)).contains("key server name"));
        bad.put("key_server", 5);
        assertFalse(new SslCodec().decode("s1", bad).ok());

        ObjectNode client = ssl();
        client.put("type", "client");
        client.put("key_server", "ks1");
        assertTrue(errors(new SslCodec().decode("s1", client)).contains("only server certificates can be keyless"));

        ObjectNode expired = ssl();
        expired.put("key_server", "ks1");
        Decoded<Ssl> later = new SslCodec(() -> System.currentTimeMillis() + 10L * 86_400_000L).decode("s1", expired);
        assertFalse(later.ok());
        assertTrue(errors(later).contains("certificate expired"), errors(later));
    }
}
