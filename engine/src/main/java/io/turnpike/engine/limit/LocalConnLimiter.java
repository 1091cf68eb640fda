package io.turnpike.engine.limit;

import io.turnpike.engine.plugin.PluginContext;

/**
 * limit-conn, policy {@code local}: requests in flight per key, exact across loops. A request finding {@code conn +
 * burst} in flight is rejected; one beyond {@code conn} is delayed (resty.limit.conn: {@code unit_delay *
 * floor((in_flight - 1) / conn)}, where the unit delay starts at {@code default_conn_delay} and, unless {@code
 * only_use_default_delay}, follows the average request time as requests leave; with it, always
 * {@code default_conn_delay}). The slot is given back when the exchange ends, whatever its outcome.
 */
public final class LocalConnLimiter extends ConnLimiter {
    private final LimitTable<Slot> table;
    private final boolean onlyDefaultDelay;
    /** resty.limit.conn's unit delay, microseconds; updated racily by leaving requests (a moving estimate). */
    private volatile long unitDelayUs;

    /** One key's in-flight count; it is its own release hook (shared by every exchange of the key). */
    static final class Slot extends LimitEntry implements PluginContext.EndHook {
        LocalConnLimiter owner;

        @Override
        public void exchangeEnded(PluginContext x) {
            owner.leave(this, x);
        }
    }

    public LocalConnLimiter(String identity, long conn, long burst, long defaultConnDelayMs, boolean onlyDefaultDelay) {
        super(identity, conn, burst);
        this.onlyDefaultDelay = onlyDefaultDelay;
        this.unitDelayUs = defaultConnDelayMs * 1000;
        this.table = new LimitTable<>(() -> {
            Slot s = new Slot();
            s.owner = this;
            return s;
        });
    }

    @Override
    public int acquire(LimitKey key, long nowMs, LimitResult out, Runnable wake) {
        out.limit = conn;
        for (;;) {
            Slot e = table.get(key);
            if (e == null) {
                return Decision.ERROR;
            }
            long s = e.state();
            if (s == LimitEntry.DEAD) {
                table.removeDead(e);
                continue;
            }
            long next = s + 1;
            if (next > conn + burst) {
                out.remaining = 0;
                return Decision.REJECT;
            }
            if (e.cas(s, next)) {
                out.remaining = Math.max(0, conn - next);
                out.hold = e;
                if (next > conn) {
                    out.delayMs = onlyDefaultDelay ? unitDelayUs / 1000 : unitDelayUs * ((next - 1) / conn) / 1000;
                } else {
                    out.delayMs = 0;
                }
                return Decision.ADMIT;
            }
        }
    }

    void leave(Slot e, PluginContext x) {
        for (;;) {
            long s = e.state();
            if (s <= 0) {
                return; // never below zero (a slot is released once per admitted exchange)
            }
            if (e.cas(s, s - 1)) {
                break;
            }
        }
        if (!onlyDefaultDelay && x != null && x.record() != null && x.record().endNs != 0) {
            long latencyUs = (x.record().endNs - x.record().startNs) / 1000;
            unitDelayUs = (unitDelayUs + latencyUs) / 2;
        }
    }

    /** Requests in flight for a key (tests). */
    public long inFlight(LimitKey key) {
        LimitEntry e = table.get(key);
        return e == null ? 0 : e.state();
    }

    @Override
    public int sweep(long nowMs) {
        return table.sweep(s -> s == 0);
    }

    @Override
    public int keys() {
        return table.size();
    }
}
