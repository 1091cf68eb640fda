package io.turnpike.engine.plugin;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * basic-auth, jwt-auth and consumer-restriction against a real gateway and backend on loopback sockets: the answers
 * (status, WWW-Authenticate, {@code {"message"}} bodies as APISIX 3.x gives them) and what the upstream receives. Netty
 * leak detection is paranoid in tests (LeakGuard fails the class on a leak).
 */
class AuthPluginsIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;
    static final ByteArrayOutputStream log = new ByteArrayOutputStream();
    static KeyPair rsa;
    static KeyPair rsaOther;
    static KeyPair ec;
    static final String JACK_SECRET = "jack-secret-0123456789";
    static final byte[] JILL_SECRET = "a binary-ish secret for HS512 \u0001\u0002".getBytes(StandardCharsets.UTF_8);

    static String route(String id, String uri, String plugins) {
        return "  - id: " + id + "\n    uri: " + uri + "\n    plugins:\n" + plugins
                + "    upstream:\n      nodes:\n        \"127.0.0.1:" + backend.port() + "\": 1\n";
    }

    static String pem(PublicKey k) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes())
                .encodeToString(k.getEncoded()) + "\n-----END PUBLIC KEY-----";
    }

    static String yamlBlock(String text, String indent) {
        return "|\n" + indent + text.replace("\n", "\n" + indent) + "\n";
    }

    @BeforeAll
    static void up() throws Exception {
        KeyPairGenerator rg = KeyPairGenerator.getInstance("RSA");
        rg.initialize(2048);
        rsa = rg.generateKeyPair();
        rsaOther = rg.generateKeyPair();
        KeyPairGenerator eg = KeyPairGenerator.getInstance("EC");
        eg.initialize(new ECGenParameterSpec("secp256r1"));
        ec = eg.generateKeyPair();
        backend = new TestBackend();
        String yaml = "routes:\n"
                + route("ba", "/ba/*", "      basic-auth: {}\n")
                + route("bah", "/bah/*", "      basic-auth:\n        hide_credentials: true\n")
                + route("jwt", "/jwt/*", "      jwt-auth: {}\n")
                + route("jwth", "/jwth/*", "      jwt-auth:\n        hide_credentials: true\n")
                + route("jwtc", "/jwtc/*", "      jwt-auth:\n        header: X-Jwt\n        query: tok\n"
                + "        cookie: session\n        key_claim_name: sub\n        realm: api\n"
                + "        claims_to_verify: [exp]\n")
                + route("cr", "/cr/*", "      basic-auth: {}\n      consumer-restriction:\n        whitelist: [jack]\n")
                + route("crb", "/crb/*", "      jwt-auth: {}\n      consumer-restriction:\n        blacklist: [jack]\n"
                + "        rejected_code: 401\n        rejected_msg: request is forbidden\n")
                + route("crm", "/crm/*", "      basic-auth: {}\n      consumer-restriction:\n"
                + "        allowed_by_methods:\n          - user: jack\n            methods: [POST, PUT]\n")
                + route("crg", "/crg/*", "      basic-auth: {}\n      consumer-restriction:\n"
                + "        type: consumer_group_id\n        whitelist: [gold]\n")
                + route("crn", "/crn/*", "      consumer-restriction:\n        whitelist: [jack]\n")
                + "consumer_groups:\n  - id: gold\n    plugins: {}\n"
                + "consumers:\n"
                + "  - username: jack\n    group_id: gold\n    plugins:\n"
                + "      basic-auth:\n        username: jack\n        password: jack-pass\n"
                + "      jwt-auth:\n        key: jack-key\n        secret: " + JACK_SECRET + "\n"
                + "  - username: jill\n    plugins:\n"
                + "      basic-auth:\n        username: jill\n        password: jill-pass\n"
                + "      jwt-auth:\n        key: jill-key\n        algorithm: HS512\n        base64_secret: true\n"
                + "        secret: " + Base64.getEncoder().encodeToString(JILL_SECRET) + "\n"
                + "  - username: rsauser\n    plugins:\n      jwt-auth:\n        key: rsa-key\n        algorithm: RS256\n"
                + "        public_key: " + yamlBlock(pem(rsa.getPublic()), "          ")
                + "  - username: ecuser\n    plugins:\n      jwt-auth:\n        key: ec-key\n        algorithm: ES256\n"
                + "        public_key: " + yamlBlock(pem(ec.getPublic()), "          ")
                + "  - username: graceful\n    plugins:\n      jwt-auth:\n        key: grace-key\n"
                + "        secret: grace-secret\n        lifetime_grace_period: 100\n"
                + "  - username: broken\n    plugins:\n      jwt-auth:\n        key: broken-key\n"
                + "        algorithm: RS256\n        public_key: not a key\n"
                + "  - username: colon\n    plugins:\n      basic-auth:\n        username: colon\n"
                + "        password: \":\"\n"
                + "  - username: carol\n    plugins: {}\n    credentials:\n      c1:\n        plugins:\n"
                + "          basic-auth:\n            username: carol\n            password: carol-pass\n"
                + "      c2:\n        plugins:\n          jwt-auth:\n            key: carol-key\n"
                + "            secret: carol-secret\n"
                + "  - username: dup\n    plugins:\n      basic-auth:\n        username: jack\n        password: other\n";
        gw = GatewayFixture.start(dir, yaml, "", "  event_loops: 1\n", new PrintStream(log, true));
    }

    @AfterAll
    static void down() throws Exception {
        if (gw != null) {
            gw.close();
        }
        backend.close();
    }

    static RawHttpClient.Response get(String request) throws Exception {
        try (RawHttpClient c = gw.client()) {
            return c.exchange(request);
        }
    }

    static String upstreamSaw(String request) throws Exception {
        backend.captureRaw(true);
        RawHttpClient.Response r = get(request);
        assertEquals(200, r.status(), r.statusLine() + " " + r.bodyText());
        backend.captureRaw(false);
        return new String(backend.rawCaptured(), StandardCharsets.ISO_8859_1);
    }

    static void assert401(String request, String message, String www) throws Exception {
        RawHttpClient.Response r = get(request);
        assertEquals(401, r.status(), request + " -> " + r.bodyText());
        assertEquals("{\"message\":\"" + message + "\"}", r.bodyText().trim(), request);
        assertEquals(www, r.header("www-authenticate"), request);
    }

    static String basic(String userPass) {
        return Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8));
    }

    static String req(String path, String headers) {
        return "GET " + path + " HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
    }

    // ------------------------------------------------------------------------------------------------ basic-auth

    static final String BASIC = "Basic realm=\"basic\"";

    @Test
    void basicAuthRefusalsAreApisixs() throws Exception {
        assert401(req("/ba/x", ""), "Missing authorization in request", BASIC);
        assert401(req("/ba/x", "Authorization: Bearer abc\r\n"), "Invalid authorization in request", BASIC);
        assert401(req("/ba/x", "Authorization: Basic !!notbase64\r\n"), "Invalid authorization in request", BASIC);
        assert401(req("/ba/x", "Authorization: Basic a\r\n"), "Invalid authorization in request", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jackjack-pass") + "\r\n"),
                "Invalid authorization in request", BASIC);
        // "jack:" splits into "jack" and "" (ngx.re.split): a wrong password, not a malformed header.
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic\r\n"), "Invalid authorization in request", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("nobody:jack-pass") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:wrong") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:jack-pas") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:jack-pasX") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:Jack-pass") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:jack-pass1") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic("jill:jack-pass") + "\r\n"),
                "Invalid user authorization", BASIC);
        assert401(req("/ba/x", "Authorization: Basic " + basic(":jack-pass") + "\r\n"),
                "Invalid user authorization", BASIC);
    }

    @Test
    void basicAuthAdmitsAndPassesOrHidesCredentials() throws Exception {
        String auth = "Authorization: Basic " + basic("jack:jack-pass") + "\r\n";
        String up = upstreamSaw(req("/ba/x", auth + "X-Keep: 1\r\n"));
        assertTrue(up.contains(auth), "without hide_credentials Authorization travels: " + up);
        // APISIX's parsing: scheme in any case, padding optional, whitespace removed, password ends at a second ':'.
        assertEquals(200, get(req("/ba/x", "Authorization: basic " + basic("jack:jack-pass") + "\r\n")).status());
        assertEquals(200, get(req("/ba/x", "Authorization: BASIC " + basic("jill:jill-pass").replace("=", "")
                + "\r\n")).status());
        assertEquals(200, get(req("/ba/x", "Authorization: Basic " + basic(" jack : jack-pass ") + "\r\n")).status());
        assertEquals(200, get(req("/ba/x", "Authorization: Basic " + basic("jack:jack-pass:ignored") + "\r\n"))
                .status());
        // ngx.re.split's stop rule: "colon::" is ("colon", ":"), so a password ":" matches; "colon:::" is not.
        assertEquals(200, get(req("/ba/x", "Authorization: Basic " + basic("colon::") + "\r\n")).status());
        assertEquals(401, get(req("/ba/x", "Authorization: Basic " + basic("colon:::") + "\r\n")).status());
        String hidden = upstreamSaw(req("/bah/x", auth + "X-Keep: 1\r\n"));
        assertFalse(hidden.toLowerCase().contains("authorization"), hidden);
        assertTrue(hidden.contains("X-Keep: 1"), hidden);
    }

    @Test
    void aDuplicateBasicAuthUsernameLeavesTheLaterConsumerOut() throws Exception {
        assertTrue(log.toString().contains("consumer dup: its basic-auth username is also the username of consumer jack"),
                log.toString());
        assert401(req("/ba/x", "Authorization: Basic " + basic("jack:other") + "\r\n"), "Invalid user authorization",
                BASIC);
    }

    @Test
    void credentialsHeldInApisix3CredentialsAuthenticateTheirConsumer() throws Exception {
        assertEquals(200, get(req("/cr/x", "Authorization: Basic " + basic("jack:jack-pass") + "\r\n")).status());
        assertEquals(200, get(req("/ba/x", "Authorization: Basic " + basic("carol:carol-pass") + "\r\n")).status());
        assertEquals(200, get(req("/jwt/x", jwt(hs("HS256", "carol-secret", "{\"key\":\"carol-key\"}")))).status());
        // carol is not jack: the whitelist refuses her.
        assertEquals(403, get(req("/cr/x", "Authorization: Basic " + basic("carol:carol-pass") + "\r\n")).status());
    }

    @Test
    void oversizeCredentialsAreRefusedWithoutLeaks() throws Exception {
        String big = "Basic " + basic("jack:" + "p".repeat(40_000));
        assert401(req("/ba/x", "Authorization: " + big + "\r\n"), "Invalid user authorization", BASIC);
        assert401(req("/jwt/x", "Authorization: Bearer " + "a".repeat(20_000) + "." + "b".repeat(20_000) + ".c\r\n"),
                "JWT token invalid", BEARER);
        // Beyond max_header_bytes the codec refuses the head before any plugin runs.
        RawHttpClient.Response r = get(req("/ba/x", "Authorization: Basic " + "A".repeat(70_000) + "\r\n"));
        assertEquals(431, r.status());
        // The loop still serves.
        assertEquals(200, get(req("/ba/x", "Authorization: Basic " + basic("jack:jack-pass") + "\r\n")).status());
    }

    @Test
    void keepAliveMixesRefusalsAndAdmissions() throws Exception {
        try (RawHttpClient c = gw.client()) {
            for (int i = 0; i < 5; i++) {
                assertEquals(401, c.exchange(req("/ba/x", "")).status());
                assertEquals(200, c.exchange(req("/ba/x", "Authorization: Basic " + basic("jill:jill-pass")
                        + "\r\n")).status());
                assertEquals(401, c.exchange(req("/jwt/x", "Authorization: x.y.z\r\n")).status());
                assertEquals(200, c.exchange(req("/jwt/x", "Authorization: " + hs("HS256", JACK_SECRET,
                        "{\"key\":\"jack-key\"}") + "\r\n")).status());
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ jwt-auth

    static final String BEARER = "Bearer realm=\"jwt\"";

    static String b64url(byte[] b) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String b64url(String s) {
        return b64url(s.getBytes(StandardCharsets.UTF_8));
    }

    static String hs(String alg, byte[] secret, String header, String payload) throws Exception {
        String input = b64url(header) + "." + b64url(payload);
        String mac = switch (alg) {
            case "HS256" -> "HmacSHA256";
            case "HS384" -> "HmacSHA384";
            default -> "HmacSHA512";
        };
        Mac m = Mac.getInstance(mac);
        m.init(new SecretKeySpec(secret, mac));
        return input + "." + b64url(m.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
    }

    static String hs(String alg, String secret, String payload) throws Exception {
        return hs(alg, secret.getBytes(StandardCharsets.UTF_8), "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}", payload);
    }

    static String signed(String jca, String alg, PrivateKey key, String payload) throws Exception {
        String input = b64url("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"}") + "." + b64url(payload);
        Signature s = Signature.getInstance(jca);
        s.initSign(key);
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64url(s.sign());
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    static String jwt(String token) {
        return "Authorization: " + token + "\r\n";
    }

    @Test
    void jwtMissingAndMalformedTokens() throws Exception {
        assert401(req("/jwt/x", ""), "Missing JWT token in request", BEARER);
        assert401(req("/jwt/x", "Cookie: other=1\r\n"), "Missing JWT token in request", BEARER);
        assert401(req("/jwt/x", jwt("Bearer abc")), "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt("a.b")), "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt("a.b.c.d")), "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(b64url("not json") + "." + b64url("{\"key\":\"jack-key\"}") + ".sig")),
                "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(b64url("{\"alg\":\"HS256\"}") + "." + b64url("{\"key\":\"jack-key\",}") + ".s")),
                "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(b64url("{\"alg\":\"HS256\"}") + "." + b64url("[1]") + ".s")),
                "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(b64url("{\"alg\":\"HS256\"}") + ".*!." + "s")), "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"sub\":\"jack-key\"}"))),
                "missing user key in JWT token", BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"nobody\"}"))),
                "Invalid user key in JWT token", BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":42}"))),
                "Invalid user key in JWT token", BEARER);
        // A consumer whose public key is unusable was left out (fail closed).
        assertTrue(log.toString().contains("consumer broken: jwt-auth: public_key"), log.toString());
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"broken-key\"}"))),
                "Invalid user key in JWT token", BEARER);
    }

    @Test
    void jwtAdmitsValidTokensFromHeaderQueryOrCookie() throws Exception {
        String t = hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\",\"exp\":" + (now() + 600) + "}");
        String up = upstreamSaw(req("/jwt/x", jwt("Bearer " + t)));
        assertTrue(up.contains("Authorization: Bearer " + t), "without hide_credentials the token travels");
        assertEquals(200, get(req("/jwt/x", jwt(t))).status());
        assertEquals(200, get(req("/jwt/x", jwt("bearer " + t))).status());
        // Empty parts are skipped (lua-resty-jwt splits on "([^.]+)"); the signing input is header "." payload.
        String[] p = t.split("\\.");
        assertEquals(200, get(req("/jwt/x", jwt("." + p[0] + ".." + p[1] + "." + p[2] + "."))).status());
        assertEquals(200, get(req("/jwt/x?a=1&jwt=" + t, "")).status());
        assertEquals(200, get(req("/jwt/x?jwt=" + t.replace(".", "%2E"), "")).status());
        assertEquals(200, get(req("/jwt/x", "Cookie: a=1; jwt=" + t + "; b=2\r\n")).status());
        assertEquals(200, get(req("/jwt/x", "Cookie: a=1\r\nCookie: JWT=" + t + "\r\n")).status());
        // Escaped key claim, numbers as floats, nested values and unknown claims are fine.
        assertEquals(200, get(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"k\\u0065y\":\"jack\\u002dkey\","
                + "\"exp\":" + (now() + 600) + ".5e0,\"nested\":{\"a\":[1,2,{\"b\":null}]},\"x\":true}")))).status());
        // HS512 with a base64 secret; RS256; ES256.
        assertEquals(200, get(req("/jwt/x", jwt(hs("HS512", JILL_SECRET, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
                "{\"key\":\"jill-key\"}")))).status());
        assertEquals(200, get(req("/jwt/x", jwt(signed("SHA256withRSA", "RS256", rsa.getPrivate(),
                "{\"key\":\"rsa-key\"}")))).status());
        assertEquals(200, get(req("/jwt/x", jwt(signed("SHA256withECDSAinP1363Format", "ES256", ec.getPrivate(),
                "{\"key\":\"ec-key\"}")))).status());
    }

    @Test
    void jwtRefusesBadSignaturesAlgorithmsAndClaims() throws Exception {
        String fail = "failed to verify jwt";
        // alg none (empty signature), and a token whose alg is not the consumer's (HS512 for an HS256 consumer).
        String none = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64url("{\"key\":\"jack-key\"}") + ".";
        // lua-resty-jwt keeps the non-empty parts: "h.p." has two, so it is not even a JWT.
        assert401(req("/jwt/x", jwt(none)), "JWT token invalid", BEARER);
        assert401(req("/jwt/x", jwt(none.substring(0, none.length() - 1) + ".AAAA")), fail, BEARER);
        assert401(req("/jwt/x", jwt(hs("HS512", JACK_SECRET, "{\"key\":\"jack-key\"}"))), fail, BEARER);
        // A correct HS256 signature under a header that names another algorithm (or none) is still refused.
        for (String alg : new String[]{"HS512", "none", "hs256", "RS256"}) {
            assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET.getBytes(StandardCharsets.UTF_8),
                    "{\"alg\":\"" + alg + "\"}", "{\"key\":\"jack-key\"}"))), fail, BEARER);
        }
        assertEquals(200, get(req("/jwt/x", jwt(hs("HS256", JACK_SECRET.getBytes(StandardCharsets.UTF_8),
                "{\"alg\":\"HS256\"}", "{\"key\":\"jack-key\"}")))).status());
        assert401(req("/jwt/x", jwt(b64url("{\"typ\":\"JWT\"}") + "." + b64url("{\"key\":\"jack-key\"}") + ".AAAA")),
                fail, BEARER);
        // Algorithm confusion: HS256 signed with the RS256 consumer's public key as the HMAC secret.
        assert401(req("/jwt/x", jwt(hs("HS256", pem(rsa.getPublic()), "{\"key\":\"rsa-key\"}"))), fail, BEARER);
        // Wrong secret, flipped signature, tampered payload (jill's key under jack's signature).
        assert401(req("/jwt/x", jwt(hs("HS256", "not-the-secret", "{\"key\":\"jack-key\"}"))), fail, BEARER);
        String good = hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\"}");
        char last = good.charAt(good.length() - 2);
        assert401(req("/jwt/x", jwt(good.substring(0, good.length() - 2) + (last == 'A' ? 'B' : 'A')
                + good.charAt(good.length() - 1))), fail, BEARER);
        String[] parts = good.split("\\.");
        assert401(req("/jwt/x", jwt(parts[0] + "." + b64url("{\"key\":\"jack-key\",\"admin\":true}") + "." + parts[2])),
                fail, BEARER);
        assert401(req("/jwt/x", jwt(parts[0] + "." + parts[1] + "." + parts[2].substring(0, 10))), fail, BEARER);
        // The signature is base64url only: the same bytes in the standard alphabet do not verify.
        String urlSafe = good;
        for (int n = 0; !urlSafe.split("\\.")[2].matches(".*[-_].*"); n++) {
            urlSafe = hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\",\"n\":" + n + "}");
        }
        String[] u = urlSafe.split("\\.");
        assertEquals(200, get(req("/jwt/x", jwt(urlSafe))).status());
        String std = Base64.getEncoder().withoutPadding().encodeToString(Base64.getUrlDecoder().decode(u[2]));
        assert401(req("/jwt/x", jwt(u[0] + "." + u[1] + "." + std)), fail, BEARER);
        // RS256 signed by another key; ES256 with a DER (not JOSE) signature.
        assert401(req("/jwt/x", jwt(signed("SHA256withRSA", "RS256", rsaOther.getPrivate(), "{\"key\":\"rsa-key\"}"))),
                fail, BEARER);
        assert401(req("/jwt/x", jwt(signed("SHA256withECDSA", "ES256", ec.getPrivate(), "{\"key\":\"ec-key\"}"))),
                fail, BEARER);
        // exp in the past, nbf in the future, non-numeric claims; the consumer's grace period.
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\",\"exp\":" + (now() - 5) + "}"))),
                fail, BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\",\"nbf\":" + (now() + 60) + "}"))),
                fail, BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\",\"exp\":\"9999999999\"}"))),
                fail, BEARER);
        assertEquals(200, get(req("/jwt/x", jwt(hs("HS256", "grace-secret",
                "{\"key\":\"grace-key\",\"exp\":" + (now() - 50) + ",\"nbf\":" + (now() + 50) + "}")))).status());
        assert401(req("/jwt/x", jwt(hs("HS256", "grace-secret", "{\"key\":\"grace-key\",\"exp\":" + (now() - 200)
                + "}"))), fail, BEARER);
        assert401(req("/jwt/x", jwt(hs("HS256", "grace-secret", "{\"key\":\"grace-key\",\"nbf\":" + (now() + 200)
                + "}"))), fail, BEARER);
    }

    @Test
    void jwtCustomLocationsClaimNameRealmAndRequiredClaims() throws Exception {
        String www = "Bearer realm=\"api\"";
        String t = hs("HS256", JACK_SECRET, "{\"sub\":\"jack-key\",\"exp\":" + (now() + 600) + "}");
        assertEquals(200, get(req("/jwtc/x", "X-Jwt: Bearer " + t + "\r\n")).status());
        assertEquals(200, get(req("/jwtc/x?tok=" + t, "")).status());
        assertEquals(200, get(req("/jwtc/x", "Cookie: session=" + t + "\r\n")).status());
        assert401(req("/jwtc/x", jwt(t)), "Missing JWT token in request", www);
        assert401(req("/jwtc/x?jwt=" + t, ""), "Missing JWT token in request", www);
        assert401(req("/jwtc/x", "X-Jwt: " + hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\"}") + "\r\n"),
                "missing user key in JWT token", www);
        // claims_to_verify: [exp] makes exp required.
        assert401(req("/jwtc/x", "X-Jwt: " + hs("HS256", JACK_SECRET, "{\"sub\":\"jack-key\"}") + "\r\n"),
                "failed to verify jwt", www);
    }

    @Test
    void jwtHidesCredentials() throws Exception {
        String t = hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\"}");
        String up = upstreamSaw(req("/jwth/x", jwt("Bearer " + t) + "X-Keep: 1\r\n"));
        assertFalse(up.toLowerCase().contains("authorization"), up);
        assertTrue(up.contains("X-Keep: 1"), up);
        assertTrue(upstreamSaw(req("/jwth/x?a=1&jwt=" + t + "&b=2", "")).startsWith("GET /jwth/x?a=1&b=2 HTTP/1.1"));
        String c = upstreamSaw(req("/jwth/x", "Cookie: a=1; jwt=" + t + "; b=2\r\nCookie: c=3\r\n"));
        assertTrue(c.contains("\r\nCookie: a=1; b=2; c=3\r\n"), c);
        assertFalse(c.contains(t), c);
        String only = upstreamSaw(req("/jwth/x", "Cookie: jwt=" + t + "\r\n"));
        assertFalse(only.toLowerCase().contains("cookie"), only);
    }

    // ------------------------------------------------------------------------------------------------ restriction

    @Test
    void consumerRestriction() throws Exception {
        String jack = "Authorization: Basic " + basic("jack:jack-pass") + "\r\n";
        String jill = "Authorization: Basic " + basic("jill:jill-pass") + "\r\n";
        assertEquals(200, get(req("/cr/x", jack)).status());
        RawHttpClient.Response r = get(req("/cr/x", jill));
        assertEquals(403, r.status());
        assertEquals("{\"message\":\"The consumer_name is forbidden.\"}", r.bodyText().trim());
        assertNull(r.header("www-authenticate"));
        // Blacklist with rejected_code and rejected_msg, after jwt-auth.
        RawHttpClient.Response b = get(req("/crb/x", jwt(hs("HS256", JACK_SECRET, "{\"key\":\"jack-key\"}"))));
        assertEquals(401, b.status());
        assertEquals("{\"message\":\"request is forbidden\"}", b.bodyText().trim());
        assertEquals(200, get(req("/crb/x", jwt(hs("HS512", JILL_SECRET, "{\"alg\":\"HS512\"}",
                "{\"key\":\"jill-key\"}")))).status());
        // allowed_by_methods: jack may POST and PUT only; jill has no entry (allowed).
        assertEquals(403, get(req("/crm/x", jack)).status());
        assertEquals(200, get("POST /crm/x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n" + jack + "\r\n").status());
        assertEquals(200, get(req("/crm/x", jill)).status());
        // consumer_group_id: jack is in gold; jill has no group (401, APISIX's wording).
        assertEquals(200, get(req("/crg/x", jack)).status());
        RawHttpClient.Response g = get(req("/crg/x", jill));
        assertEquals(401, g.status());
        assertEquals("{\"message\":\"The request is rejected, please check the consumer_group_id for this request\"}",
                g.bodyText().trim());
        // No auth plugin on the route: no consumer.
        RawHttpClient.Response n = get(req("/crn/x", jack));
        assertEquals(401, n.status());
        assertEquals("{\"message\":\"The request is rejected, please check the consumer_name for this request\"}",
                n.bodyText().trim());
    }

    @Test
    void unimplementedOptionsAreRefusedNotIgnored() throws Exception {
        // Configuration refuses them with file:line (the schema check) ...
        Path other = java.nio.file.Files.createDirectories(dir.resolve("refused"));
        String yaml = "routes:\n"
                + route("crr", "/crr/*", "      basic-auth: {}\n      consumer-restriction:\n"
                + "        type: route_id\n        whitelist: [crr]\n")
                + route("bax", "/bax/*", "      basic-auth:\n        anonymous_consumer: jack\n")
                + route("jst", "/jst/*", "      jwt-auth:\n        store_in_ctx: true\n")
                + "consumers:\n  - username: ps\n    plugins:\n      jwt-auth:\n        key: ps\n"
                + "        algorithm: PS256\n        public_key: x\n";
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> GatewayFixture.start(other, yaml, "  event_loops: 1\n").close());
        String m = e.getMessage();
        assertTrue(m.contains("(id \"crr\"): failed to check the configuration of plugin consumer-restriction err: type"
                + " route_id is not supported"), m);
        assertTrue(m.contains("(id \"bax\"): failed to check the configuration of plugin basic-auth err:"
                + " anonymous_consumer is not supported"), m);
        assertTrue(m.contains("(id \"jst\"): failed to check the configuration of plugin jwt-auth err: store_in_ctx"),
                m);
        assertTrue(m.contains("algorithm PS256 is not supported"), m);
        // ... and the engine's factories refuse them too (second line, e.g. for a configuration built in code).
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        for (String[] c : new String[][]{{"consumer-restriction", "{\"type\":\"service_id\",\"whitelist\":[\"1\"]}"},
                {"basic-auth", "{\"anonymous_consumer\":\"a\"}"}, {"jwt-auth", "{\"unknown\":1}"}}) {
            com.fasterxml.jackson.databind.node.ObjectNode conf =
                    (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(c[1]);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> Plugins.factory(c[0]).compile(conf), c[0]);
        }
    }
}
