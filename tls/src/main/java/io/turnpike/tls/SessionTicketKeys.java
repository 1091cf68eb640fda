package io.turnpike.tls;

import io.netty.handler.ssl.OpenSslSessionTicketKey;

import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Session ticket keys: 48 bytes each, laid out as BoringSSL's {@code SSL_CTX_set_tlsext_ticket_keys} expects,
 * <pre>
 *   0        16        32        48
 *   | name   | HMAC    | AES     |
 * </pre>
 * The first key encrypts new tickets; every key decrypts (so a rotation adds the new key first and keeps the old one
 * until its tickets have expired).
 */
public final class SessionTicketKeys {
    public static final int KEY_BYTES = OpenSslSessionTicketKey.TICKET_KEY_SIZE;

    private SessionTicketKeys() {
    }

    public static OpenSslSessionTicketKey[] toNetty(List<byte[]> keys) {
        OpenSslSessionTicketKey[] out = new OpenSslSessionTicketKey[keys.size()];
        for (int i = 0; i < out.length; i++) {
            byte[] k = keys.get(i);
            if (k.length != KEY_BYTES) {
                throw new IllegalArgumentException("session ticket key " + i + ": " + k.length + " bytes, expected "
                        + KEY_BYTES);
            }
            out[i] = new OpenSslSessionTicketKey(Arrays.copyOfRange(k, 0, 16), Arrays.copyOfRange(k, 16, 32),
                    Arrays.copyOfRange(k, 32, 48));
        }
        return out;
    }

    /** Base64 keys, as written in configuration. */
    public static List<byte[]> parse(List<String> base64) {
        return base64.stream().map(s -> {
            byte[] k = Base64.getDecoder().decode(s.trim());
            if (k.length != KEY_BYTES) {
                throw new IllegalArgumentException("a session ticket key is " + KEY_BYTES + " bytes, got " + k.length);
            }
            return k;
        }).toList();
    }
}
