package io.turnpike.engine.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A blocking HTTP/1.1 client over a plain socket that sends exactly the bytes a test gives it and reads responses with
 * its own small, strict reader (Content-Length, chunked, or until close). Used to probe framing edge cases no
 * well-behaved client library would send.
 */
public final class RawHttpClient implements AutoCloseable {
    public record Response(int status, String statusLine, Map<String, List<String>> headers, byte[] body) {
        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[65536];
    private int pos;
    private int limit;

    public RawHttpClient(int port) throws IOException {
        this(port, 10_000);
    }

    public RawHttpClient(int port, int timeoutMs) throws IOException {
        this(port, timeoutMs, 0);
    }

    /** @param receiveBufferBytes SO_RCVBUF set before connecting (bounds what the kernel reads ahead); 0: default */
    public RawHttpClient(int port, int timeoutMs, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(timeoutMs);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public Socket socket() {
        return socket;
    }

    /** The raw output stream, for bodies sent piece by piece. */
    public OutputStream output() {
        return out;
    }

    /**
     * Reads up to {@code len} raw bytes (what the reader buffered first, then the socket); -1 at end of stream. For
     * reading a body at the test's own pace after {@link #readHead()}.
     */
    public int readSome(byte[] b, int off, int len) throws IOException {
        if (pos == limit) {
            int n = in.read(b, off, len);
            return n;
        }
        int n = Math.min(len, limit - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    /** Reads a status line and headers only; the body (if any) is left for {@link #readSome}. */
    public Response readHead() throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while ((line = readLine()) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        return new Response(status, statusLine, headers, new byte[0]);
    }

    /** Everything until the peer closes (or the socket timeout), at most {@code max} bytes. */
    public byte[] readUntilClose(int max) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] tmp = new byte[8192];
        try {
            int n;
            while (b.size() < max && (n = readSome(tmp, 0, Math.min(tmp.length, max - b.size()))) > 0) {
                b.write(tmp, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // what arrived so far
        } catch (IOException e) {
            // reset: what arrived so far
        }
        return b.toByteArray();
    }

    public RawHttpClient send(String s) throws IOException {
        return send(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawHttpClient send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
        return this;
    }

    public Response exchange(String request) throws IOException {
        send(request);
        return read(false);
    }

    private int readByte() throws IOException {
        if (pos == limit) {
            limit = in.read(buf, 0, buf.length);
            pos = 0;
            if (limit <= 0) {
                limit = 0;
                return -1;
            }
        }
        return buf[pos++] & 0xff;
    }

    private String readLine() throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = readByte()) != -1) {
            if (c == '\n') {
                int n = b.length();
                if (n > 0 && b.charAt(n - 1) == '\r') {
                    b.setLength(n - 1);
                }
                return b.toString();
            }
            b.append((char) c);
        }
        return b.length() == 0 ? null : b.toString();
    }

    /** Reads one response; {@code headRequest} means no body follows whatever the headers say. */
    public Response read(boolean headRequest) throws IOException {
        String statusLine = readLine();
        if (statusLine == null) {
            throw new IOException("connection closed before a response");
        }
        int status = Integer.parseInt(statusLine.substring(9, 12));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String line;
        while ((line = readLine()) != null && !line.isEmpty()) {
            int colon = line.indexOf(':');
            headers.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(line.substring(colon + 1).trim());
        }
        if (status >= 100 && status < 200) {
            return new Response(status, statusLine, headers, new byte[0]);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (headRequest || status == 204 || status == 304) {
            // no body
        } else if (te != null && te.get(te.size() - 1).toLowerCase(Locale.ROOT).endsWith("chunked")) {
            while (true) {
                String sizeLine = readLine();
                int semi = sizeLine.indexOf(';');
                int size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
                if (size == 0) {
                    String trailer;
                    while ((trailer = readLine()) != null && !trailer.isEmpty()) {
                        // trailers ignored
                    }
                    break;
                }
                for (int i = 0; i < size; i++) {
                    body.write(readByte());
                }
                readLine();
            }
        } else if (cl != null) {
            long n = Long.parseLong(cl.get(0));
            for (long i = 0; i < n; i++) {
                int c = readByte();
                if (c < 0) {
                    throw new IOException("closed after " + i + " of " + n + " body bytes");
                }
                body.write(c);
            }
        } else {
            int c;
            while ((c = readByte()) != -1) {
                body.write(c);
            }
        }
        return new Response(status, statusLine, headers, body.toByteArray());
    }

    /** True when the server closed the connection (EOF within the timeout). */
    public boolean isClosedByPeer(int timeoutMs) throws IOException {
        int old = socket.getSoTimeout();
        socket.setSoTimeout(timeoutMs);
        try {
            return readByte() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        } finally {
            socket.setSoTimeout(old);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
