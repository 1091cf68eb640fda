package io.turnpike.loadtest;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the requests Gatling's HTTP client re-sent on a fresh connection because the pooled connection they were
 * written to closed before a response came (its DEBUG message "Retrying with new HTTP/1.1 connection"; the client does
 * that once, for any method, and the request is then reported by the outcome of the retry only). Against a gateway
 * whose idle timeout is far longer than the run, every such retry means the gateway closed a connection that carried
 * a request: a failure a client without automatic retry would have seen. Wired in logback-test.xml; the other DEBUG
 * messages of that logger (one per connection opened) are dropped here without being formatted.
 */
public final class ClientRetryCounter extends AppenderBase<ILoggingEvent> {
    static final AtomicLong RETRIES = new AtomicLong();
    static final AtomicLong CONNECTIONS = new AtomicLong();

    @Override
    protected void append(ILoggingEvent event) {
        String m = event.getMessage();
        if (m == null) {
            return;
        }
        if (m.startsWith("Retrying with new")) {
            RETRIES.incrementAndGet();
        } else if (m.startsWith("Connected to")) {
            CONNECTIONS.incrementAndGet();
        }
    }
}
