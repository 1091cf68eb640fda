package io.turnpike.engine.upstream;

import java.util.ArrayDeque;

/**
 * One loop's keep-alive pool for one upstream node: idle connections, most recently used first (warm sockets, and the
 * cold ones at the bottom age out by idle timeout). Confined to its event loop.
 *
 * <p>A pool outlives snapshots as long as its node ("host:port") stays configured. When the node disappears the pool is
 * {@link #retire retired}: idle connections close now, in-flight ones close when released.
 *
 * @param <C> the connection type (the proxy's upstream connection)
 */
public final class NodePool<C extends NodePool.Pooled> {
    /** What the pool needs from a connection. */
    public interface Pooled {
        boolean isReusable();

        void closeQuietly();

        void markIdle(long nowNs);
    }

    /** Which idle connections a request can use (e.g. a TLS connection's SNI must be the request's host). */
    public interface Matcher<C> {
        boolean matches(C c);
    }

    public final String key;
    private final ArrayDeque<C> idle = new ArrayDeque<>(16);
    private int maxIdle;
    private boolean retired;

    public NodePool(String key, int maxIdle) {
        this.key = key;
        this.maxIdle = maxIdle;
    }

    public void maxIdle(int maxIdle) {
        this.maxIdle = maxIdle;
    }

    /** Most recently released usable connection, or null. */
    public C acquire() {
        C c;
        while ((c = idle.pollLast()) != null) {
            if (c.isReusable()) {
                return c;
            }
            c.closeQuietly();
        }
        return null;
    }

    /**
     * The most recently released usable connection that {@code m} accepts, or null. The most recent one is checked
     * first without iterating (the steady state of a single host); others are searched only when it does not match.
     */
    public C acquire(Matcher<? super C> m) {
        C c;
        while ((c = idle.peekLast()) != null && !c.isReusable()) {
            idle.pollLast();
            c.closeQuietly();
        }
        if (c == null) {
            return null;
        }
        if (m.matches(c)) {
            return idle.pollLast();
        }
        for (java.util.Iterator<C> it = idle.descendingIterator(); it.hasNext(); ) {
            C x = it.next();
            if (x.isReusable() && m.matches(x)) {
                it.remove();
                return x;
            }
        }
        return null;
    }

    public void release(C c, long nowNs) {
        if (retired || idle.size() >= maxIdle || !c.isReusable()) {
            c.closeQuietly();
            return;
        }
        c.markIdle(nowNs);
        idle.addLast(c);
    }

    /** Called when an idle connection closed or timed out. O(idle) but only on close. */
    public void remove(C c) {
        idle.remove(c);
    }

    public int idleCount() {
        return idle.size();
    }

    public boolean isRetired() {
        return retired;
    }

    public void retire() {
        retired = true;
        C c;
        while ((c = idle.pollLast()) != null) {
            c.closeQuietly();
        }
    }
}
