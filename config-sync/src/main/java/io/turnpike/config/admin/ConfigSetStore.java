package io.turnpike.config.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.codec.ResourceCodec;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.model.RawResource;
import io.turnpike.config.model.Resource;
import io.turnpike.config.store.ConfigStore;
import io.turnpike.config.store.StoreException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A read-only {@link ConfigStore} view of the configuration in force, for standalone-file deployments: each call reads
 * the current {@link ConfigSet} from the supplier and presents it in APISIX's etcd layout ({@code <prefix>/<resource>/
 * <id>}, the entries' validated JSON); {@code createRevision} and {@code modRevision} are the set's version (the
 * file's load generation). Writes throw {@link UnsupportedOperationException} (the Admin API refuses them earlier).
 */
public final class ConfigSetStore implements ConfigStore {

    private final Supplier<ConfigSet> current;
    private final String prefix;
    private final ResourceCodec codec = new ResourceCodec();

    public ConfigSetStore(Supplier<ConfigSet> current, String prefix) {
        this.current = current;
        this.prefix = AdminService.normalizePrefix(prefix);
    }

    private Map<String, ObjectNode> values(ConfigSet set) {
        Map<String, ObjectNode> out = new LinkedHashMap<>();
        set.upstreams().forEach((id, u) -> out.put(key(Resource.UPSTREAMS, id),
                u.raw() != null ? u.raw() : codec.encode(u)));
        set.services().forEach((id, s) -> out.put(key(Resource.SERVICES, id),
                s.raw() != null ? s.raw() : codec.encode(s)));
        set.routes().forEach((id, r) -> out.put(key(Resource.ROUTES, id), r.raw() != null ? r.raw() : codec.encode(r)));
        for (Map.Entry<String, Map<String, RawResource>> e : set.others().entrySet()) {
            e.getValue().forEach((id, raw) -> out.put(prefix + "/" + e.getKey() + "/" + id, raw.value()));
        }
        return out;
    }

    private String key(Resource r, String id) {
        return prefix + "/" + r.key() + "/" + id;
    }

    private static Entry entry(String key, ObjectNode value, long version) throws StoreException {
        try {
            return new Entry(key, AdminResponse.JSON.writeValueAsBytes(value), version, version);
        } catch (JsonProcessingException e) {
            throw new StoreException("cannot encode " + key, e);
        }
    }

    @Override
    public Entry get(String key) throws StoreException {
        ConfigSet set = current.get();
        ObjectNode v = values(set).get(key);
        return v == null ? null : entry(key, v, set.version());
    }

    @Override
    public Listing list(String keyPrefix) throws StoreException {
        ConfigSet set = current.get();
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, ObjectNode> e : values(set).entrySet()) {
            if (e.getKey().startsWith(keyPrefix) && e.getValue() != null) {
                out.add(entry(e.getKey(), e.getValue(), set.version()));
            }
        }
        out.sort((a, b) -> a.key().compareTo(b.key()));
        return new Listing(out, set.version());
    }

    @Override
    public Entry put(String key, byte[] value) {
        throw new UnsupportedOperationException("read-only");
    }

    @Override
    public Entry putIf(String key, byte[] value, long expectedModRevision) {
        throw new UnsupportedOperationException("read-only");
    }

    @Override
    public Entry delete(String key) {
        throw new UnsupportedOperationException("read-only");
    }

    @Override
    public boolean deleteIf(String key, long expectedModRevision) {
        throw new UnsupportedOperationException("read-only");
    }

    @Override
    public void close() {
    }
}
