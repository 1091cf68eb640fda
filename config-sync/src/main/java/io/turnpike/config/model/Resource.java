package io.turnpike.config.model;

/** The APISIX resource kinds, by their etcd key / standalone-file name. */
public enum Resource {
    ROUTES("routes"),
    SERVICES("services"),
    UPSTREAMS("upstreams"),
    SSLS("ssls"),
    CONSUMERS("consumers"),
    PLUGIN_CONFIGS("plugin_configs"),
    GLOBAL_RULES("global_rules"),
    CONSUMER_GROUPS("consumer_groups"),
    PLUGIN_METADATA("plugin_metadata"),
    STREAM_ROUTES("stream_routes"),
    SECRETS("secrets"),
    PROTOS("protos");

    private final String key;

    Resource(String key) {
        this.key = key;
    }

    /** The APISIX name: {@code routes}, {@code plugin_configs}, ... */
    public String key() {
        return key;
    }

    /** True for the three resources that are decoded into typed records. */
    public boolean typed() {
        return this == ROUTES || this == SERVICES || this == UPSTREAMS;
    }

    /** The field that carries an entry's id in a standalone file: {@code username} for consumers, else {@code id}. */
    public String idField() {
        return this == CONSUMERS ? "username" : "id";
    }

    /** The resource for an APISIX name, or null. */
    public static Resource of(String key) {
        for (Resource r : values()) {
            if (r.key.equals(key)) {
                return r;
            }
        }
        return null;
    }
}
