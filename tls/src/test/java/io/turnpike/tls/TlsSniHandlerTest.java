package io.turnpike.tls;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TlsSniHandlerTest {
    @Test
    void ipLiteralsAreRecognisedAsNoSni() {
        assertTrue(TlsSniHandler.isIpLiteral("127.0.0.1"));
        assertTrue(TlsSniHandler.isIpLiteral("::1"));
        assertTrue(TlsSniHandler.isIpLiteral("2001:db8::7"));
        assertFalse(TlsSniHandler.isIpLiteral("localhost"));
        assertFalse(TlsSniHandler.isIpLiteral("1.2.3"));
        assertFalse(TlsSniHandler.isIpLiteral("api.example.com"));
        assertFalse(TlsSniHandler.isIpLiteral("10.0.0.1.example.com"));
    }
}
