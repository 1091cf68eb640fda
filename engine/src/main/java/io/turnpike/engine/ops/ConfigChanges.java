package io.turnpike.engine.ops;

import io.turnpike.config.process.OperationsConfig;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.TurnpikeSettings;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The config.yaml keys that differ between two process configurations, each marked live (applied by a reload) or
 * restart (takes effect only in a new process). Keys are compared by value, component by component of the records
 * ({@link ProcessConfig}, {@link TurnpikeSettings}, {@link OperationsConfig}), so a key added to them later is found
 * and, until it is listed in {@link #LIVE}, reported as needing a restart: never silently ignored. Stateless.
 */
public final class ConfigChanges {
    /** The keys a reload applies to the running process (docs/operations.md). */
    public static final Set<String> LIVE = Set.of("turnpike.drain_timeout_ms", "apisix.enable_control",
            "apisix.control");

    /** ProcessConfig component → config.yaml key (nested records are listed per key below). */
    private static final Map<String, String> TOP_KEYS = Map.of(
            "nodeListen", "apisix.node_listen",
            "ssl", "apisix.ssl",
            "role", "deployment.role",
            "configProvider", "deployment.role_<role>.config_provider",
            "etcd", "deployment.etcd",
            "admin", "deployment.admin (and apisix.enable_admin)",
            "prometheusExportAddr", "plugin_attr.prometheus.export_addr",
            "discovery", "discovery.dns / turnpike.dns");
    private static final Map<String, String> OPERATIONS_KEYS = Map.of(
            "enableControl", "apisix.enable_control",
            "control", "apisix.control",
            "pidFile", "turnpike.pid_file");

    /** One changed key. */
    public record Change(String key, boolean live) {
    }

    private ConfigChanges() {
    }

    /** The changed keys, in record order. */
    public static List<Change> between(ProcessConfig before, ProcessConfig after) {
        List<Change> out = new ArrayList<>();
        for (RecordComponent c : ProcessConfig.class.getRecordComponents()) {
            String name = c.getName();
            if (name.equals("configFile")) {
                continue;
            }
            Object a = value(c, before);
            Object b = value(c, after);
            if (name.equals("turnpike")) {
                nested(TurnpikeSettings.class, a, b, "turnpike.", Map.of(), out);
            } else if (name.equals("operations")) {
                nested(OperationsConfig.class, a, b, "", OPERATIONS_KEYS, out);
            } else if (!Objects.equals(a, b)) {
                add(TOP_KEYS.getOrDefault(name, name), out);
            }
        }
        return out;
    }

    private static void nested(Class<? extends Record> type, Object a, Object b, String prefix,
                               Map<String, String> keys, List<Change> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            if (!Objects.equals(value(c, a), value(c, b))) {
                String key = keys.get(c.getName());
                add(key != null ? key : prefix + snake(c.getName()), out);
            }
        }
    }

    private static void add(String key, List<Change> out) {
        out.add(new Change(key, LIVE.contains(key)));
    }

    private static Object value(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code drainTimeoutMs} → {@code drain_timeout_ms}. */
    static String snake(String camel) {
        StringBuilder b = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char ch = camel.charAt(i);
            if (Character.isUpperCase(ch)) {
                b.append('_').append(Character.toLowerCase(ch));
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }
}
