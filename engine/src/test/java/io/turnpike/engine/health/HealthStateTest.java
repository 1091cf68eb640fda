package io.turnpike.engine.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** lua-resty-healthcheck's counter and status rules, on the CAS word. */
class HealthStateTest {

    private static String status(HealthState s) {
        return HealthState.statusName(HealthState.status(s.word()));
    }

    @Test
    void failureStreakMarksUnhealthyThroughMostlyHealthy() {
        HealthState s = new HealthState();
        assertFalse(s.report(HealthState.HTTP, 3));
        assertEquals("mostly_healthy", status(s));
        assertTrue(s.healthy());
        assertFalse(s.report(HealthState.HTTP, 3));
        assertTrue(s.report(HealthState.HTTP, 3), "the third failure crosses");
        assertEquals("unhealthy", status(s));
        assertEquals(3, HealthState.counter(s.word(), HealthState.HTTP));
        assertFalse(s.report(HealthState.HTTP, 3), "an unhealthy node does not count failures");
        assertEquals(3, HealthState.counter(s.word(), HealthState.HTTP));
    }

    @Test
    void aSuccessClearsFailuresAndAFailureClearsSuccesses() {
        HealthState s = new HealthState();
        s.report(HealthState.TCP, 2);
        s.report(HealthState.TIMEOUT, 3);
        s.report(HealthState.SUCCESS, 2);
        assertEquals(0, HealthState.counter(s.word(), HealthState.TCP));
        assertEquals(0, HealthState.counter(s.word(), HealthState.TIMEOUT));
        assertEquals(1, HealthState.counter(s.word(), HealthState.SUCCESS));
        assertEquals("mostly_healthy", status(s), "lua-resty-healthcheck stays mostly_healthy until the threshold");
        assertFalse(s.report(HealthState.SUCCESS, 2));
        assertEquals("healthy", status(s));
        // each failure counter has its own threshold: one TCP failure and one timeout do not add up
        s.report(HealthState.TCP, 2);
        s.report(HealthState.TIMEOUT, 2);
        assertTrue(s.healthy());
        assertTrue(s.report(HealthState.TCP, 2));
        assertFalse(s.healthy());
        assertEquals(0, HealthState.counter(s.word(), HealthState.SUCCESS));
    }

    @Test
    void successesBringBackThroughMostlyUnhealthy() {
        HealthState s = new HealthState();
        assertTrue(s.report(HealthState.TIMEOUT, 1));
        assertFalse(s.report(HealthState.SUCCESS, 2));
        assertEquals("mostly_unhealthy", status(s));
        assertFalse(s.healthy());
        assertTrue(s.report(HealthState.SUCCESS, 2));
        assertEquals("healthy", status(s));
        assertFalse(s.report(HealthState.SUCCESS, 2), "a healthy node does not count successes");
    }

    @Test
    void aZeroThresholdDisablesTheCounter() {
        HealthState s = new HealthState();
        for (int i = 0; i < 300; i++) {
            assertFalse(s.report(HealthState.TIMEOUT, 0));
        }
        assertEquals(0L, s.word());
        for (int i = 0; i < 300; i++) {
            s.report(HealthState.HTTP, 254);
        }
        assertFalse(s.healthy());
        assertEquals(254, HealthState.counter(s.word(), HealthState.HTTP), "counters stop at the threshold");
    }
}
