package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The consumers of a snapshot and their credentials, indexed for the auth plugins: key-auth keys, basic-auth usernames
 * and jwt-auth keys are looked up from bytes without decoding to strings or allocating (open addressing over the
 * bytes). Immutable; shared by all
 * loops; rebuilt when consumers change.
 */
public final class ConsumerIndex {
    public static final ConsumerIndex EMPTY = new ConsumerIndex(Map.of(), List.of());

    private final Map<String, Consumer> byName;
    private final byte[][] keys;
    private final Consumer[] owners;
    private final int mask;
    private final ByteKeyTable<BasicAuthCredential> basicAuth;
    private final ByteKeyTable<JwtCredential> jwtAuth;

    /** @param keyAuth pairs of (key, consumer) for key-auth */
    public ConsumerIndex(Map<String, Consumer> byName, List<Map.Entry<String, Consumer>> keyAuth) {
        this(byName, keyAuth, List.of(), List.of());
    }

    /**
     * @param keyAuth   pairs of (key, consumer) for key-auth
     * @param basicAuth basic-auth credentials, unique by username
     * @param jwtAuth   jwt-auth credentials, unique by key
     */
    public ConsumerIndex(Map<String, Consumer> byName, List<Map.Entry<String, Consumer>> keyAuth,
                         List<BasicAuthCredential> basicAuth, List<JwtCredential> jwtAuth) {
        this.byName = Map.copyOf(byName);
        this.basicAuth = new ByteKeyTable<>(basicAuth.stream()
                .map(b -> Map.entry(b.username, b)).toList());
        this.jwtAuth = new ByteKeyTable<>(jwtAuth.stream()
                .map(j -> Map.entry(j.key, j)).toList());
        int cap = Integer.highestOneBit(Math.max(4, keyAuth.size() * 2 + 1)) * 2;
        this.keys = new byte[cap][];
        this.owners = new Consumer[cap];
        this.mask = cap - 1;
        for (Map.Entry<String, Consumer> e : keyAuth) {
            byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
            int i = hash(k, 0, k.length) & mask;
            while (keys[i] != null) {
                if (java.util.Arrays.equals(keys[i], k)) {
                    throw new IllegalArgumentException("duplicate key-auth key");
                }
                i = (i + 1) & mask;
            }
            keys[i] = k;
            owners[i] = e.getValue();
        }
    }

    public Consumer byName(String username) {
        return byName.get(username);
    }

    public int size() {
        return byName.size();
    }

    /** The consumer whose key-auth key is {@code buf[start, end)}, or null. */
    public Consumer byKey(ByteBuf buf, int start, int end) {
        int h = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            h = (h ^ (buf.getByte(i) & 0xff)) * 0x01000193;
        }
        int i = h & mask;
        byte[] k;
        while ((k = keys[i]) != null) {
            if (Bytes.equals(buf, start, end, k)) {
                return owners[i];
            }
            i = (i + 1) & mask;
        }
        return null;
    }

    /** The basic-auth credential whose username is {@code b[start, end)}, or null. */
    public BasicAuthCredential basicAuth(byte[] b, int start, int end) {
        return basicAuth.get(b, start, end);
    }

    /** The jwt-auth credential whose key is {@code b[start, end)}, or null. */
    public JwtCredential jwtAuth(byte[] b, int start, int end) {
        return jwtAuth.get(b, start, end);
    }

    private static int hash(byte[] b, int start, int end) {
        int h = 0x811c9dc5;
        for (int i = start; i < end; i++) {
            h = (h ^ (b[i] & 0xff)) * 0x01000193;
        }
        return h;
    }
}
