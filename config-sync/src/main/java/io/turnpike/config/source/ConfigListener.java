package io.turnpike.config.source;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import java.util.List;

/**
 * Receives configurations from a {@link ConfigSource}. Called on the source's thread (the config-sync thread),
 * never concurrently for one source; implementations hand the config to the event loops themselves.
 */
public interface ConfigListener {

    /** A complete, valid configuration, newer than any delivered before. */
    void onConfig(ConfigSet config);

    /** A configuration was refused (the file is invalid); the previous one, if any, stays in force. */
    void onRejected(List<ConfigProblem> problems);
}
