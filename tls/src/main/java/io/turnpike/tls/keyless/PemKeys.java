package io.turnpike.tls.keyless;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.ECField;
import java.security.spec.ECFieldFp;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM reading for the key server and the tests: private keys in PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code
 * BEGIN RSA PRIVATE KEY}) and SEC1 ({@code BEGIN EC PRIVATE KEY}), unencrypted; certificates; and the public key that
 * belongs to a private key (to index keys by {@link KeyId} without needing the certificate).
 */
public final class PemKeys {
    private PemKeys() {
    }

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    // DER OIDs (tag+length+value) used to wrap PKCS#1 / SEC1 keys into PKCS#8
    private static final byte[] RSA_ALGORITHM_ID = hex("300d06092a864886f70d0101010500");
    private static final byte[] EC_PUBLIC_KEY_OID = hex("06072a8648ce3d0201");

    /** All private keys in a PEM text (encrypted keys are rejected). */
    public static List<PrivateKey> readPrivateKeys(String pem) throws GeneralSecurityException {
        List<PrivateKey> keys = new ArrayList<>();
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (type) {
                case "PRIVATE KEY" -> keys.add(pkcs8(der));
                case "RSA PRIVATE KEY" -> keys.add(pkcs8(wrapPkcs1(der)));
                case "EC PRIVATE KEY" -> keys.add(pkcs8(wrapSec1(der)));
                case "ENCRYPTED PRIVATE KEY" -> throw new GeneralSecurityException(
                        "encrypted private keys are not supported; decrypt it first (openssl pkey -in k.pem -out k2.pem)");
                default -> {
                    // certificates, EC PARAMETERS and other blocks are ignored
                }
            }
        }
        return keys;
    }

    public static List<PrivateKey> readPrivateKeys(Path file) throws IOException, GeneralSecurityException {
        return readPrivateKeys(Files.readString(file, StandardCharsets.US_ASCII));
    }

    /** All certificates in a PEM file, in order. */
    public static List<X509Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        return readCertificates(Files.readAllBytes(file));
    }

    public static List<X509Certificate> readCertificates(byte[] pem) throws GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        for (var c : cf.generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    /** The public key of an RSA (CRT) or EC private key. */
    public static PublicKey publicKeyOf(PrivateKey key) throws GeneralSecurityException {
        if (key instanceof RSAPrivateCrtKey rsa) {
            return KeyFactory.getInstance("RSA").generatePublic(
                    new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
        }
        if (key instanceof ECPrivateKey ec) {
            ECParameterSpec params = ec.getParams();
            ECPoint q = multiply(params, ec.getS());
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(q, params));
        }
        throw new GeneralSecurityException("cannot derive the public key of a " + key.getAlgorithm() + " key ("
                + key.getClass().getSimpleName() + "); only RSA (CRT) and EC keys are supported");
    }

    /** The {@link KeyId} of a private key: SHA-256 of its public key's SubjectPublicKeyInfo. */
    public static KeyId keyIdOf(PrivateKey key) throws GeneralSecurityException {
        return KeyId.of(publicKeyOf(key));
    }

    private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        GeneralSecurityException last = null;
        for (String alg : new String[] {"RSA", "EC"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new GeneralSecurityException("unsupported private key (only RSA and EC): " + last.getMessage(), last);
    }

    /** PKCS#8 PrivateKeyInfo around a PKCS#1 RSAPrivateKey. */
    private static byte[] wrapPkcs1(byte[] pkcs1) {
        return der(0x30, concat(hex("020100"), RSA_ALGORITHM_ID, der(0x04, pkcs1)));
    }

    /** PKCS#8 PrivateKeyInfo around a SEC1 ECPrivateKey, taking the named curve from its [0] parameters. */
    private static byte[] wrapSec1(byte[] sec1) throws GeneralSecurityException {
        // ECPrivateKey ::= SEQUENCE { version INTEGER, privateKey OCTET STRING, [0] ECParameters OPTIONAL, [1] ... }
        Der seq = new Der(sec1);
        seq.expect(0x30);
        int end = seq.pos + seq.length();
        byte[] curveOid = null;
        while (seq.pos < end) {
            int tag = seq.bytes[seq.pos] & 0xFF;
            int start = seq.pos;
            seq.pos++;
            int len = seq.length();
            if (tag == 0xA0) {
                curveOid = java.util.Arrays.copyOfRange(seq.bytes, seq.pos, seq.pos + len);
            }
            seq.pos += len;
            if (seq.pos <= start) {
                break;
            }
        }
        if (curveOid == null || curveOid.length == 0 || curveOid[0] != 0x06) {
            throw new GeneralSecurityException("EC PRIVATE KEY without a named curve is not supported");
        }
        byte[] algId = der(0x30, concat(EC_PUBLIC_KEY_OID, curveOid));
        return der(0x30, concat(hex("020100"), algId, der(0x04, sec1)));
    }

    private static final class Der {
        final byte[] bytes;
        int pos;

        Der(byte[] bytes) {
            this.bytes = bytes;
        }

        void expect(int tag) throws GeneralSecurityException {
            if (pos >= bytes.length || (bytes[pos] & 0xFF) != tag) {
                throw new GeneralSecurityException("malformed DER: expected tag " + Integer.toHexString(tag));
            }
            pos++;
        }

        int length() throws GeneralSecurityException {
            if (pos >= bytes.length) {
                throw new GeneralSecurityException("malformed DER: truncated");
            }
            int b = bytes[pos++] & 0xFF;
            if (b < 0x80) {
                return b;
            }
            int n = b & 0x7F;
            if (n == 0 || n > 3 || pos + n > bytes.length) {
                throw new GeneralSecurityException("malformed DER length");
            }
            int len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (bytes[pos++] & 0xFF);
            }
            if (pos + len > bytes.length) {
                throw new GeneralSecurityException("malformed DER: length beyond end");
            }
            return len;
        }
    }

    private static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }

    // --- EC scalar multiplication (affine, double-and-add) over a prime field: only used at key load time ---

    private static ECPoint multiply(ECParameterSpec params, BigInteger k) throws GeneralSecurityException {
        ECField field = params.getCurve().getField();
        if (!(field instanceof ECFieldFp fp)) {
            throw new GeneralSecurityException("only prime-field EC curves are supported");
        }
        BigInteger p = fp.getP();
        BigInteger a = params.getCurve().getA();
        ECPoint result = ECPoint.POINT_INFINITY;
        ECPoint addend = params.getGenerator();
        for (int i = 0; i < k.bitLength(); i++) {
            if (k.testBit(i)) {
                result = add(result, addend, a, p);
            }
            addend = add(addend, addend, a, p);
        }
        return result;
    }

    private static ECPoint add(ECPoint P, ECPoint Q, BigInteger a, BigInteger p) {
        if (P.equals(ECPoint.POINT_INFINITY)) {
            return Q;
        }
        if (Q.equals(ECPoint.POINT_INFINITY)) {
            return P;
        }
        BigInteger x1 = P.getAffineX();
        BigInteger y1 = P.getAffineY();
        BigInteger x2 = Q.getAffineX();
        BigInteger y2 = Q.getAffineY();
        BigInteger lambda;
        if (x1.equals(x2)) {
            if (!y1.equals(y2) || y1.signum() == 0) {
                return ECPoint.POINT_INFINITY;
            }
            lambda = x1.pow(2).multiply(BigInteger.valueOf(3)).add(a)
                    .multiply(y1.shiftLeft(1).modInverse(p)).mod(p);
        } else {
            lambda = y2.subtract(y1).multiply(x2.subtract(x1).modInverse(p)).mod(p);
        }
        BigInteger x3 = lambda.pow(2).subtract(x1).subtract(x2).mod(p);
        BigInteger y3 = lambda.multiply(x1.subtract(x3)).subtract(y1).mod(p);
        return new ECPoint(x3, y3);
    }
}
