package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.logs.FileLoggerSink;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * APISIX {@code file-logger} (priority 399): APISIX's default log entry, one JSON object per line, appended to
 * {@code path} by the log writer thread (see {@link LoggerPlugin}). {@code log_format}, request/response bodies and
 * {@code match} are refused by the schema.
 */
public final class FileLoggerPlugin extends LoggerPlugin {
    static final String NAME = "file-logger";

    FileLoggerPlugin(FileLoggerSink sink) {
        super(NAME, 399, sink);
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 399;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("path", "include_req_body", "include_resp_body", "_meta"));
            String path = Conf.str(c, "path", null);
            if (path == null) {
                throw new IllegalArgumentException(NAME + ": property \"path\" is required");
            }
            try {
                return new FileLoggerPlugin(new FileLoggerSink(Path.of(path)));
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(NAME + ": cannot open \"" + path + "\" for appending: " + e);
            }
        }
    }
}
