package io.turnpike.bench.propagation;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Writes bulk routes straight into etcd, the way APISIX stores them ({@code <prefix>/routes/<id>}, the JSON value with
 * {@code id}, {@code create_time}, {@code update_time}), in transactions of up to 100 puts (etcd's default
 * {@code --max-txn-ops} is 128), a few in flight. The alternative to the Admin API when it cannot sustain a reasonable
 * rate; the probes and churn writes always go through the Admin API.
 */
final class EtcdLoader implements AutoCloseable {
    static final int TXN_OPS = 100;
    static final int IN_FLIGHT = 4;

    private final Client client;
    private final String prefix;

    EtcdLoader(String endpoint, String prefix) {
        this.client = Client.builder().endpoints(endpoint).maxInboundMessageSize(64 * 1024 * 1024).build();
        this.prefix = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
    }

    /** Puts routes [from, to) of the bulk set; returns the number written. */
    int loadBulk(Routes routes, int from, int to) throws Exception {
        KV kv = client.getKVClient();
        long now = System.currentTimeMillis() / 1000;
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        int written = 0;
        for (int start = from; start < to; start += TXN_OPS) {
            int end = Math.min(to, start + TXN_OPS);
            Op[] ops = new Op[end - start];
            for (int i = start; i < end; i++) {
                String id = Routes.bulkId(i);
                ops[i - start] = Op.put(bytes(prefix + "/routes/" + id),
                        bytes(Routes.etcdValue(id, routes.bulk(i, null), now)), PutOption.DEFAULT);
            }
            inFlight.add(kv.txn().Then(ops).commit());
            written += ops.length;
            if (inFlight.size() >= IN_FLIGHT) {
                inFlight.remove(0).get(30, TimeUnit.SECONDS);
            }
        }
        for (CompletableFuture<?> f : inFlight) {
            f.get(30, TimeUnit.SECONDS);
        }
        return written;
    }

    /** Puts {@code n} consumers {@code bc<i>} with key-auth keys {@code bk<i>}; returns the number written. */
    int loadConsumers(int n) throws Exception {
        KV kv = client.getKVClient();
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int start = 0; start < n; start += TXN_OPS) {
            int end = Math.min(n, start + TXN_OPS);
            Op[] ops = new Op[end - start];
            for (int i = start; i < end; i++) {
                String name = consumerName(i);
                ops[i - start] = Op.put(bytes(prefix + "/consumers/" + name), bytes(consumer(name, "bk" + i)),
                        PutOption.DEFAULT);
            }
            inFlight.add(kv.txn().Then(ops).commit());
            if (inFlight.size() >= IN_FLIGHT) {
                inFlight.remove(0).get(30, TimeUnit.SECONDS);
            }
        }
        for (CompletableFuture<?> f : inFlight) {
            f.get(30, TimeUnit.SECONDS);
        }
        return n;
    }

    static String consumerName(int i) {
        return String.format("bc%06d", i);
    }

    static String consumer(String name, String key) {
        return "{\"username\":\"" + name + "\",\"plugins\":{\"key-auth\":{\"key\":\"" + key + "\"}}}";
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        client.close();
    }
}
