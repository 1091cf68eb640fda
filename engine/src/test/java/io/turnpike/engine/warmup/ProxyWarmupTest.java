package io.turnpike.engine.warmup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.engine.loop.EngineSettings;
import org.junit.jupiter.api.Test;

/** The start-up warm-up runs its exchanges through the real handlers end to end (leak detection is paranoid). */
class ProxyWarmupTest {
    @Test
    void runsEveryExchangeWithoutClosingAConnection() {
        // run() throws when an exchange closes either side (a parse error, a 4xx/5xx reply, a framing mistake)
        assertEquals(600, ProxyWarmup.run(EngineSettings.defaults(), 600, 60_000));
    }

    @Test
    void stopsAtItsTimeLimit() {
        int done = ProxyWarmup.run(EngineSettings.defaults(), Integer.MAX_VALUE, 50);
        assertTrue(done >= 255 && done < 1_000_000, "exchanges: " + done); // the clock is read every 256 exchanges
    }
}
