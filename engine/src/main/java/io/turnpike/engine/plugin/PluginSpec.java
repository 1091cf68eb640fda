package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.ResponseHead;

/**
 * One configured plugin, compiled from its validated APISIX configuration into an immutable object that every loop
 * shares (like a balancer spec). The phases it runs in are declared by {@link #phases()}, so a chain runs only the
 * plugins of a phase, and an empty phase costs nothing.
 *
 * <p>Phases follow APISIX: {@code rewrite} (auth plugins find the consumer here), {@code access}, {@code
 * header_filter} (response head), {@code log} (after the response). Within a phase, plugins run by descending APISIX
 * priority. A request phase returns {@link #CONTINUE}, or {@link #STOP} after setting a local reply on the context.
 *
 * <p>Methods run on event loops: no allocation, no lock, no blocking, no logging. State that must live per loop is
 * created per loop from the spec (see docs/plugins.md).
 */
public abstract class PluginSpec {
    public static final int PHASE_REWRITE = 1;
    public static final int PHASE_ACCESS = 2;
    public static final int PHASE_HEADER_FILTER = 4;
    public static final int PHASE_LOG = 8;

    public static final int CONTINUE = 0;
    public static final int STOP = 1;
    /**
     * The plugin started asynchronous work (forward-auth's sub-request): it returned {@link PluginContext#pause}'s
     * value and will call {@link PluginContext#resume} on the same loop with {@link #CONTINUE} or {@link #STOP}.
     */
    public static final int PAUSE = 2;
    /**
     * Only as a {@link PluginContext#resume} result: run the paused plugin's phase method again (a limiter whose
     * remote quota arrived decides anew; see {@link PluginContext#wakeTask}).
     */
    public static final int RETRY = 3;

    public final String name;
    public final int priority;
    /** This plugin's bit among the implemented plugins ({@link Plugins#bit}): a consumer's plugin of the same name
     * replaces the route's. */
    public final long nameBit;

    protected PluginSpec(String name, int priority) {
        this.name = name;
        this.priority = priority;
        this.nameBit = Plugins.bit(name);
    }

    /** True for plugins that may return {@link #PAUSE} (refused on consumers, whose chain runs after the route's). */
    public boolean mayPause() {
        return false;
    }

    /** False for plugins that cannot run from a consumer's chain (forward-auth: a route's sub-request). */
    public boolean consumerAllowed() {
        return true;
    }

    /** A bit set of {@code PHASE_*}. */
    public abstract int phases();

    /** The most request and response header edits one exchange of this plugin records (bounded at compile time). */
    public int maxHeaderEdits() {
        return 0;
    }

    public int rewrite(PluginContext x) {
        return CONTINUE;
    }

    public int access(PluginContext x) {
        return CONTINUE;
    }

    /** The upstream's response head arrived ({@code src} holds its bytes): record response edits. */
    public void headerFilter(PluginContext x, ByteBuf src, ResponseHead rh) {
    }

    public void log(PluginContext x) {
    }
}
