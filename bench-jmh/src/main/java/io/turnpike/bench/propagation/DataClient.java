package io.turnpike.bench.propagation;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal blocking HTTP/1.1 client on one keep-alive socket: sends a GET, reads the status line and headers, skips the
 * body (Content-Length or chunked) and returns the status code. It reconnects lazily after a failure or a
 * {@code Connection: close}. One instance per thread; no allocation per request beyond what the socket streams do.
 */
final class DataClient implements Closeable {
    private final InetSocketAddress address;
    private final int timeoutMs;
    private final byte[] buf = new byte[16 * 1024];
    private int pos;
    private int lim;
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    /** Connections opened so far (the first one included): more than one means the gateway or we closed one. */
    long connects;

    DataClient(InetSocketAddress address, int timeoutMs) {
        this.address = address;
        this.timeoutMs = timeoutMs;
    }

    /** The request bytes for {@code GET path} with the given Host header; build once, send many times. */
    /** With one extra header line ({@code "Name: value"}). */
    static byte[] request(String path, String host, String header) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n" + header + "\r\nUser-Agent: turnpike-propagation\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] request(String path, String host) {
        return ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: turnpike-propagation\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    boolean connected() {
        return socket != null;
    }

    void connect() throws IOException {
        close();
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMs);
            s.connect(address, timeoutMs);
            in = s.getInputStream();
            out = s.getOutputStream();
        } catch (IOException e) {
            s.close();
            throw e;
        }
        socket = s;
        pos = 0;
        lim = 0;
        connects++;
    }

    /**
     * Sends one pre-encoded request and returns the response status. On an I/O error the connection is closed (the
     * next call reconnects) and the exception is rethrown.
     */
    int exchange(byte[] request) throws IOException {
        if (socket == null) {
            connect();
        }
        try {
            out.write(request);
            out.flush();
            return readResponse();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private int readResponse() throws IOException {
        // Status line: "HTTP/1.1 200 OK"
        int lineEnd = readLine();
        if (lineEnd - pos < 12 || buf[pos] != 'H') {
            throw new IOException("bad status line");
        }
        int status = (buf[pos + 9] - '0') * 100 + (buf[pos + 10] - '0') * 10 + (buf[pos + 11] - '0');
        pos = lineEnd + 2;
        long contentLength = -1;
        boolean chunked = false;
        boolean close = false;
        while (true) {
            lineEnd = readLine();
            if (lineEnd == pos) {
                pos += 2;
                break;
            }
            if (startsWithIgnoreCase("content-length:")) {
                contentLength = parseLong(pos + 15, lineEnd);
            } else if (startsWithIgnoreCase("transfer-encoding:")) {
                chunked = containsIgnoreCase(pos + 18, lineEnd, "chunked");
            } else if (startsWithIgnoreCase("connection:")) {
                close = containsIgnoreCase(pos + 11, lineEnd, "close");
            }
            pos = lineEnd + 2;
        }
        if (chunked) {
            while (true) {
                lineEnd = readLine();
                long size = parseHex(pos, lineEnd);
                pos = lineEnd + 2;
                if (size == 0) {
                    // trailers until the empty line
                    while (true) {
                        lineEnd = readLine();
                        boolean empty = lineEnd == pos;
                        pos = lineEnd + 2;
                        if (empty) {
                            break;
                        }
                    }
                    break;
                }
                skip(size + 2);
            }
        } else if (contentLength > 0) {
            skip(contentLength);
        } else if (contentLength < 0 && status != 204 && status != 304) {
            close = true; // body delimited by close: read nothing more, drop the connection
        }
        if (close) {
            close();
        }
        return status;
    }

    /** Returns the index of the CR of the next CRLF at or after pos, filling the buffer as needed. */
    private int readLine() throws IOException {
        while (true) {
            for (int i = pos; i + 1 < lim; i++) {
                if (buf[i] == '\r' && buf[i + 1] == '\n') {
                    return i;
                }
            }
            if (!fill()) {
                throw new EOFException("connection closed by peer");
            }
        }
    }

    /** Reads more bytes, compacting first; false at EOF. */
    private boolean fill() throws IOException {
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) {
            throw new IOException("response line or header longer than " + buf.length + " bytes");
        }
        int n = in.read(buf, lim, buf.length - lim);
        if (n < 0) {
            return false;
        }
        lim += n;
        return true;
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            if (pos == lim) {
                pos = 0;
                lim = 0;
                if (!fill()) {
                    throw new EOFException("connection closed inside a body");
                }
            }
            int take = (int) Math.min(n, lim - pos);
            pos += take;
            n -= take;
        }
    }

    private boolean startsWithIgnoreCase(String prefix) {
        if (lim - pos < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase((char) buf[pos + i]) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private boolean containsIgnoreCase(int from, int to, String word) {
        outer:
        for (int i = from; i + word.length() <= to; i++) {
            for (int j = 0; j < word.length(); j++) {
                if (Character.toLowerCase((char) buf[i + j]) != word.charAt(j)) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private long parseLong(int from, int to) throws IOException {
        long v = 0;
        boolean digits = false;
        for (int i = from; i < to; i++) {
            byte b = buf[i];
            if (b >= '0' && b <= '9') {
                v = v * 10 + (b - '0');
                digits = true;
            } else if (b != ' ' && b != '\t') {
                throw new IOException("bad Content-Length");
            }
        }
        if (!digits) {
            throw new IOException("bad Content-Length");
        }
        return v;
    }

    private long parseHex(int from, int to) throws IOException {
        long v = 0;
        boolean digits = false;
        for (int i = from; i < to; i++) {
            int d = Character.digit((char) buf[i], 16);
            if (d < 0) {
                break; // chunk extensions
            }
            v = v * 16 + d;
            digits = true;
        }
        if (!digits) {
            throw new IOException("bad chunk size");
        }
        return v;
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            socket = null;
            in = null;
            out = null;
        }
        pos = 0;
        lim = 0;
    }
}
