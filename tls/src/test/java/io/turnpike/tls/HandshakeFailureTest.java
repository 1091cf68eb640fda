package io.turnpike.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.turnpike.tls.keyless.KeylessException;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLHandshakeException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HandshakeFailureTest {
    private static SSLHandshakeException boring(String reason) {
        return new SSLHandshakeException("error:10000000:SSL routines:OPENSSL_internal:" + reason);
    }

    @Test
    void boringSslReasonsAreSorted() {
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("UNSUPPORTED_PROTOCOL")));
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("NO_SHARED_CIPHER")));
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("NO_SHARED_GROUP")));
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("WRONG_CURVE")));
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("NO_COMMON_SIGNATURE_ALGORITHMS")));
        assertEquals(HandshakeFailure.PROTOCOL, HandshakeFailure.classify(boring("TLSV1_ALERT_PROTOCOL_VERSION")));
        assertEquals(HandshakeFailure.CLIENT_CERTIFICATE,
                HandshakeFailure.classify(boring("PEER_DID_NOT_RETURN_A_CERTIFICATE")));
        assertEquals(HandshakeFailure.CLIENT_CERTIFICATE,
                HandshakeFailure.classify(boring("CERTIFICATE_VERIFY_FAILED")));
        assertEquals(HandshakeFailure.PEER_ALERT, HandshakeFailure.classify(boring("TLSV1_ALERT_UNKNOWN_CA")));
        assertEquals(HandshakeFailure.PEER_ALERT, HandshakeFailure.classify(boring("SSLV3_ALERT_BAD_CERTIFICATE")));
        assertEquals(HandshakeFailure.KEYLESS, HandshakeFailure.classify(boring("PRIVATE_KEY_OPERATION_FAILED")));
        assertEquals(HandshakeFailure.OTHER, HandshakeFailure.classify(boring("DECODE_ERROR")));
        assertEquals(HandshakeFailure.OTHER, HandshakeFailure.classify(new IllegalStateException()));
    }

    @Test
    void exceptionTypesAndCausesAreSorted() {
        assertEquals(HandshakeFailure.NOT_TLS, HandshakeFailure.classify(new NotSslRecordException("GET /")));
        assertEquals(HandshakeFailure.CLOSED, HandshakeFailure.classify(new ClosedChannelException()));
        assertEquals(HandshakeFailure.CLOSED, HandshakeFailure.classify(new SslHandshakeTimeoutException("t")));
        SSLHandshakeException keyless = boring("INTERNAL_ERROR");
        keyless.initCause(new KeylessException(KeylessException.Reason.UNAVAILABLE, "down"));
        assertEquals(HandshakeFailure.KEYLESS, HandshakeFailure.classify(keyless));
        SSLHandshakeException verify = new SSLHandshakeException("verify");
        verify.initCause(new CertificateException("untrusted"));
        assertEquals(HandshakeFailure.CLIENT_CERTIFICATE, HandshakeFailure.classify(verify));
        assertEquals("unknown_sni", HandshakeFailure.UNKNOWN_SNI.key());
    }

    @Test
    void countersCountTheHandshakeFutureOutcome() {
        TlsHandshakeCounters c = new TlsHandshakeCounters();
        Future<Channel> ok = ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
        Future<Channel> failed = ImmediateEventExecutor.INSTANCE.newFailedFuture(boring("NO_SHARED_CIPHER"));
        c.operationComplete(ok);
        c.operationComplete(ok);
        c.operationComplete(failed);
        c.failed(HandshakeFailure.UNKNOWN_SNI, null);
        assertEquals(2, c.completedCount());
        assertEquals(1, c.failures(HandshakeFailure.PROTOCOL));
        assertEquals(1, c.failures(HandshakeFailure.UNKNOWN_SNI));
        assertEquals(0, c.failures(HandshakeFailure.OTHER));
    }
}
