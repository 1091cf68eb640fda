package io.turnpike.tls.keyless;

/**
 * One request on the wire.
 *
 * @param id      correlation id chosen by the client, echoed in the response
 * @param op      {@link KeylessProtocol#OP_SIGN} or {@link KeylessProtocol#OP_DECRYPT}
 * @param keyId   SHA-256 of the certificate's SubjectPublicKeyInfo
 * @param scheme  TLS SignatureScheme code point (e.g. 0x0804 rsa_pss_rsae_sha256); 0 for DECRYPT
 * @param payload for SIGN the data to be signed (BoringSSL hands over the message, not its digest)
 */
public record KeylessRequest(long id, int op, KeyId keyId, int scheme, byte[] payload) {
    public KeylessRequest {
        if (op < 0 || op > 0xFF) {
            throw new IllegalArgumentException("op out of range: " + op);
        }
        if (scheme < 0 || scheme > 0xFFFF) {
            throw new IllegalArgumentException("signature scheme out of range: " + scheme);
        }
        if (payload.length > KeylessProtocol.MAX_REQUEST_PAYLOAD) {
            throw new IllegalArgumentException("payload too large: " + payload.length);
        }
    }

    @Override
    public String toString() {
        return "KeylessRequest{id=" + id + ", op=" + KeylessProtocol.opName(op) + ", key=" + keyId
                + ", scheme=" + SignatureSchemes.name(scheme) + ", payload=" + payload.length + "B}";
    }
}
