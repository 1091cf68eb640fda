package io.turnpike.config.source;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigDelta;
import io.turnpike.config.model.ConfigSet;
import java.util.List;

/**
 * Receives configurations from a {@link ConfigSource}. Called on the source's thread (the config-sync thread),
 * never concurrently for one source; implementations hand the config to the event loops themselves.
 */
public interface ConfigListener {

    /** A complete, valid configuration, newer than any delivered before. */
    void onConfig(ConfigSet config);

    /**
     * A complete, valid configuration and, when the source knows it, what changed since the configuration of
     * {@code delta.fromVersion()} (null: unknown, treat {@code config} as new). The default ignores the delta.
     */
    default void onConfig(ConfigSet config, ConfigDelta delta) {
        onConfig(config);
    }

    /** A configuration was refused (the file is invalid); the previous one, if any, stays in force. */
    void onRejected(List<ConfigProblem> problems);
}
