package io.turnpike.engine.plugin.builtin;

import io.turnpike.engine.logs.LogRing;
import io.turnpike.engine.logs.LogSink;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginSpec;

/**
 * What file-logger and http-logger do on the loop: copy the request head in the rewrite phase (while it is readable;
 * shared with the access log's copy), and in the log phase copy the exchange's record into the loop's
 * {@link LogRing} for their sink. Formatting, files and HTTP happen on the log writer and sender threads.
 */
abstract class LoggerPlugin extends PluginSpec {
    private final LogSink sink;

    LoggerPlugin(String name, int priority, LogSink sink) {
        super(name, priority);
        this.sink = sink;
    }

    @Override
    public int phases() {
        return PHASE_REWRITE | PHASE_LOG;
    }

    @Override
    public int rewrite(PluginContext x) {
        if (x.record() != null && x.head() != null) {
            x.record().request.copy(x.source(), x.head(), LogRing.maxHeadBytes());
        }
        return CONTINUE;
    }

    @Override
    public void log(PluginContext x) {
        if (x.record() != null) {
            LogRing.current().publish(sink, x.record());
        }
    }

    LogSink sink() {
        return sink;
    }
}
