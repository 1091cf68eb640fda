package io.turnpike.bench.propagation;

/**
 * The route set the benchmark writes, as APISIX v3 route JSON. Bulk route {@code i} is one of three kinds, by
 * {@code i % 20}: 0..13 an exact URI {@code /bulk/<i>} (70 %), 14..16 a prefix {@code /bulkp/<i>/*} (15 %), 17..19 a
 * host route {@code hosts: ["h<i>.bulk.test"]} with {@code /bulk/<i>} (15 %). Every route has its own inline upstream
 * pointing at the one backend (identical upstreams share one pool in the gateway).
 */
final class Routes {
    static final String LOAD_ID = "load";
    static final String LOAD_PATH = "/load";
    static final String SENTINEL_ID = "bulk-sentinel";
    static final String SENTINEL_PATH = "/bulk-sentinel";
    static final String DEFAULT_HOST = "bench.test";

    private final String upstream;

    Routes(String backend) {
        this.upstream = "{\"type\":\"roundrobin\",\"nodes\":{\"" + backend + "\":1}}";
    }

    enum Kind { EXACT, PREFIX, HOST }

    static Kind kind(int i) {
        int m = i % 20;
        return m < 14 ? Kind.EXACT : m < 17 ? Kind.PREFIX : Kind.HOST;
    }

    static String bulkId(int i) {
        return "bulk-" + i;
    }

    /** The route body of bulk route i; {@code desc} (may be null) lets churn updates change a route's value. */
    String bulk(int i, String desc) {
        StringBuilder b = new StringBuilder(160);
        b.append('{');
        switch (kind(i)) {
            case EXACT -> b.append("\"uri\":\"/bulk/").append(i).append('"');
            case PREFIX -> b.append("\"uri\":\"/bulkp/").append(i).append("/*\"");
            case HOST -> b.append("\"uri\":\"/bulk/").append(i).append("\",\"hosts\":[\"h").append(i).append(".bulk.test\"]");
        }
        if (desc != null) {
            b.append(",\"desc\":\"").append(desc).append('"');
        }
        b.append(",\"upstream\":").append(upstream).append('}');
        return b.toString();
    }

    /** The request path that bulk route i serves. */
    static String bulkPath(int i) {
        return kind(i) == Kind.PREFIX ? "/bulkp/" + i + "/x" : "/bulk/" + i;
    }

    /** The Host header for a request to bulk route i. */
    static String bulkHost(int i) {
        return kind(i) == Kind.HOST ? "h" + i + ".bulk.test" : DEFAULT_HOST;
    }

    String exact(String path) {
        return "{\"uri\":\"" + path + "\",\"upstream\":" + upstream + "}";
    }

    /** A route that key-auth guards (the consumer probes: a new consumer's key is served once its change applied). */
    String keyAuth(String path) {
        return "{\"uri\":\"" + path + "\",\"plugins\":{\"key-auth\":{}},\"upstream\":" + upstream + "}";
    }

    /** The body as APISIX stores it in etcd: the id and timestamps added to what the Admin API receives. */
    static String etcdValue(String id, String body, long epochSeconds) {
        return "{\"id\":\"" + id + "\",\"create_time\":" + epochSeconds + ",\"update_time\":" + epochSeconds + ","
                + body.substring(1);
    }
}
