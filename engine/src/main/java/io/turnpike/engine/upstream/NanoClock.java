package io.turnpike.engine.upstream;

/** Monotonic time source for balancers ({@link #SYSTEM} in production, a fake one in tests). */
@FunctionalInterface
public interface NanoClock {
    NanoClock SYSTEM = System::nanoTime;

    long nanoTime();
}
