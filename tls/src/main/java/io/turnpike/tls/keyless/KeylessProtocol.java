package io.turnpike.tls.keyless;

/**
 * Wire constants of the keyless protocol (see {@code docs/keyless.md} for the frame diagrams).
 *
 * <pre>
 * Request frame (client to key server), big-endian:
 *   u32 length (bytes after this field) | u8 version | u8 op | u16 signature scheme | u64 id | 32 bytes key id | payload
 * Response frame (key server to client):
 *   u32 length | u8 version | u8 status | u16 reserved (0) | u64 id | payload (signature, or UTF-8 error text)
 * </pre>
 */
public final class KeylessProtocol {
    private KeylessProtocol() {
    }

    public static final int VERSION = 1;

    /** Size of the length prefix. */
    public static final int LENGTH_FIELD_SIZE = 4;
    /** Bytes of a request frame after the length prefix and before the payload. */
    public static final int REQUEST_HEADER_SIZE = 1 + 1 + 2 + 8 + KeyId.LENGTH;
    /** Bytes of a response frame after the length prefix and before the payload. */
    public static final int RESPONSE_HEADER_SIZE = 1 + 1 + 2 + 8;
    /** Largest frame (after the length prefix) either side accepts; a larger one is a protocol error. */
    public static final int MAX_FRAME_LENGTH = 64 * 1024;
    /** Largest payload a request may carry. */
    public static final int MAX_REQUEST_PAYLOAD = MAX_FRAME_LENGTH - REQUEST_HEADER_SIZE;

    // ops
    /** Sign {@code payload} (the data to be signed, not a digest) with the key, with the TLS signature scheme. */
    public static final int OP_SIGN = 1;
    /** Raw RSA decryption (TLS_RSA key exchange). Reserved: this version answers {@link #STATUS_UNSUPPORTED_OP}. */
    public static final int OP_DECRYPT = 2;

    // statuses
    public static final int STATUS_OK = 0;
    public static final int STATUS_KEY_NOT_FOUND = 1;
    public static final int STATUS_UNSUPPORTED_SCHEME = 2;
    public static final int STATUS_UNSUPPORTED_OP = 3;
    public static final int STATUS_BAD_REQUEST = 4;
    public static final int STATUS_INTERNAL_ERROR = 5;
    public static final int STATUS_OVERLOADED = 6;

    public static String opName(int op) {
        return switch (op) {
            case OP_SIGN -> "SIGN";
            case OP_DECRYPT -> "DECRYPT";
            default -> "OP(" + op + ")";
        };
    }

    public static String statusName(int status) {
        return switch (status) {
            case STATUS_OK -> "OK";
            case STATUS_KEY_NOT_FOUND -> "KEY_NOT_FOUND";
            case STATUS_UNSUPPORTED_SCHEME -> "UNSUPPORTED_SCHEME";
            case STATUS_UNSUPPORTED_OP -> "UNSUPPORTED_OP";
            case STATUS_BAD_REQUEST -> "BAD_REQUEST";
            case STATUS_INTERNAL_ERROR -> "INTERNAL_ERROR";
            case STATUS_OVERLOADED -> "OVERLOADED";
            default -> "STATUS(" + status + ")";
        };
    }
}
