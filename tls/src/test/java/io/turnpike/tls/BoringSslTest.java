package io.turnpike.tls;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

class BoringSslTest {
    @Test
    void boringSslLoadsOnThisPlatform() {
        // netty-tcnative-boringssl-static ships linux-x86_64 natives; if they fail to load, TLS cannot work at all.
        assertTrue(BoringSsl.isAvailable(), BoringSsl.describe());
        assertTrue(BoringSsl.describe().startsWith("BoringSSL"), BoringSsl.describe());
    }
}
