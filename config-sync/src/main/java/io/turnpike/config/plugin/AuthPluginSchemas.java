package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Schema checks of the auth plugins {@code basic-auth}, {@code consumer-restriction} and {@code jwt-auth}, as APISIX
 * 3.x checks them (its fields, defaults and jsonschema wording), plus Turnpike's fail-closed refusals: a field APISIX
 * accepts but Turnpike does not act on is refused with a message naming it, and unknown fields are refused with
 * APISIX's {@code additional properties forbidden} wording (APISIX's own schemas for these plugins accept and ignore
 * them). Each method returns null when the configuration is valid, else the reason.
 */
public final class AuthPluginSchemas {
    /** jwt-auth algorithms Turnpike verifies (APISIX 3.x also has PS256/384/512 and EdDSA: refused). */
    public static final List<String> JWT_ALGORITHMS = List.of("HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
            "ES256", "ES384", "ES512");
    private static final List<String> APISIX_JWT_ALGORITHMS = List.of("HS256", "HS384", "HS512", "RS256", "RS384",
            "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA");
    /** APISIX's {@code core.schema.method_schema}. */
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS",
            "CONNECT", "TRACE", "PURGE");
    private static final String REALM_PATTERN = "^[\\x20-\\x21\\x23-\\x5B\\]-\\x7E]+$";

    private AuthPluginSchemas() {
    }

    /**
     * {@code basic-auth}. Consumer: {@code username}, {@code password} (both required strings). Route:
     * {@code hide_credentials} (false), {@code realm} ("basic"); {@code anonymous_consumer} is refused (not implemented).
     */
    public static String basicAuth(ObjectNode conf, boolean consumer) {
        if (consumer) {
            String err = only(conf, Set.of("username", "password"));
            if (err == null) err = required(conf, "username", "password");
            if (err == null) err = string(conf, "username", 0);
            if (err == null) err = string(conf, "password", 0);
            if (err == null) err = noSecretRefs(conf, "username", "password");
            return err;
        }
        String err = only(conf, Set.of("hide_credentials", "realm", "anonymous_consumer", "_meta"));
        if (err == null) err = bool(conf, "hide_credentials");
        if (err == null) err = realm(conf);
        if (err == null) err = meta(conf);
        if (err == null && conf.has("anonymous_consumer")) {
            err = "anonymous_consumer is not supported by Turnpike yet";
        }
        return err;
    }

    /**
     * {@code consumer-restriction}: {@code type} (consumer_name, consumer_group_id; route_id and service_id are refused:
     * they restrict a consumer's routes, which needs consumer plugins merged into routes), {@code whitelist},
     * {@code blacklist}, {@code allowed_by_methods} (at least one of the three), {@code rejected_code} (403),
     * {@code rejected_msg}.
     */
    public static String consumerRestriction(ObjectNode conf) {
        String err = only(conf, Set.of("type", "blacklist", "whitelist", "allowed_by_methods", "rejected_code",
                "rejected_msg", "_meta"));
        if (err == null) err = enumString(conf, "type",
                List.of("consumer_name", "service_id", "route_id", "consumer_group_id"));
        if (err == null) err = stringArray(conf, "blacklist", 1);
        if (err == null) err = stringArray(conf, "whitelist", 1);
        if (err == null) err = allowedByMethods(conf);
        if (err == null) err = integer(conf, "rejected_code", 200);
        if (err == null) err = string(conf, "rejected_msg", 0);
        if (err == null) err = meta(conf);
        if (err == null && !conf.has("blacklist") && !conf.has("whitelist") && !conf.has("allowed_by_methods")) {
            err = "object matches none of the required: [\"blacklist\"] or [\"whitelist\"] or [\"allowed_by_methods\"]";
        }
        if (err == null) {
            String type = conf.path("type").asText("consumer_name");
            if (type.equals("route_id") || type.equals("service_id")) {
                err = "type " + type + " is not supported by Turnpike yet (it restricts a consumer's routes; consumer"
                        + " plugins are not merged into routes)";
            }
        }
        return err;
    }

    /**
     * {@code jwt-auth}. Consumer: {@code key} (required), {@code secret} (required for HS*), {@code algorithm}
     * (HS256), {@code public_key} (required otherwise, PEM), {@code exp} (86400; only used by APISIX's retired sign
     * API), {@code base64_secret}, {@code lifetime_grace_period} (0); {@code private_key} is accepted and unused (older
     * APISIX signed tokens with it). Route: {@code header} (authorization), {@code query} (jwt), {@code cookie} (jwt),
     * {@code hide_credentials}, {@code key_claim_name} (key), {@code realm} (jwt), {@code claims_to_verify};
     * {@code store_in_ctx: true} and {@code anonymous_consumer} are refused.
     */
    public static String jwtAuth(ObjectNode conf, boolean consumer) {
        if (consumer) {
            String err = only(conf, Set.of("key", "secret", "algorithm", "public_key", "private_key", "exp",
                    "base64_secret", "lifetime_grace_period"));
            if (err == null) err = string(conf, "key", 1);
            if (err == null) err = string(conf, "secret", 1);
            if (err == null) err = enumString(conf, "algorithm", APISIX_JWT_ALGORITHMS);
            if (err == null) err = integer(conf, "exp", 1);
            if (err == null) err = bool(conf, "base64_secret");
            if (err == null) err = integer(conf, "lifetime_grace_period", 0);
            if (err == null) err = string(conf, "private_key", 0);
            if (err == null) err = required(conf, "key");
            if (err == null) err = noSecretRefs(conf, "key", "secret", "public_key");
            if (err != null) {
                return err;
            }
            String alg = conf.path("algorithm").asText("HS256");
            boolean hs = alg.startsWith("HS");
            if (conf.has("algorithm")) {
                // APISIX: dependencies.algorithm.oneOf [{algorithm: HS*}, {algorithm: others, public_key required}]
                String pk = hs ? null : string(conf, "public_key", 1);
                if (!hs && (!conf.has("public_key") || pk != null)) {
                    return "failed to validate dependent schema for \"algorithm\": value should match only one"
                            + " schema, but matches none";
                }
            }
            if (conf.has("public_key") && !conf.get("public_key").isTextual()) {
                return "property \"public_key\" validation failed: wrong type: expected string, got "
                        + type(conf.get("public_key"));
            }
            if (hs && !conf.has("secret")) {
                return "property \"secret\" is required when using HS based algorithms";
            }
            if (conf.path("base64_secret").asBoolean(false) && conf.has("secret")) {
                try {
                    Base64.getDecoder().decode(conf.get("secret").asText());
                } catch (IllegalArgumentException e) {
                    return "base64_secret required but the secret is not in base64 format";
                }
            }
            if (!hs && !conf.has("public_key")) {
                return "missing valid public key";
            }
            if (!JWT_ALGORITHMS.contains(alg)) {
                return "algorithm " + alg + " is not supported by Turnpike yet (supported: "
                        + String.join(", ", JWT_ALGORITHMS) + ")";
            }
            return null;
        }
        String err = only(conf, Set.of("header", "query", "cookie", "hide_credentials", "key_claim_name",
                "store_in_ctx", "realm", "anonymous_consumer", "claims_to_verify", "_meta"));
        if (err == null) err = string(conf, "header", 0);
        if (err == null) err = string(conf, "query", 0);
        if (err == null) err = string(conf, "cookie", 0);
        if (err == null) err = bool(conf, "hide_credentials");
        if (err == null) err = string(conf, "key_claim_name", 1);
        if (err == null) err = bool(conf, "store_in_ctx");
        if (err == null) err = realm(conf);
        if (err == null) err = claimsToVerify(conf);
        if (err == null) err = meta(conf);
        if (err == null && conf.has("anonymous_consumer")) {
            err = "anonymous_consumer is not supported by Turnpike yet";
        }
        if (err == null && conf.path("store_in_ctx").asBoolean(false)) {
            err = "store_in_ctx: true is not supported by Turnpike (no plugin reads the stored payload)";
        }
        return err;
    }

    // ------------------------------------------------------------------------------------------------ helpers

    /**
     * APISIX resolves {@code $secret://...} and {@code $env://...} references in plugin fields at request time;
     * Turnpike does not yet, and taking the reference text as the secret itself would weaken it: refused.
     */
    private static String noSecretRefs(ObjectNode conf, String... fields) {
        for (String f : fields) {
            JsonNode n = conf.get(f);
            if (n != null && n.isTextual() && (n.asText().startsWith("$secret://")
                    || n.asText().toUpperCase(java.util.Locale.ROOT).startsWith("$ENV://"))) {
                return "property \"" + f + "\": secret references ($secret://, $env://) are not supported by"
                        + " Turnpike yet";
            }
        }
        return null;
    }

    private static String only(ObjectNode conf, Set<String> allowed) {
        for (Map.Entry<String, JsonNode> e : conf.properties()) {
            if (!allowed.contains(e.getKey())) {
                return "additional properties forbidden, found " + e.getKey();
            }
        }
        return null;
    }

    private static String required(ObjectNode conf, String... names) {
        for (String n : names) {
            if (!conf.has(n)) {
                return "property \"" + n + "\" is required";
            }
        }
        return null;
    }

    static String type(JsonNode n) {
        if (n.isTextual()) return "string";
        if (n.isNumber()) return "number";
        if (n.isBoolean()) return "boolean";
        if (n.isArray()) return "array";
        if (n.isObject()) return "object";
        if (n.isNull()) return "null";
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    private static String failed(String name, String why) {
        return "property \"" + name + "\" validation failed: " + why;
    }

    private static String string(ObjectNode conf, String name, int minLength) {
        JsonNode n = conf.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            return failed(name, "wrong type: expected string, got " + type(n));
        }
        int len = n.asText().codePointCount(0, n.asText().length());
        if (len < minLength) {
            return failed(name, "string too short, expected at least " + minLength + ", got " + len);
        }
        return null;
    }

    private static String bool(ObjectNode conf, String name) {
        JsonNode n = conf.get(name);
        if (n != null && !n.isBoolean()) {
            return failed(name, "wrong type: expected boolean, got " + type(n));
        }
        return null;
    }

    private static String integer(ObjectNode conf, String name, long minimum) {
        JsonNode n = conf.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isIntegralNumber() && !(n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))) {
            return failed(name, "wrong type: expected integer, got " + type(n));
        }
        if (n.asLong() < minimum) {
            return failed(name, "expected " + n.asLong() + " to be at least " + minimum);
        }
        return null;
    }

    private static String enumString(ObjectNode conf, String name, List<String> values) {
        JsonNode n = conf.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isTextual()) {
            return failed(name, "wrong type: expected string, got " + type(n));
        }
        if (!values.contains(n.asText())) {
            return failed(name, "matches none of the enum values");
        }
        return null;
    }

    private static String stringArray(ObjectNode conf, String name, int minItems) {
        JsonNode n = conf.get(name);
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            return failed(name, "wrong type: expected array, got " + type(n));
        }
        if (n.size() < minItems) {
            return failed(name, "expect array to have at least " + minItems + " items");
        }
        for (int i = 0; i < n.size(); i++) {
            if (!n.get(i).isTextual()) {
                return failed(name, "failed to validate item " + (i + 1) + ": wrong type: expected string, got "
                        + type(n.get(i)));
            }
        }
        return null;
    }

    private static String allowedByMethods(ObjectNode conf) {
        JsonNode n = conf.get("allowed_by_methods");
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            return failed("allowed_by_methods", "wrong type: expected array, got " + type(n));
        }
        for (int i = 0; i < n.size(); i++) {
            JsonNode item = n.get(i);
            String prefix = "failed to validate item " + (i + 1) + ": ";
            if (!(item instanceof ObjectNode o)) {
                return failed("allowed_by_methods", prefix + "wrong type: expected object, got " + type(item));
            }
            String err = only(o, Set.of("user", "methods"));
            if (err == null) err = string(o, "user", 0);
            if (err == null) {
                JsonNode m = o.get("methods");
                if (m != null) {
                    if (!m.isArray()) {
                        err = failed("methods", "wrong type: expected array, got " + type(m));
                    } else if (m.isEmpty()) {
                        err = failed("methods", "expect array to have at least 1 items");
                    } else {
                        for (int j = 0; j < m.size() && err == null; j++) {
                            if (!m.get(j).isTextual() || !METHODS.contains(m.get(j).asText())) {
                                err = failed("methods", "failed to validate item " + (j + 1) + ": "
                                        + (m.get(j).isTextual() ? "matches none of the enum values"
                                        : "wrong type: expected string, got " + type(m.get(j))));
                            }
                        }
                    }
                }
            }
            if (err != null) {
                return failed("allowed_by_methods", prefix + err);
            }
        }
        return null;
    }

    private static String realm(ObjectNode conf) {
        String err = string(conf, "realm", 1);
        if (err != null) {
            return err;
        }
        JsonNode n = conf.get("realm");
        if (n == null) {
            return null;
        }
        String v = n.asText();
        if (v.length() > 128) {
            return failed("realm", "string too long, expected at most 128, got " + v.length());
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
                return failed("realm", "failed to match pattern \"" + REALM_PATTERN + "\" with \"" + v + "\"");
            }
        }
        return null;
    }

    private static String claimsToVerify(ObjectNode conf) {
        JsonNode n = conf.get("claims_to_verify");
        if (n == null) {
            return null;
        }
        if (!n.isArray()) {
            return failed("claims_to_verify", "wrong type: expected array, got " + type(n));
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode c = n.get(i);
            if (!c.isTextual()) {
                return failed("claims_to_verify", "failed to validate item " + (i + 1)
                        + ": wrong type: expected string, got " + type(c));
            }
            if (!c.asText().equals("exp") && !c.asText().equals("nbf")) {
                return failed("claims_to_verify", "failed to validate item " + (i + 1)
                        + ": matches none of the enum values");
            }
            if (!seen.add(c.asText())) {
                return failed("claims_to_verify", "expected unique items but items " + (indexOf(n, c) + 1)
                        + " and " + (i + 1) + " are equal");
            }
        }
        return null;
    }

    private static int indexOf(JsonNode array, JsonNode item) {
        for (int i = 0; i < array.size(); i++) {
            if (array.get(i).equals(item)) {
                return i;
            }
        }
        return -1;
    }

    /** APISIX's {@code _meta}: an object ({@code disable} and the rest are checked where plugins are compiled). */
    private static String meta(ObjectNode conf) {
        JsonNode n = conf.get("_meta");
        if (n != null && !n.isObject()) {
            return failed("_meta", "wrong type: expected object, got " + type(n));
        }
        return null;
    }
}
