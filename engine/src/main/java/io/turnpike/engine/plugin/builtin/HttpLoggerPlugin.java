package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.logs.HttpLoggerSink;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;

import java.net.URI;
import java.util.Set;

/**
 * APISIX {@code http-logger} (priority 410): APISIX's default log entries POSTed in batches to {@code uri} by the
 * http-logger sender thread, with APISIX's batch processor keys (see {@link HttpLoggerSink}). {@code log_format},
 * request/response bodies and {@code https://} without {@code ssl_verify: true} are refused by the schema.
 */
public final class HttpLoggerPlugin extends LoggerPlugin {
    static final String NAME = "http-logger";

    HttpLoggerPlugin(HttpLoggerSink sink) {
        super(NAME, 410, sink);
    }

    /** The sink (for tests: its delivered / dropped counters). */
    public HttpLoggerSink httpSink() {
        return (HttpLoggerSink) sink();
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 410;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("uri", "auth_header", "timeout", "concat_method", "ssl_verify",
                    "include_req_body", "include_resp_body", "name", "batch_max_size", "inactive_timeout",
                    "buffer_duration", "max_retry_count", "retry_delay", "_meta"));
            String uri = Conf.str(c, "uri", null);
            if (uri == null) {
                throw new IllegalArgumentException(NAME + ": property \"uri\" is required");
            }
            return new HttpLoggerPlugin(new HttpLoggerSink(new HttpLoggerSink.Settings(
                    Conf.str(c, "name", "http logger"), URI.create(uri), Conf.str(c, "auth_header", null),
                    Conf.integer(c, "timeout", 3) * 1000L, !"new_line".equals(Conf.str(c, "concat_method", "json")),
                    Conf.integer(c, "batch_max_size", 1000), Conf.integer(c, "inactive_timeout", 5) * 1000L,
                    Conf.integer(c, "buffer_duration", 60) * 1000L, Conf.integer(c, "max_retry_count", 0),
                    Conf.integer(c, "retry_delay", 1) * 1000L)));
        }
    }
}
