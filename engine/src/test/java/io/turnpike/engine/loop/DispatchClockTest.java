package io.turnpike.engine.loop;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One clock reading per dispatch, read lazily, shared by nested dispatches; the real clock outside any dispatch. */
class DispatchClockTest {
    private static final long PAUSE_NS = TimeUnit.MILLISECONDS.toNanos(3);

    /** Sleeps at least {@link #PAUSE_NS}, so two real readings around it differ by at least that much. */
    private static void pause() {
        long until = System.nanoTime() + PAUSE_NS;
        while (System.nanoTime() < until) {
            LockSupport.parkNanos(PAUSE_NS);
        }
    }

    @Test
    void outsideADispatchEveryReadingIsTheClock() {
        DispatchClock clock = new DispatchClock();
        long a = clock.nanoTime();
        pause();
        long b = clock.nanoTime();
        assertTrue(b - a >= PAUSE_NS, "two readings outside a dispatch must be the real clock: " + (b - a) + " ns apart");
    }

    @Test
    void insideADispatchTheFirstReadingIsKeptAndTakenLazily() {
        DispatchClock clock = new DispatchClock();
        clock.enter();
        try {
            long beforeFirst = System.nanoTime();
            pause(); // entered, not read yet: the reading is the first nanoTime(), not enter()
            long first = clock.nanoTime();
            assertTrue(first - beforeFirst >= PAUSE_NS, "the clock must be read at the first nanoTime(), not at enter()");
            pause();
            assertEquals(first, clock.nanoTime(), "later readings of the same dispatch are the first one");
        } finally {
            clock.exit();
        }
    }

    @Test
    void nestedDispatchesShareTheOuterReadingAndTheNextDispatchReadsAgain() {
        DispatchClock clock = new DispatchClock();
        clock.enter();
        long outer = clock.nanoTime();
        clock.enter();
        pause();
        assertEquals(outer, clock.nanoTime(), "a nested dispatch shares the outer reading");
        clock.exit();
        assertEquals(outer, clock.nanoTime(), "leaving the nested dispatch keeps the outer one's reading");
        clock.exit();
        long after = clock.nanoTime();
        assertTrue(after - outer >= PAUSE_NS, "after the outermost exit the clock is read again");

        pause();
        clock.enter();
        try {
            assertTrue(clock.nanoTime() - after >= PAUSE_NS, "a new dispatch takes a new reading");
        } finally {
            clock.exit();
        }
    }

    @Test
    void aDispatchThatThrowsLeavesTheClockLive() {
        DispatchClock clock = new DispatchClock();
        try {
            clock.enter();
            try {
                clock.nanoTime();
                throw new IllegalStateException("handler failed");
            } finally {
                clock.exit();
            }
        } catch (IllegalStateException expected) {
            // the handler's failure propagates; the clock must not stay frozen
        }
        long a = clock.nanoTime();
        pause();
        assertTrue(clock.nanoTime() - a >= PAUSE_NS, "no dispatch is open after the failed one");
    }
}
