package io.turnpike.tls.keyless;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeylessCodecTest {
    private static final KeyId KEY = KeyId.ofSpki("spki".getBytes(StandardCharsets.US_ASCII));

    @Test
    void requestLayoutIsAsDocumented() {
        KeylessRequest req = new KeylessRequest(0x0102030405060708L, KeylessProtocol.OP_SIGN, KEY,
                SignatureSchemes.RSA_PSS_RSAE_SHA256, new byte[] {9, 8, 7});
        ByteBuf buf = Unpooled.buffer();
        try {
            KeylessCodec.encodeRequest(req, buf);
            assertEquals(4 + 44 + 3, buf.readableBytes());
            assertEquals(44 + 3, buf.getInt(0));
            assertEquals(1, buf.getByte(4));                 // version
            assertEquals(1, buf.getByte(5));                 // op SIGN
            assertEquals(0x0804, buf.getUnsignedShort(6));   // rsa_pss_rsae_sha256
            assertEquals(0x0102030405060708L, buf.getLong(8));
            byte[] key = new byte[32];
            buf.getBytes(16, key);
            assertArrayEquals(KEY.toBytes(), key);
            assertEquals(9, buf.getByte(48));
            buf.skipBytes(4);
            KeylessRequest back = KeylessCodec.decodeRequest(buf);
            assertEquals(req.id(), back.id());
            assertEquals(req.op(), back.op());
            assertEquals(req.keyId(), back.keyId());
            assertEquals(req.scheme(), back.scheme());
            assertArrayEquals(req.payload(), back.payload());
        } finally {
            buf.release();
        }
    }

    @Test
    void responseLayoutIsAsDocumented() {
        ByteBuf buf = Unpooled.buffer();
        try {
            KeylessCodec.encodeResponse(KeylessResponse.error(-1L, KeylessProtocol.STATUS_KEY_NOT_FOUND, "nope"), buf);
            assertEquals(4 + 12 + 4, buf.readableBytes());
            assertEquals(16, buf.getInt(0));
            assertEquals(1, buf.getByte(4));
            assertEquals(KeylessProtocol.STATUS_KEY_NOT_FOUND, buf.getByte(5));
            assertEquals(0, buf.getShort(6));
            assertEquals(-1L, buf.getLong(8));
            buf.skipBytes(4);
            KeylessResponse back = KeylessCodec.decodeResponse(buf);
            assertFalse(back.isOk());
            assertEquals("nope", back.errorText());
        } finally {
            buf.release();
        }
    }

    @Test
    void pipelinedFramesSplitAnywhereDecodeInOrder() {
        ByteBuf wire = Unpooled.buffer();
        int n = 50;
        for (int i = 0; i < n; i++) {
            byte[] payload = new byte[i * 7];
            Arrays.fill(payload, (byte) i);
            KeylessCodec.encodeRequest(new KeylessRequest(i, KeylessProtocol.OP_SIGN, KEY, 0x0403, payload), wire);
        }
        EmbeddedChannel server = new EmbeddedChannel();
        KeylessCodec.addServerCodec(server.pipeline());
        // feed in odd-sized chunks so frames straddle reads
        while (wire.isReadable()) {
            server.writeInbound(wire.readRetainedSlice(Math.min(wire.readableBytes(), 13)));
        }
        wire.release();
        for (int i = 0; i < n; i++) {
            KeylessRequest r = server.readInbound();
            assertEquals(i, r.id());
            assertEquals(i * 7, r.payload().length);
            assertEquals(0x0403, r.scheme());
        }
        assertNull(server.readInbound());

        // responses out of order, read back by the client codec
        EmbeddedChannel client = new EmbeddedChannel();
        KeylessCodec.addClientCodec(client.pipeline());
        for (int i = n - 1; i >= 0; i--) {
            assertTrue(server.writeOutbound(KeylessResponse.ok(i, new byte[] {(byte) i})));
        }
        ByteBuf out;
        while ((out = server.readOutbound()) != null) {
            client.writeInbound(out);
        }
        for (int i = n - 1; i >= 0; i--) {
            KeylessResponse r = client.readInbound();
            assertEquals(i, r.id());
            assertTrue(r.isOk());
            assertArrayEquals(new byte[] {(byte) i}, r.payload());
        }
        assertFalse(server.finish());
        assertFalse(client.finish());
    }

    @Test
    void oversizedFrameIsRejected() {
        EmbeddedChannel ch = new EmbeddedChannel();
        KeylessCodec.addServerCodec(ch.pipeline());
        ByteBuf buf = Unpooled.buffer().writeInt(KeylessProtocol.MAX_FRAME_LENGTH + 1).writeZero(16);
        assertThrows(TooLongFrameException.class, () -> ch.writeInbound(buf));
        ch.finishAndReleaseAll();
    }

    @Test
    void wrongVersionAndShortFramesAreRejected() {
        EmbeddedChannel ch = new EmbeddedChannel();
        KeylessCodec.addServerCodec(ch.pipeline());
        ByteBuf bad = Unpooled.buffer().writeInt(44).writeByte(2).writeZero(43);
        DecoderException e = assertThrows(DecoderException.class, () -> ch.writeInbound(bad));
        assertTrue(e.getMessage().contains("version"), e.getMessage());
        ByteBuf shortFrame = Unpooled.buffer().writeInt(3).writeByte(1).writeZero(2);
        assertThrows(DecoderException.class, () -> ch.writeInbound(shortFrame));
        ch.finishAndReleaseAll();
    }

    @Test
    void requestValidation() {
        assertThrows(IllegalArgumentException.class,
                () -> new KeylessRequest(1, 1, KEY, 0x10000, new byte[0]));
        assertThrows(IllegalArgumentException.class,
                () -> new KeylessRequest(1, 1, KEY, 1, new byte[KeylessProtocol.MAX_REQUEST_PAYLOAD + 1]));
        assertThrows(IllegalArgumentException.class, () -> KeyId.of(new byte[31]));
    }

    @Test
    void signatureSchemesMatchJcaVerifiers() throws Exception {
        byte[] data = "TLS 1.3, server CertificateVerify".getBytes(StandardCharsets.US_ASCII);
        KeyPairGenerator rsaGen = KeyPairGenerator.getInstance("RSA");
        rsaGen.initialize(2048);
        KeyPair rsa = rsaGen.generateKeyPair();
        KeyPairGenerator ecGen = KeyPairGenerator.getInstance("EC");
        ecGen.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ec = ecGen.generateKeyPair();

        verify(rsa, SignatureSchemes.RSA_PKCS1_SHA256, data, Signature.getInstance("SHA256withRSA"));
        verify(rsa, SignatureSchemes.RSA_PKCS1_SHA384, data, Signature.getInstance("SHA384withRSA"));
        verify(rsa, SignatureSchemes.RSA_PKCS1_SHA512, data, Signature.getInstance("SHA512withRSA"));
        Signature pss = Signature.getInstance("RSASSA-PSS");
        pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
        verify(rsa, SignatureSchemes.RSA_PSS_RSAE_SHA256, data, pss);
        Signature pss384 = Signature.getInstance("RSASSA-PSS");
        pss384.setParameter(new PSSParameterSpec("SHA-384", "MGF1", MGF1ParameterSpec.SHA384, 48, 1));
        verify(rsa, SignatureSchemes.RSA_PSS_RSAE_SHA384, data, pss384);
        verify(ec, SignatureSchemes.ECDSA_SECP256R1_SHA256, data, Signature.getInstance("SHA256withECDSA"));

        assertInstanceOf(SignatureSchemes.UnsupportedSchemeException.class, assertThrows(Exception.class,
                () -> SignatureSchemes.sign(SignatureSchemes.ECDSA_SECP256R1_SHA256, rsa.getPrivate(), data)));
        assertInstanceOf(SignatureSchemes.UnsupportedSchemeException.class, assertThrows(Exception.class,
                () -> SignatureSchemes.sign(SignatureSchemes.ED25519, ec.getPrivate(), data)));

        // key ids derived from private keys alone match the public keys' SPKI hashes
        assertEquals(KeyId.of(rsa.getPublic()), PemKeys.keyIdOf(rsa.getPrivate()));
        assertEquals(KeyId.of(ec.getPublic()), PemKeys.keyIdOf(ec.getPrivate()));
        ecGen.initialize(new ECGenParameterSpec("secp384r1"));
        KeyPair ec384 = ecGen.generateKeyPair();
        assertEquals(KeyId.of(ec384.getPublic()), PemKeys.keyIdOf(ec384.getPrivate()));
    }

    private static void verify(KeyPair kp, int scheme, byte[] data, Signature verifier) throws Exception {
        byte[] sig = SignatureSchemes.sign(scheme, kp.getPrivate(), data);
        verifier.initVerify(kp.getPublic());
        verifier.update(data);
        assertTrue(verifier.verify(sig), SignatureSchemes.name(scheme));
    }
}
