package io.turnpike.config.admin;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Ids for {@code POST}: 20 decimal digits, zero-padded, like APISIX's generated ids. The number is
 * {@code max(previous + 1, epochMillis * 1000)}: strictly increasing within the process (a clock step back does not
 * repeat an id), time-ordered across processes, and fixed-width so the etcd key order is creation order. Uniqueness
 * across gateway processes is enforced by the write itself ({@code putIf(key, value, 0)}: create-only), which takes
 * the next number when the key exists. Only digits: etcd-safe and inside APISIX's id pattern.
 */
final class IdGenerator {

    private final AtomicLong last = new AtomicLong();
    private final LongSupplier clockMillis;

    IdGenerator() {
        this(System::currentTimeMillis);
    }

    IdGenerator(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    String next() {
        long floor = clockMillis.getAsLong() * 1000L;
        long n = last.updateAndGet(p -> Math.max(p + 1, floor));
        return String.format("%020d", n);
    }
}
