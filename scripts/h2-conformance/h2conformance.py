#!/usr/bin/env python3
"""HTTP/2 conformance suite for Turnpike's HTTP/2 listener (RFC 9113 / RFC 7541), h2spec-style.

A raw-socket client: every case opens its own connection, crafts frames byte by byte (hyperframe for well-formed
frames, hand-packed bytes for malformed ones, hpack for header blocks) and checks the server's reaction against the
reactions the RFC allows (any of them passes, as in h2spec: e.g. GOAWAY with the code, or the connection closed).

Needs Debian's python3-hyperframe and python3-hpack (no PyPI). See docs/http2-conformance.md.

Usage: h2conformance.py --host 127.0.0.1 --port N [--tls] [--authority host] [--path /]
                        [--expected-failures FILE] [--json OUT] [--case PREFIX]...
Exit status: 0 when every failing case is listed in the expected-failures file, 1 otherwise, 2 on bad usage.
"""

import argparse
import concurrent.futures
import json
import select
import socket
import ssl
import struct
import sys
import time

try:
    import hpack
    from hyperframe.frame import (ContinuationFrame, DataFrame, GoAwayFrame, HeadersFrame, PingFrame,
                                  PriorityFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)
except ImportError as e:  # pragma: no cover
    sys.stderr.write("h2conformance: %s (install Debian's python3-hyperframe and python3-hpack, and run this with "
                     "the python3 that sees them, e.g. /usr/bin/python3)\n" % e)
    sys.exit(2)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# frame types (RFC 9113 section 6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
TYPE_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
              "WINDOW_UPDATE", "CONTINUATION"]
# flags
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
# error codes (RFC 9113 section 7)
ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
          "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
          "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]
(NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR,
 REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM) = range(12)
# settings identifiers
S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, \
    S_MAX_HEADER_LIST_SIZE = range(1, 7)


def err_name(code):
    return ERRORS[code] if 0 <= code < len(ERRORS) else "0x%x" % code


def type_name(t):
    return TYPE_NAMES[t] if t < len(TYPE_NAMES) else "type 0x%x" % t


def raw_frame(ftype, flags, sid, payload=b"", length=None):
    """A frame packed by hand (any type, flags, stream id incl. the reserved bit, and a length that may lie)."""
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + bytes([ftype, flags]) + struct.pack(">I", sid & 0xFFFFFFFF) + payload


def settings_payload(pairs):
    return b"".join(struct.pack(">HI", k, v) for k, v in pairs)


class CaseFail(Exception):
    pass


class Closed(Exception):
    pass


class Timeout(Exception):
    pass


class Frame(object):
    __slots__ = ("type", "flags", "sid", "payload", "headers")

    def __init__(self, ftype, flags, sid, payload):
        self.type, self.flags, self.sid, self.payload, self.headers = ftype, flags, sid, payload, None

    def __repr__(self):
        extra = ""
        if self.type in (GOAWAY, RST_STREAM) and len(self.payload) >= 4:
            extra = " " + err_name(struct.unpack(">I", self.payload[-4:] if self.type == RST_STREAM
                                                 else self.payload[4:8])[0])
        return "%s(stream %d, flags 0x%x, %d octets%s)" % (type_name(self.type), self.sid, self.flags,
                                                           len(self.payload), extra)


class Conn(object):
    """One client connection: socket (TLS with ALPN h2 or cleartext prior knowledge), frame reader, HPACK state."""

    def __init__(self, opts, timeout):
        self.opts = opts
        self.timeout = timeout
        self.buf = bytearray()
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.server_settings = {}
        self.block = None  # (sid, bytearray) of a response header block in progress
        self.received = []  # every frame read, for failure reasons
        self.reaction = None  # what the last verifier accepted, for the report
        self.first_bytes = None  # the start of what the server sent, to name a server that is not HTTP/2
        try:
            s = socket.create_connection((opts.host, opts.port), timeout=timeout)
        except OSError as e:
            raise CaseFail("connect to %s:%d: %s" % (opts.host, opts.port, e))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if opts.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2"])
            try:
                s = ctx.wrap_socket(s, server_hostname=opts.authority.split(":")[0])
            except (OSError, ssl.SSLError) as e:
                s.close()
                raise CaseFail("TLS handshake: %s" % e)
            if s.selected_alpn_protocol() != "h2":
                s.close()
                raise CaseFail("ALPN selected %r, not h2" % s.selected_alpn_protocol())
        self.sock = s

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- writing --------------------------------------------------------------------------------------------------
    def send(self, data):
        try:
            self.sock.settimeout(max(self.timeout, 5.0))
            self.sock.sendall(data)
        except socket.timeout:
            raise Timeout("send blocked: the server stopped reading")
        except (OSError, ssl.SSLError) as e:
            raise Closed("send: %s" % e)

    def send_frame(self, ftype, flags, sid, payload=b"", length=None):
        self.send(raw_frame(ftype, flags, sid, payload, length))

    def send_hf(self, frame):
        self.send(frame.serialize())

    def encode(self, headers):
        return self.enc.encode(headers)

    def headers(self, sid, headers, end_stream=True, end_headers=True):
        f = HeadersFrame(sid)
        f.data = self.encode(headers)
        if end_stream:
            f.flags.add("END_STREAM")
        if end_headers:
            f.flags.add("END_HEADERS")
        self.send_hf(f)

    def data(self, sid, payload, end_stream=True, pad=None):
        f = DataFrame(sid)
        f.data = payload
        if end_stream:
            f.flags.add("END_STREAM")
        if pad is not None:
            f.flags.add("PADDED")
            f.pad_length = pad
        self.send_hf(f)

    def settings(self, pairs=(), ack=False):
        f = SettingsFrame(0)
        if ack:
            f.flags.add("ACK")
        for k, v in pairs:
            f.settings[k] = v
        self.send_hf(f)

    def ping(self, data=b"h2spec\x00\x01", ack=False):
        f = PingFrame(0)
        f.opaque_data = data
        if ack:
            f.flags.add("ACK")
        self.send_hf(f)

    def rst(self, sid, code=CANCEL):
        f = RstStreamFrame(sid)
        f.error_code = code
        self.send_hf(f)

    def window_update(self, sid, inc):
        f = WindowUpdateFrame(sid)
        f.window_increment = inc
        self.send_hf(f)

    # -- reading --------------------------------------------------------------------------------------------------
    def _fill(self, deadline):
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout()
            try:
                self.sock.settimeout(remaining)
                chunk = self.sock.recv(262144)
            except socket.timeout:
                raise Timeout()
            except (OSError, ssl.SSLError) as e:
                raise Closed("recv: %s" % e)
            if not chunk:
                raise Closed("connection closed")
            if self.first_bytes is None:
                self.first_bytes = bytes(chunk[:48])
            self.buf += chunk
            return

    def recv(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.buf) < 9:
            self._fill(deadline)
        n = struct.unpack(">I", b"\x00" + bytes(self.buf[:3]))[0]
        while len(self.buf) < 9 + n:
            self._fill(deadline)
        ftype, flags = self.buf[3], self.buf[4]
        sid = struct.unpack(">I", bytes(self.buf[5:9]))[0] & 0x7FFFFFFF
        f = Frame(ftype, flags, sid, bytes(self.buf[9:9 + n]))
        del self.buf[:9 + n]
        if n > 16384:  # this client never raises SETTINGS_MAX_FRAME_SIZE above its initial value
            raise CaseFail("the server sent %s of %d octets, above the client's SETTINGS_MAX_FRAME_SIZE 16384 "
                           "(RFC 9113 4.2)" % (type_name(ftype), n))
        self.received.append(f)
        self._process(f)
        return f

    def poll(self):
        """Frames already readable without waiting (for the flood cases, between bursts)."""
        out = []
        while True:
            pending = self.sock.pending() if isinstance(self.sock, ssl.SSLSocket) else 0
            if not pending and not select.select([self.sock], [], [], 0)[0] and len(self.buf) < 9:
                return out
            try:
                out.append(self.recv(0.05))
            except Timeout:
                return out

    def _process(self, f):
        if f.type == SETTINGS and not f.flags & ACK:
            for i in range(0, len(f.payload) - 5, 6):
                k, v = struct.unpack(">HI", f.payload[i:i + 6])
                self.server_settings[k] = v
                if k == S_HEADER_TABLE_SIZE:
                    self.enc.header_table_size = min(v, 4096)
            try:
                self.settings(ack=True)
            except (Closed, Timeout):
                pass
        elif f.type in (HEADERS, PUSH_PROMISE):
            p = f.payload
            start, end = 0, len(p)
            if f.flags & PADDED and p:
                start, end = 1, len(p) - p[0]
            if f.type == HEADERS and f.flags & PRIORITY_FLAG:
                start += 5
            if f.type == PUSH_PROMISE:
                start += 4
            self.block = (f.sid, bytearray(p[start:max(start, end)]))
            if f.flags & END_HEADERS:
                f.headers = self._decode()
        elif f.type == CONTINUATION and self.block is not None:
            self.block[1].extend(f.payload)
            if f.flags & END_HEADERS:
                f.headers = self._decode()

    def _decode(self):
        block = bytes(self.block[1])
        self.block = None
        try:
            return [(k.decode("latin-1") if isinstance(k, bytes) else k,
                     v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in self.dec.decode(block)]
        except Exception as e:  # a server's bad HPACK is reported as headers we cannot read
            return [(":decode-error", str(e))]

    # -- connection set-up ------------------------------------------------------------------------------------------
    def handshake(self, settings=()):
        """Client preface + SETTINGS; waits for the server's SETTINGS (acknowledged) and the ACK of ours."""
        self.send(PREFACE)
        self.settings(settings)
        got_settings = got_ack = False
        deadline = time.monotonic() + self.timeout
        first = True
        while not (got_settings and got_ack):
            try:
                f = self.recv(max(0.0, deadline - time.monotonic()))
            except Timeout:
                raise CaseFail("handshake: no %s within %.1fs%s" % (
                    "SETTINGS from the server" if not got_settings else "SETTINGS ACK", self.timeout, self._garbage()))
            except Closed as e:
                raise CaseFail("handshake: %s%s" % (e, self._garbage()))
            if first and not (f.type == SETTINGS and not f.flags & ACK):
                raise CaseFail("handshake: first frame from the server is %r, not SETTINGS%s" % (f, self._garbage()))
            first = False
            if f.type == SETTINGS:
                if f.flags & ACK:
                    got_ack = True
                else:
                    got_settings = True
        return self

    def _garbage(self):
        if self.first_bytes and self.first_bytes[:5] == b"HTTP/":
            return " (the server answered in HTTP/1.x: %r)" % self.first_bytes.split(b"\r\n")[0]
        return ""

    def max_frame_size(self):
        return self.server_settings.get(S_MAX_FRAME_SIZE, 16384)


# ---------------------------------------------------------------------------------------------------------------------
# Verifiers. Each returns when the server reacted as allowed, raises CaseFail otherwise.

def _gone(e):
    return str(e) or "connection closed"


def expect_connection_error(c, *codes, **kw):
    """GOAWAY with one of codes, or the connection closed (unless goaway_required)."""
    goaway_required = kw.get("goaway_required", False)
    deadline = time.monotonic() + c.timeout
    names = "/".join(err_name(x) for x in codes)
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed as e:
            if goaway_required:
                raise CaseFail("connection closed without GOAWAY(%s)" % names)
            c.reaction = "connection closed"
            return "closed"
        except Timeout:
            raise CaseFail("expected GOAWAY(%s) or connection close, got neither within %.1fs%s" % (
                names, c.timeout, seen(c)))
        if f.type == GOAWAY:
            code = struct.unpack(">I", f.payload[4:8])[0] if len(f.payload) >= 8 else -1
            if code in codes:
                c.reaction = "GOAWAY(%s)" % err_name(code)
                return f
            raise CaseFail("GOAWAY(%s), expected GOAWAY(%s)" % (err_name(code), names))


def expect_stream_error(c, sid, *codes):
    """RST_STREAM on sid with one of codes, or a connection error with one of codes, or the connection closed."""
    deadline = time.monotonic() + c.timeout
    names = "/".join(err_name(x) for x in codes)
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed:
            c.reaction = "connection closed"
            return "closed"
        except Timeout:
            raise CaseFail("expected RST_STREAM(%s) on stream %d, or GOAWAY(%s), or close; got none within %.1fs%s" % (
                names, sid, names, c.timeout, seen(c)))
        if f.type == GOAWAY:
            code = struct.unpack(">I", f.payload[4:8])[0] if len(f.payload) >= 8 else -1
            if code in codes:
                c.reaction = "GOAWAY(%s)" % err_name(code)
                return f
            raise CaseFail("GOAWAY(%s), expected RST_STREAM or GOAWAY with %s" % (err_name(code), names))
        if f.type == RST_STREAM and f.sid == sid:
            code = struct.unpack(">I", f.payload[:4])[0] if len(f.payload) >= 4 else -1
            if code in codes:
                c.reaction = "RST_STREAM(%s)" % err_name(code)
                return f
            raise CaseFail("RST_STREAM(%s) on stream %d, expected %s" % (err_name(code), sid, names))


def expect_malformed(c, sid):
    """RFC 9113 8.1.1: a stream error PROTOCOL_ERROR (RST_STREAM or a connection error), or a 4xx response (a server
    MAY answer a malformed request before resetting the stream). A 2xx/3xx/5xx answer fails."""
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed:
            c.reaction = "connection closed"
            return "closed"
        except Timeout:
            raise CaseFail("malformed request: expected RST_STREAM(PROTOCOL_ERROR), GOAWAY(PROTOCOL_ERROR), close or a "
                           "4xx response on stream %d, got none within %.1fs%s" % (sid, c.timeout, seen(c)))
        if f.type == GOAWAY:
            code = struct.unpack(">I", f.payload[4:8])[0] if len(f.payload) >= 8 else -1
            if code == PROTOCOL_ERROR:
                c.reaction = "GOAWAY(PROTOCOL_ERROR)"
                return f
            raise CaseFail("GOAWAY(%s), expected PROTOCOL_ERROR for a malformed request" % err_name(code))
        if f.type == RST_STREAM and f.sid == sid:
            code = struct.unpack(">I", f.payload[:4])[0] if len(f.payload) >= 4 else -1
            if code == PROTOCOL_ERROR:
                c.reaction = "RST_STREAM(PROTOCOL_ERROR)"
                return f
            raise CaseFail("RST_STREAM(%s), expected PROTOCOL_ERROR for a malformed request" % err_name(code))
        if f.headers is not None and (f.sid == sid):
            status = dict(f.headers).get(":status", "")
            if status.startswith("1"):
                continue
            if status.startswith("4"):
                c.reaction = ":status %s" % status
                return status
            raise CaseFail("the server answered the malformed request with :status %s" % status)


def expect_response(c, sid, status="200", send_window_updates=True):
    """A complete response on sid (headers then END_STREAM). Returns (status, body)."""
    deadline = time.monotonic() + c.timeout
    got_status, body = None, bytearray()
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed as e:
            raise CaseFail("expected a response on stream %d; %s%s" % (sid, _gone(e), seen(c)))
        except Timeout:
            raise CaseFail("expected a complete response on stream %d within %.1fs (status %s, %d body octets)%s" % (
                sid, c.timeout, got_status, len(body), seen(c)))
        if f.type == GOAWAY:
            code = struct.unpack(">I", f.payload[4:8])[0] if len(f.payload) >= 8 else -1
            raise CaseFail("GOAWAY(%s) while a response on stream %d was expected" % (err_name(code), sid))
        if f.sid != sid:
            continue
        if f.type == RST_STREAM:
            code = struct.unpack(">I", f.payload[:4])[0] if len(f.payload) >= 4 else -1
            raise CaseFail("RST_STREAM(%s) on stream %d, expected a response" % (err_name(code), sid))
        if f.headers is not None and got_status is None:
            st = dict(f.headers).get(":status")
            if st and not st.startswith("1"):
                got_status = st
        if f.type == DATA:
            p = f.payload
            if f.flags & PADDED and p:
                p = p[1:len(p) - p[0]]
            body += p
            if send_window_updates and f.payload:
                c.window_update(0, len(f.payload))
                if not f.flags & END_STREAM:
                    c.window_update(sid, len(f.payload))
        if f.type in (DATA, HEADERS) and f.flags & END_STREAM:
            if status is not None and got_status != status:
                raise CaseFail("response on stream %d has :status %s, expected %s" % (sid, got_status, status))
            c.reaction = ":status %s, %d body octets" % (got_status, len(body))
            return got_status, bytes(body)


def expect_ping_ack(c, data=b"h2spec\x00\x01"):
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed as e:
            raise CaseFail("expected PING ACK; %s%s" % (_gone(e), seen(c)))
        except Timeout:
            raise CaseFail("expected PING ACK within %.1fs%s" % (c.timeout, seen(c)))
        if f.type == GOAWAY:
            code = struct.unpack(">I", f.payload[4:8])[0] if len(f.payload) >= 8 else -1
            raise CaseFail("GOAWAY(%s) where the frame should have been ignored (PING ACK expected)" % err_name(code))
        if f.type == RST_STREAM:
            code = struct.unpack(">I", f.payload[:4])[0] if len(f.payload) >= 4 else -1
            raise CaseFail("RST_STREAM(%s) on stream %d where the frame should have been ignored" % (
                err_name(code), f.sid))
        if f.type == PING and f.flags & ACK:
            if f.payload != data:
                raise CaseFail("PING ACK with payload %r, expected %r" % (f.payload, data))
            c.reaction = "PING ACK"
            return f


def expect_silence(c, sid, secs=0.3):
    """No DATA on sid for secs (flow control exhausted)."""
    deadline = time.monotonic() + secs
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Timeout:
            return
        except Closed as e:
            raise CaseFail("%s while the stream waited for window" % _gone(e))
        if f.type == DATA and f.sid == sid and f.payload:
            raise CaseFail("DATA of %d octets on stream %d beyond the flow-control window" % (len(f.payload), sid))
        if f.type in (GOAWAY, RST_STREAM) and (f.type == GOAWAY or f.sid == sid):
            raise CaseFail("%r while waiting for window" % f)


def seen(c):
    interesting = [f for f in c.received if f.type not in (SETTINGS, WINDOW_UPDATE)]
    if not interesting:
        return " (no frames besides SETTINGS/WINDOW_UPDATE)"
    return " (received: %s)" % ", ".join(repr(f) for f in interesting[-4:])


# ---------------------------------------------------------------------------------------------------------------------
# Cases

CASES = []


def case(cid, desc):
    def deco(fn):
        CASES.append((cid, desc, fn))
        return fn
    return deco


class Ctx(object):
    def __init__(self, opts):
        self.opts = opts

    def conn(self, settings=(), handshake=True, timeout=None):
        c = Conn(self.opts, timeout or self.opts.case_timeout)
        self._conns.append(c)
        if handshake:
            c.handshake(settings)
        return c

    def req(self, method="GET", path=None, extra=()):
        o = self.opts
        return [(":method", method), (":scheme", "https" if o.tls else "http"), (":authority", o.authority),
                (":path", path if path is not None else o.path)] + list(extra)


def body_of(ctx, need):
    """The GET body of --path (for the flow-control cases, which need at least `need` octets)."""
    c = ctx.conn()
    c.headers(1, ctx.req())
    _, body = expect_response(c, 1)
    if len(body) < need:
        raise CaseFail("--path %s answers %d octets; this case needs a body of at least %d" % (
            ctx.opts.path, len(body), need))
    return body


# 3.4 HTTP/2 Connection Preface
@case("3.4/1", "client preface + SETTINGS: the server's first frame is SETTINGS and it acknowledges ours")
def _(ctx):
    ctx.conn()


@case("3.4/2", "invalid connection preface -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn(handshake=False)
    c.send(b"INVALID CONNECTION PREFACE\r\n\r\n")
    expect_connection_error(c, PROTOCOL_ERROR)


@case("3.4/3", "preface not followed by SETTINGS (a PING first) -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn(handshake=False)
    c.send(PREFACE + raw_frame(PING, 0, 0, b"\x00" * 8))
    expect_connection_error(c, PROTOCOL_ERROR)


# 4.1 Frame Format
@case("4.1/1", "frame of unknown type is ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(0x16, 0, 0, b"unknown")
    c.ping()
    expect_ping_ack(c)


@case("4.1/2", "undefined flags on a PING are ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PING, 0xFE, 0, b"h2spec\x00\x01")
    expect_ping_ack(c)


@case("4.1/3", "reserved bit of the stream identifier is ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 0x80000001, c.encode(ctx.req()))
    expect_response(c, 1)


@case("4.1/4", "undefined flags on HEADERS are ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS | 0x02 | 0x10 | 0x40 | 0x80, 1, c.encode(ctx.req()))
    expect_response(c, 1)


# 4.2 Frame Size
@case("4.2/1", "DATA of 16384 octets (the initial SETTINGS_MAX_FRAME_SIZE) is accepted")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "16384")]), end_stream=False)
    c.data(1, b"x" * 16384)
    expect_response(c, 1)


@case("4.2/2", "DATA larger than the server's SETTINGS_MAX_FRAME_SIZE -> FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send_frame(DATA, END_STREAM, 1, b"x" * (c.max_frame_size() + 1))
    expect_stream_error(c, 1, FRAME_SIZE_ERROR)


@case("4.2/3", "HEADERS larger than the server's SETTINGS_MAX_FRAME_SIZE -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    block = c.enc.encode(ctx.req(extra=[("x-big", "x" * c.max_frame_size())]), huffman=False)
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, block)
    expect_connection_error(c, FRAME_SIZE_ERROR)


@case("4.2/4", "SETTINGS larger than SETTINGS_MAX_FRAME_SIZE -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    n = c.max_frame_size() // 6 + 1
    c.send_frame(SETTINGS, 0, 0, settings_payload([(0xff00, 0)] * n))
    expect_connection_error(c, FRAME_SIZE_ERROR)


# 4.3 Field Section Compression and Decompression
@case("4.3/1", "header block with HPACK index 0 -> connection error COMPRESSION_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, b"\x80")
    expect_connection_error(c, COMPRESSION_ERROR)


@case("4.3/2", "header block with an index beyond the tables -> connection error COMPRESSION_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, b"\xff\x7f")  # index 254 with an empty dynamic table
    expect_connection_error(c, COMPRESSION_ERROR)


@case("4.3/3", "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE -> COMPRESSION_ERROR")
def _(ctx):
    c = ctx.conn()
    limit = c.server_settings.get(S_HEADER_TABLE_SIZE, 4096)
    size = limit + 1
    # 001xxxxx with a 5-bit prefix integer
    enc = bytearray([0x3f])
    rest = size - 31
    while rest >= 128:
        enc.append((rest & 0x7f) | 0x80)
        rest >>= 7
    enc.append(rest)
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, bytes(enc) + c.encode(ctx.req()))
    expect_connection_error(c, COMPRESSION_ERROR)


@case("4.3/4", "dynamic table size update after a field line -> COMPRESSION_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, c.encode(ctx.req()) + b"\x20")
    expect_connection_error(c, COMPRESSION_ERROR)


@case("4.3/5", "PRIORITY while a header block is open -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(), end_headers=False)
    c.send_frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 15))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("4.3/6", "HEADERS on another stream while a header block is open -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(), end_headers=False)
    c.headers(3, ctx.req())
    expect_connection_error(c, PROTOCOL_ERROR)


# 5.1 Stream States
def _idle(ftype, payload):
    def run(ctx):
        c = ctx.conn()
        c.send_frame(ftype, 0, 1, payload)
        expect_connection_error(c, PROTOCOL_ERROR)
    return run


case("5.1/1", "idle: DATA -> connection error PROTOCOL_ERROR")(_idle(DATA, b"test"))
case("5.1/2", "idle: RST_STREAM -> connection error PROTOCOL_ERROR")(_idle(RST_STREAM, struct.pack(">I", CANCEL)))
case("5.1/3", "idle: WINDOW_UPDATE -> connection error PROTOCOL_ERROR")(_idle(WINDOW_UPDATE, struct.pack(">I", 100)))


@case("5.1/4", "idle: CONTINUATION -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(CONTINUATION, END_HEADERS, 1, c.encode(ctx.req()))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("5.1/5", "idle: PRIORITY is allowed (ignored or recorded)")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PRIORITY, 0, 1, struct.pack(">IB", 0, 15))
    c.ping()
    expect_ping_ack(c)


@case("5.1/6", "half-closed (remote): DATA -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    c.data(1, b"test")
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/7", "half-closed (remote): HEADERS -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    c.headers(1, ctx.req())
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/8", "half-closed (remote): CONTINUATION -> STREAM_CLOSED or PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    c.send_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")]))
    expect_stream_error(c, 1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("5.1/9", "closed (client sent RST_STREAM): DATA -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.rst(1)
    c.data(1, b"test")
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/10", "closed (client sent RST_STREAM): HEADERS -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.rst(1)
    c.headers(1, ctx.req())
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/11", "closed (client sent RST_STREAM): CONTINUATION -> STREAM_CLOSED or PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.rst(1)
    c.send_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")]))
    expect_stream_error(c, 1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("5.1/12", "closed (response complete): DATA -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)
    c.data(1, b"test")
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/13", "closed (response complete): HEADERS -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)
    c.headers(1, ctx.req())
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("5.1/14", "closed (response complete): CONTINUATION -> STREAM_CLOSED or PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)
    c.send_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")]))
    expect_stream_error(c, 1, STREAM_CLOSED, PROTOCOL_ERROR)


# 5.1.1 Stream Identifiers
@case("5.1.1/1", "HEADERS on an even-numbered stream -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(2, ctx.req())
    expect_connection_error(c, PROTOCOL_ERROR)


@case("5.1.1/2", "HEADERS on a stream id lower than a previous one -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(5, ctx.req())
    c.headers(3, ctx.req())
    expect_connection_error(c, PROTOCOL_ERROR)


# 5.1.2 Stream Concurrency
@case("5.1.2/1", "streams beyond SETTINGS_MAX_CONCURRENT_STREAMS -> RST_STREAM PROTOCOL_ERROR or REFUSED_STREAM")
def _(ctx):
    c = ctx.conn()
    limit = c.server_settings.get(S_MAX_CONCURRENT_STREAMS)
    if limit is None:
        raise CaseFail("the server advertises no SETTINGS_MAX_CONCURRENT_STREAMS (unbounded streams per connection)")
    if limit > 5000:
        raise CaseFail("SETTINGS_MAX_CONCURRENT_STREAMS %d is beyond what this case opens (5000)" % limit)
    block = None
    out = bytearray()
    for i in range(limit + 1):
        sid = 1 + 2 * i
        if block is None or i < 2:
            block = c.encode(ctx.req("POST"))
        out += raw_frame(HEADERS, END_HEADERS, sid, block)
    c.send(bytes(out))
    expect_stream_error(c, 1 + 2 * limit, PROTOCOL_ERROR, REFUSED_STREAM)


# 5.3.1 Stream Dependencies
@case("5.3.1/1", "HEADERS whose priority depends on its own stream -> stream error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS | PRIORITY_FLAG, 1,
                 struct.pack(">IB", 1, 15) + c.encode(ctx.req()))
    expect_stream_error(c, 1, PROTOCOL_ERROR)


@case("5.3.1/2", "PRIORITY that depends on its own stream -> stream error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PRIORITY, 0, 1, struct.pack(">IB", 1, 15))
    expect_stream_error(c, 1, PROTOCOL_ERROR)


# 5.4.1 Connection Error Handling
@case("5.4.1/1", "a connection error is signalled with GOAWAY (invalid PING length)")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PING, 0, 0, b"\x00" * 6)
    expect_connection_error(c, FRAME_SIZE_ERROR, goaway_required=True)


@case("5.4.1/2", "the GOAWAY of a connection error carries the last processed stream id")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)
    c.send_frame(PING, 0, 0, b"\x00" * 6)
    f = expect_connection_error(c, FRAME_SIZE_ERROR, goaway_required=True)
    last = struct.unpack(">I", f.payload[:4])[0] & 0x7FFFFFFF
    if last != 1:
        raise CaseFail("GOAWAY last-stream-id %d, expected 1 (the only stream processed)" % last)


@case("5.4.1/3", "after a GOAWAY for a connection error the server closes the TCP connection")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PING, 0, 0, b"\x00" * 6)
    expect_connection_error(c, FRAME_SIZE_ERROR)
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            c.recv(max(0.0, deadline - time.monotonic()))
        except Closed:
            return
        except Timeout:
            raise CaseFail("connection still open %.1fs after the GOAWAY" % c.timeout)


# 5.5 Extending HTTP/2
@case("5.5/1", "unknown extension frame on stream 0 is ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(0xFF, 0xFF, 0, b"extension")
    c.ping()
    expect_ping_ack(c)


@case("5.5/2", "unknown extension frame on an idle stream is ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(0xFE, 0, 7, b"extension")
    c.ping()
    expect_ping_ack(c)


@case("5.5/3", "unknown extension frame in the middle of a header block -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(), end_headers=False)
    c.send_frame(0xFF, 0, 1, b"extension")
    expect_connection_error(c, PROTOCOL_ERROR)


# 6.1 DATA
@case("6.1/1", "DATA on stream 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(DATA, END_STREAM, 0, b"test")
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.1/2", "DATA on a stream not open nor half-closed (local) -> STREAM_CLOSED")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    c.send_frame(DATA, END_STREAM, 1, b"test")
    expect_stream_error(c, 1, STREAM_CLOSED)


@case("6.1/3", "DATA whose pad length is not less than its payload -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send_frame(DATA, PADDED | END_STREAM, 1, b"\x06" + b"x" * 5)
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.1/4", "padded DATA is accepted")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "4")]), end_stream=False)
    c.data(1, b"test", pad=8)
    expect_response(c, 1)


# 6.2 HEADERS
@case("6.2/1", "HEADERS on stream 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 0, c.encode(ctx.req()))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.2/2", "HEADERS whose pad length exceeds its payload -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    block = c.encode(ctx.req())
    c.send_frame(HEADERS, END_STREAM | END_HEADERS | PADDED, 1, bytes([len(block) + 1]) + block)
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.2/3", "HEADERS without END_HEADERS followed by PRIORITY -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(), end_headers=False)
    c.send_frame(PRIORITY, 0, 3, struct.pack(">IB", 0, 15))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.2/4", "padded HEADERS with the PRIORITY flag is accepted")
def _(ctx):
    c = ctx.conn()
    block = c.encode(ctx.req())
    c.send_frame(HEADERS, END_STREAM | END_HEADERS | PADDED | PRIORITY_FLAG, 1,
                 b"\x04" + struct.pack(">IB", 0, 200) + block + b"\x00" * 4)
    expect_response(c, 1)


# 6.3 PRIORITY
@case("6.3/1", "PRIORITY on stream 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PRIORITY, 0, 0, struct.pack(">IB", 1, 15))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.3/2", "PRIORITY of a length other than 5 -> stream error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send_frame(PRIORITY, 0, 1, struct.pack(">IBB", 0, 15, 0))
    expect_stream_error(c, 1, FRAME_SIZE_ERROR)


# 6.4 RST_STREAM
@case("6.4/1", "RST_STREAM on stream 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(RST_STREAM, 0, 0, struct.pack(">I", CANCEL))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.4/2", "RST_STREAM of a length other than 4 -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send_frame(RST_STREAM, 0, 1, struct.pack(">IB", CANCEL, 0))
    expect_connection_error(c, FRAME_SIZE_ERROR)


@case("6.4/3", "RST_STREAM on an idle stream -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(RST_STREAM, 0, 5, struct.pack(">I", CANCEL))
    expect_connection_error(c, PROTOCOL_ERROR)


# 6.5 SETTINGS
@case("6.5/1", "SETTINGS ACK with a payload -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(SETTINGS, ACK, 0, settings_payload([(S_ENABLE_PUSH, 0)]))
    expect_connection_error(c, FRAME_SIZE_ERROR)


@case("6.5/2", "SETTINGS on a stream other than 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(SETTINGS, 0, 1, settings_payload([(S_ENABLE_PUSH, 0)]))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.5/3", "SETTINGS of a length not a multiple of 6 -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(SETTINGS, 0, 0, settings_payload([(S_ENABLE_PUSH, 0)])[:5])
    expect_connection_error(c, FRAME_SIZE_ERROR)


# 6.5.2 Defined Settings
def _bad_setting(key, value, code):
    def run(ctx):
        c = ctx.conn()
        c.send_frame(SETTINGS, 0, 0, settings_payload([(key, value)]))
        expect_connection_error(c, code)
    return run


case("6.5.2/1", "SETTINGS_ENABLE_PUSH of 2 -> connection error PROTOCOL_ERROR")(
    _bad_setting(S_ENABLE_PUSH, 2, PROTOCOL_ERROR))
case("6.5.2/2", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31 -> connection error FLOW_CONTROL_ERROR")(
    _bad_setting(S_INITIAL_WINDOW_SIZE, 2 ** 31, FLOW_CONTROL_ERROR))
case("6.5.2/3", "SETTINGS_MAX_FRAME_SIZE of 16383 -> connection error PROTOCOL_ERROR")(
    _bad_setting(S_MAX_FRAME_SIZE, 16383, PROTOCOL_ERROR))
case("6.5.2/4", "SETTINGS_MAX_FRAME_SIZE of 2^24 -> connection error PROTOCOL_ERROR")(
    _bad_setting(S_MAX_FRAME_SIZE, 2 ** 24, PROTOCOL_ERROR))


@case("6.5.2/5", "SETTINGS with an unknown identifier is acknowledged and otherwise ignored")
def _(ctx):
    c = ctx.conn()
    c.send_frame(SETTINGS, 0, 0, settings_payload([(0xFF, 1)]))
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected a SETTINGS ACK: %s%s" % (_gone(e) if isinstance(e, Closed) else "timeout", seen(c)))
        if f.type == GOAWAY:
            raise CaseFail("%r for an unknown setting" % f)
        if f.type == SETTINGS and f.flags & ACK:
            break
    c.headers(1, ctx.req())
    expect_response(c, 1)


# 6.5.3 Settings Synchronization
@case("6.5.3/1", "SETTINGS with INITIAL_WINDOW_SIZE twice: the last value (1) applies")
def _(ctx):
    body_of(ctx, 2)
    c = ctx.conn(settings=[(S_INITIAL_WINDOW_SIZE, 100), (S_INITIAL_WINDOW_SIZE, 1)])
    c.headers(1, ctx.req())
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected a DATA frame of 1 octet: %s%s" % (e or "timeout", seen(c)))
        if f.type == DATA and f.sid == 1:
            if len(f.payload) != 1:
                raise CaseFail("DATA of %d octets, the window was 1" % len(f.payload))
            return
        if f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)


@case("6.5.3/2", "SETTINGS is acknowledged with an empty SETTINGS ACK")
def _(ctx):
    c = ctx.conn()
    c.settings([(S_ENABLE_PUSH, 0)])
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected SETTINGS ACK: %s%s" % (e or "timeout", seen(c)))
        if f.type == SETTINGS and f.flags & ACK:
            if f.payload:
                raise CaseFail("SETTINGS ACK with a %d-octet payload" % len(f.payload))
            return


# 6.7 PING
@case("6.7/1", "PING is answered with PING ACK carrying the same payload")
def _(ctx):
    c = ctx.conn()
    c.ping(b"\x01\x02\x03\x04\x05\x06\x07\x08")
    expect_ping_ack(c, b"\x01\x02\x03\x04\x05\x06\x07\x08")


@case("6.7/2", "a PING ACK is not answered")
def _(ctx):
    c = ctx.conn()
    c.ping(b"unsolici", ack=True)
    c.ping(b"expected")
    expect_ping_ack(c, b"expected")


@case("6.7/3", "PING on a stream other than 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PING, 0, 1, b"\x00" * 8)
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.7/4", "PING of a length other than 8 -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(PING, 0, 0, b"\x00" * 6)
    expect_connection_error(c, FRAME_SIZE_ERROR)


# 6.8 GOAWAY
@case("6.8/1", "GOAWAY on a stream other than 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(GOAWAY, 0, 1, struct.pack(">II", 0, NO_ERROR))
    expect_connection_error(c, PROTOCOL_ERROR)


# 6.9 WINDOW_UPDATE
@case("6.9/1", "WINDOW_UPDATE of increment 0 on the connection -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.9/2", "WINDOW_UPDATE of increment 0 on a stream -> stream error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send_frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 0))
    expect_stream_error(c, 1, PROTOCOL_ERROR)


@case("6.9/3", "WINDOW_UPDATE of a length other than 4 -> connection error FRAME_SIZE_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send_frame(WINDOW_UPDATE, 0, 0, struct.pack(">IB", 1, 0))
    expect_connection_error(c, FRAME_SIZE_ERROR)


# 6.9.1 The Flow-Control Window
@case("6.9.1/1", "the server sends no more DATA than the window (1), and the rest after WINDOW_UPDATE")
def _(ctx):
    full = body_of(ctx, 2)
    c = ctx.conn(settings=[(S_INITIAL_WINDOW_SIZE, 1)])
    c.headers(1, ctx.req())
    deadline = time.monotonic() + c.timeout
    got = bytearray()
    while not got:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected DATA of 1 octet: %s%s" % (e or "timeout", seen(c)))
        if f.type == DATA and f.sid == 1:
            got += f.payload
        elif f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)
    if len(got) != 1:
        raise CaseFail("DATA of %d octets with a window of 1" % len(got))
    expect_silence(c, 1)
    c.window_update(1, len(full) + 100)
    _, rest = expect_response(c, 1, status=None)
    if bytes(got) + rest != full:
        raise CaseFail("after WINDOW_UPDATE the body reassembled to %d octets, expected %d" % (
            len(got) + len(rest), len(full)))


@case("6.9.1/2", "connection window above 2^31-1 -> connection error FLOW_CONTROL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.window_update(0, 2 ** 31 - 1)
    c.window_update(0, 2 ** 31 - 1)
    expect_connection_error(c, FLOW_CONTROL_ERROR)


@case("6.9.1/3", "stream window above 2^31-1 -> stream error FLOW_CONTROL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.window_update(1, 2 ** 31 - 1)
    c.window_update(1, 2 ** 31 - 1)
    expect_stream_error(c, 1, FLOW_CONTROL_ERROR)


# 6.9.2 Initial Flow-Control Window Size
@case("6.9.2/1", "raising SETTINGS_INITIAL_WINDOW_SIZE from 0 after HEADERS lets 1 octet through")
def _(ctx):
    body_of(ctx, 2)
    c = ctx.conn(settings=[(S_INITIAL_WINDOW_SIZE, 0)])
    c.headers(1, ctx.req())
    expect_silence(c, 1)
    c.settings([(S_INITIAL_WINDOW_SIZE, 1)])
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected DATA of 1 octet after the window grew: %s%s" % (e or "timeout", seen(c)))
        if f.type == DATA and f.sid == 1 and f.payload:
            if len(f.payload) != 1:
                raise CaseFail("DATA of %d octets, the window was 1" % len(f.payload))
            return
        if f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)


@case("6.9.2/2", "a SETTINGS_INITIAL_WINDOW_SIZE change may make the window negative (3 sent, window 2 -> -1)")
def _(ctx):
    body_of(ctx, 5)
    c = ctx.conn(settings=[(S_INITIAL_WINDOW_SIZE, 3)])
    c.headers(1, ctx.req())
    got = 0
    deadline = time.monotonic() + c.timeout
    while got < 3:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected 3 octets of DATA: %s%s" % (e or "timeout", seen(c)))
        if f.type == DATA and f.sid == 1:
            got += len(f.payload)
        elif f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)
    if got != 3:
        raise CaseFail("%d octets of DATA with a window of 3" % got)
    c.settings([(S_INITIAL_WINDOW_SIZE, 2)])  # window 2 - 3 = -1
    c.window_update(1, 1)  # window 0: still nothing may come
    expect_silence(c, 1)
    c.window_update(1, 1)  # window 1
    deadline = time.monotonic() + c.timeout
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("expected DATA of 1 octet once the window reached 1: %s%s" % (e or "timeout", seen(c)))
        if f.type == DATA and f.sid == 1 and f.payload:
            if len(f.payload) != 1:
                raise CaseFail("DATA of %d octets, the window was 1" % len(f.payload))
            return
        if f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)


@case("6.9.2/3", "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 mid-connection -> connection error FLOW_CONTROL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)
    c.send_frame(SETTINGS, 0, 0, settings_payload([(S_INITIAL_WINDOW_SIZE, 2 ** 31)]))
    expect_connection_error(c, FLOW_CONTROL_ERROR)


# 6.10 CONTINUATION
def _split(block, n):
    size = max(1, (len(block) + n - 1) // n)
    return [block[i:i + size] for i in range(0, len(block), size)]


@case("6.10/1", "HEADERS followed by several CONTINUATION frames is one header block")
def _(ctx):
    c = ctx.conn()
    parts = _split(c.encode(ctx.req(extra=[("x-dummy%d" % i, "v" * 20) for i in range(6)])), 4)
    out = raw_frame(HEADERS, END_STREAM, 1, parts[0])
    for i, p in enumerate(parts[1:]):
        out += raw_frame(CONTINUATION, END_HEADERS if i == len(parts) - 2 else 0, 1, p)
    c.send(out)
    expect_response(c, 1)


@case("6.10/2", "CONTINUATION followed by a frame other than CONTINUATION -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    parts = _split(c.encode(ctx.req()), 2)
    c.send(raw_frame(HEADERS, END_STREAM, 1, parts[0]) + raw_frame(CONTINUATION, 0, 1, parts[1]) +
           raw_frame(DATA, 0, 1, b"test"))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.10/3", "CONTINUATION on stream 0 -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    parts = _split(c.encode(ctx.req()), 2)
    c.send(raw_frame(HEADERS, END_STREAM, 1, parts[0]) + raw_frame(CONTINUATION, END_HEADERS, 0, parts[1]))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.10/4", "CONTINUATION after HEADERS with END_HEADERS -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.send(raw_frame(HEADERS, END_HEADERS, 1, c.encode(ctx.req("POST"))) +
           raw_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")])))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.10/5", "CONTINUATION after a CONTINUATION with END_HEADERS -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    parts = _split(c.encode(ctx.req("POST")), 2)
    c.send(raw_frame(HEADERS, 0, 1, parts[0]) + raw_frame(CONTINUATION, END_HEADERS, 1, parts[1]) +
           raw_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")])))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.10/6", "CONTINUATION after DATA -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.send(raw_frame(DATA, 0, 1, b"test") + raw_frame(CONTINUATION, END_HEADERS, 1, c.encode([("x-dummy", "1")])))
    expect_connection_error(c, PROTOCOL_ERROR)


@case("6.10/7", "CONTINUATION on a stream other than the open header block's -> connection error PROTOCOL_ERROR")
def _(ctx):
    c = ctx.conn()
    parts = _split(c.encode(ctx.req()), 2)
    c.send(raw_frame(HEADERS, END_STREAM, 1, parts[0]) + raw_frame(CONTINUATION, END_HEADERS, 3, parts[1]))
    expect_connection_error(c, PROTOCOL_ERROR)


# 8.1 HTTP Message Framing
@case("8.1/1", "GET with END_STREAM on HEADERS gets a complete 200 response")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req())
    expect_response(c, 1)


@case("8.1/2", "POST with a body and trailers (HEADERS, DATA, HEADERS+END_STREAM) gets a response")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "4"), ("te", "trailers")]), end_stream=False)
    c.data(1, b"test", end_stream=False)
    c.headers(1, [("x-trailer", "done")])
    expect_response(c, 1)


@case("8.1/3", "a second HEADERS (trailers) without END_STREAM -> malformed (PROTOCOL_ERROR)")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST"), end_stream=False)
    c.data(1, b"test", end_stream=False)
    c.headers(1, [("x-trailer", "done")], end_stream=False)
    expect_malformed(c, 1)


# 8.1.1 Malformed Messages
@case("8.1.1/1", "content-length 1 with 4 octets of DATA -> malformed")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "1")]), end_stream=False)
    c.data(1, b"test")
    expect_malformed(c, 1)


@case("8.1.1/2", "content-length 10 with 4 octets of DATA over two frames -> malformed")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "10")]), end_stream=False)
    c.data(1, b"te", end_stream=False)
    c.data(1, b"st")
    expect_malformed(c, 1)


@case("8.1.1/3", "content-length 5 on a request that ends with its HEADERS -> malformed")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "5")]))
    expect_malformed(c, 1)


# 8.2 HTTP Fields
def _malformed(headers_fn, trailers=None):
    def run(ctx):
        c = ctx.conn()
        hs = headers_fn(ctx)
        if trailers is None:
            c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, c.encode(hs))
        else:
            c.send_frame(HEADERS, END_HEADERS, 1, c.encode(hs))
            c.data(1, b"test", end_stream=False)
            c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, c.encode(trailers))
        expect_malformed(c, 1)
    return run


case("8.2.1/1", "field name with uppercase letters -> malformed")(
    _malformed(lambda x: x.req(extra=[("X-Upper", "ok")])))
case("8.2.1/2", "field name with a space -> malformed")(
    _malformed(lambda x: x.req(extra=[("x bad", "ok")])))
case("8.2.1/3", "field value with CR LF -> malformed")(
    _malformed(lambda x: x.req(extra=[("x-bad", "a\r\nx-injected: 1")])))
case("8.2.1/4", "field value with NUL -> malformed")(
    _malformed(lambda x: x.req(extra=[("x-bad", "a\x00b")])))
case("8.2.1/5", "field value with leading whitespace -> malformed")(
    _malformed(lambda x: x.req(extra=[("x-bad", " leading")])))
case("8.2.1/6", "field name with a colon (not a pseudo-header) -> malformed")(
    _malformed(lambda x: x.req(extra=[("x:bad", "ok")])))
case("8.2.1/7", "field value with trailing whitespace -> malformed")(
    _malformed(lambda x: x.req(extra=[("x-bad", "trailing\t")])))
case("8.2.2/1", "connection-specific field 'connection' -> malformed")(
    _malformed(lambda x: x.req(extra=[("connection", "keep-alive")])))
case("8.2.2/2", "te with a value other than 'trailers' -> malformed")(
    _malformed(lambda x: x.req(extra=[("te", "gzip")])))
case("8.2.2/3", "connection-specific field 'transfer-encoding' -> malformed")(
    _malformed(lambda x: x.req("POST", extra=[("transfer-encoding", "chunked")])))
case("8.2.2/4", "connection-specific field 'upgrade' -> malformed")(
    _malformed(lambda x: x.req(extra=[("upgrade", "websocket")])))
case("8.2.2/5", "connection-specific field 'keep-alive' -> malformed")(
    _malformed(lambda x: x.req(extra=[("keep-alive", "timeout=5")])))

case("8.2.2/6", "connection-specific field 'proxy-connection' -> malformed")(
    _malformed(lambda x: x.req(extra=[("proxy-connection", "keep-alive")])))


@case("8.2.2/7", "te: trailers is allowed")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(extra=[("te", "trailers")]))
    expect_response(c, 1)


# 8.3 HTTP Control Data
def _without(name):
    return lambda x: [h for h in x.req() if h[0] != name]


case("8.3/1", "unknown pseudo-header field -> malformed")(
    _malformed(lambda x: x.req() + [(":test", "1")]))
case("8.3/2", "response pseudo-header (:status) in a request -> malformed")(
    _malformed(lambda x: x.req()[:1] + [(":status", "200")] + x.req()[1:]))
case("8.3/3", "pseudo-header field after a regular field -> malformed")(
    _malformed(lambda x: x.req()[:3] + [("x-regular", "1"), x.req()[3]]))
case("8.3/4", "pseudo-header field in trailers -> malformed")(
    _malformed(lambda x: x.req("POST"), trailers=[(":method", "POST")]))
case("8.3.1/1", "empty :path -> malformed")(
    _malformed(lambda x: [h if h[0] != ":path" else (":path", "") for h in x.req()]))
case("8.3.1/2", "missing :method -> malformed")(_malformed(_without(":method")))
case("8.3.1/3", "missing :scheme -> malformed")(_malformed(_without(":scheme")))
case("8.3.1/4", "missing :path -> malformed")(_malformed(_without(":path")))
case("8.3.1/5", "duplicate :method -> malformed")(
    _malformed(lambda x: x.req()[:1] + [(":method", "GET")] + x.req()[1:]))
case("8.3.1/6", "duplicate :path -> malformed")(
    _malformed(lambda x: x.req() + [(":path", x.opts.path)]))


# Generic: ordinary use the listener must get right
@case("generic/1", "three sequential requests on one connection (HPACK dynamic table reused)")
def _(ctx):
    c = ctx.conn()
    for sid in (1, 3, 5):
        c.headers(sid, ctx.req(extra=[("x-request", "same-on-every-request")]))
        expect_response(c, sid)


@case("generic/2", "ten concurrent requests on one connection all complete")
def _(ctx):
    c = ctx.conn()
    sids = list(range(1, 21, 2))
    for sid in sids:
        c.headers(sid, ctx.req())
    done = set()
    deadline = time.monotonic() + c.timeout
    while len(done) < len(sids):
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except (Closed, Timeout) as e:
            raise CaseFail("%d of %d responses complete: %s%s" % (len(done), len(sids), e or "timeout", seen(c)))
        if f.type in (GOAWAY, RST_STREAM):
            raise CaseFail("%r" % f)
        if f.headers is not None and dict(f.headers).get(":status") not in (None, "200"):
            raise CaseFail("stream %d answered %s" % (f.sid, dict(f.headers).get(":status")))
        if f.type == DATA and f.payload:
            c.window_update(0, len(f.payload))
        if f.type in (DATA, HEADERS) and f.flags & END_STREAM:
            done.add(f.sid)


@case("generic/3", "a 12 KiB header block split over HEADERS + CONTINUATION frames")
def _(ctx):
    c = ctx.conn()
    extra = [("x-large-%d" % i, ("%d" % i) * 1000) for i in range(12)]
    parts = _split(c.encode(ctx.req(extra=extra)), 4)
    out = raw_frame(HEADERS, END_STREAM, 1, parts[0])
    for i, p in enumerate(parts[1:]):
        out += raw_frame(CONTINUATION, END_HEADERS if i == len(parts) - 2 else 0, 1, p)
    c.send(out)
    expect_response(c, 1)


@case("generic/4", "POST with a 64 KiB body over several DATA frames (within the window)")
def _(ctx):
    c = ctx.conn()
    n = 65535
    c.headers(1, ctx.req("POST", extra=[("content-length", str(n))]), end_stream=False)
    chunk = 16384
    out = b""
    for off in range(0, n, chunk):
        out += raw_frame(DATA, END_STREAM if off + chunk >= n else 0, 1, b"y" * min(chunk, n - off))
    c.send(out)
    expect_response(c, 1)


@case("generic/5", "cookie crumbs in separate fields (8.2.3) are accepted")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req(extra=[("cookie", "a=1"), ("cookie", "b=2")]))
    expect_response(c, 1)


@case("generic/6", "PING and SETTINGS between a request's HEADERS and DATA do not disturb it")
def _(ctx):
    c = ctx.conn()
    c.headers(1, ctx.req("POST", extra=[("content-length", "4")]), end_stream=False)
    c.ping()
    c.settings([(S_ENABLE_PUSH, 0)])
    c.data(1, b"test")
    expect_response(c, 1)


# DoS: bounded floods. Each ends within --flood-count frames and its own time bound.
def _drain_for_end(c, secs):
    """Reads until the connection ends (GOAWAY or close) or secs pass. Returns (how, frame) or None."""
    deadline = time.monotonic() + secs
    while True:
        try:
            f = c.recv(max(0.0, deadline - time.monotonic()))
        except Closed:
            return ("closed", None)
        except Timeout:
            return None
        if f.type == GOAWAY:
            return ("goaway", f)


def _last_words(c):
    """After a send failed because the server closed: its GOAWAY, if it sent one before closing."""
    try:
        while True:
            f = c.recv(0.5)
            if f.type == GOAWAY:
                return ("goaway", f)
    except (Closed, Timeout):
        return ("closed", None)


def _goaway_code(f):
    return struct.unpack(">I", f.payload[4:8])[0] if f is not None and len(f.payload) >= 8 else None


RAPID_RESET_CODES = (ENHANCE_YOUR_CALM, PROTOCOL_ERROR, INTERNAL_ERROR)


@case("dos/1", "rapid reset (CVE-2023-44487): HEADERS+RST_STREAM pairs -> GOAWAY/close, or new streams refused")
def _(ctx):
    c = ctx.conn()
    n = ctx.opts.flood_count
    first = c.encode(ctx.req())
    block = c.encode(ctx.req())  # all indexed after the first block: the same bytes for every later stream
    responses = [0]
    end = [None]

    def watch(frames):
        for f in frames:
            if f.type == HEADERS:
                responses[0] += 1
            if f.type == GOAWAY:
                end[0] = ("goaway", f)

    sent = 0
    batch = 100
    try:
        while sent < n and end[0] is None:
            out = bytearray()
            for i in range(sent, min(n, sent + batch)):
                sid = 1 + 2 * i
                out += raw_frame(HEADERS, END_STREAM | END_HEADERS, sid, first if i == 0 else block)
                out += raw_frame(RST_STREAM, 0, sid, struct.pack(">I", CANCEL))
            c.send(bytes(out))
            sent = min(n, sent + batch)
            watch(c.poll())
    except Closed:
        end[0] = _last_words(c)
    except Timeout:
        raise CaseFail("the server stopped reading after %d pairs but kept the connection open" % sent)
    if end[0] is None:
        end[0] = _drain_for_end(c, 2.0)
    if end[0] is None:
        # Still open: the other allowed outcome is that the server stopped taking streams on this connection. A
        # fresh request must be refused (RST_STREAM REFUSED_STREAM or ENHANCE_YOUR_CALM) while PING still works.
        probe = 1 + 2 * sent
        c.headers(probe, ctx.req())
        c.ping(b"rr-probe")
        refused, pinged = None, False
        deadline = time.monotonic() + c.timeout
        try:
            while refused is None or not pinged:
                f = c.recv(max(0.0, deadline - time.monotonic()))
                if f.type == PING and f.flags & ACK and f.payload == b"rr-probe":
                    pinged = True
                elif f.type == RST_STREAM and f.sid == probe:
                    code = struct.unpack(">I", f.payload[:4])[0] if len(f.payload) >= 4 else -1
                    if code not in (REFUSED_STREAM, ENHANCE_YOUR_CALM):
                        break
                    refused = err_name(code)
                elif f.sid == probe and f.type in (HEADERS, DATA):
                    break
                elif f.type == GOAWAY:
                    end[0] = ("goaway", f)
                    break
        except (Closed, Timeout):
            pass
        if end[0] is None:
            if refused and pinged:
                ctx.note = "kept the connection, refuses new streams with RST_STREAM(%s) after %d pairs" % (
                    refused, sent)
                return
            raise CaseFail("the server kept the connection open through %d HEADERS+RST_STREAM pairs (answered %d) "
                           "and still takes new streams" % (sent, responses[0]))
    how, f = end[0]
    code = _goaway_code(f)
    if how == "goaway" and code not in RAPID_RESET_CODES:
        raise CaseFail("GOAWAY(%s) after %d pairs; expected ENHANCE_YOUR_CALM, PROTOCOL_ERROR or INTERNAL_ERROR" % (
            err_name(code), sent))
    ctx.note = "ended by %s; %d of %d pairs were written when the end was seen (%d answered)" % (
        "GOAWAY(%s, last-stream-id %d)" % (err_name(code), struct.unpack(">I", f.payload[:4])[0] & 0x7FFFFFFF)
        if how == "goaway" else "close", sent, n, responses[0])


@case("dos/2", "CONTINUATION flood: a header block that never ends -> connection closed before the flood ends")
def _(ctx):
    c = ctx.conn()
    n = ctx.opts.flood_count
    c.send_frame(HEADERS, END_STREAM, 1, c.encode(ctx.req()))
    # each CONTINUATION carries one new 1000-octet literal field, not indexed (0x00 prefix)
    name = b"x-flood"
    value = b"v" * 1000
    field = b"\x00" + bytes([len(name)]) + name + bytes([0x7f]) + _hpack_int_rest(len(value) - 127) + value
    frame = raw_frame(CONTINUATION, 0, 1, field)
    sent = 0
    end = None
    try:
        while sent < n and end is None:
            k = min(64, n - sent)
            c.send(frame * k)
            sent += k
            for f in c.poll():
                if f.type == GOAWAY:
                    end = ("goaway", f)
    except Closed:
        end = _last_words(c)
    except Timeout:
        raise CaseFail("the server stopped reading after %d CONTINUATION frames but kept the connection open" % sent)
    if end is None:
        end = _drain_for_end(c, 2.0)
    if end is None:
        raise CaseFail("the server kept the connection open through %d CONTINUATION frames (%d KiB of fields)" % (
            sent, sent * len(field) // 1024))
    ctx.note = "ended by %s after %d frames (%d KiB of fields; SETTINGS_MAX_HEADER_LIST_SIZE %s)" % (
        "GOAWAY(%s)" % err_name(_goaway_code(end[1])) if end[0] == "goaway" else "close", sent,
        sent * len(field) // 1024, c.server_settings.get(S_MAX_HEADER_LIST_SIZE, "not advertised"))


def _hpack_int_rest(v):
    out = bytearray()
    while v >= 128:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _flood_then_ping(ctx, make_frame, what, count_acks=None):
    """Sends flood_count frames; passes when the server ends the connection (GOAWAY/close) or, keeping it, still
    answers a PING afterwards (and, for count_acks, acknowledged every frame as the RFC requires)."""
    c = ctx.conn()
    c.timeout = max(ctx.opts.case_timeout, 5.0)  # after the flood the server may have a backlog to answer first
    n = ctx.opts.flood_count
    pre = make_frame(c, None)
    if pre:
        c.send(pre)
    acks = [0]
    end = [None]

    def watch(frames):
        for f in frames:
            if count_acks is not None and count_acks(f):
                acks[0] += 1
            if f.type == GOAWAY:
                end[0] = ("goaway", f)
            if f.type == RST_STREAM:
                end[0] = end[0] or ("rst", f)

    sent = 0
    one = make_frame(c, 0)
    try:
        while sent < n and end[0] is None:
            k = min(500, n - sent)
            c.send(one * k)
            sent += k
            watch(c.poll())
        if end[0] is None:
            c.ping(b"floodend")
            deadline = time.monotonic() + c.timeout
            while True:
                f = c.recv(max(0.0, deadline - time.monotonic()))
                watch([f])
                if end[0] is not None:
                    break
                if f.type == PING and f.flags & ACK and f.payload == b"floodend":
                    break
    except Closed:
        end[0] = end[0] or _last_words(c)
    except Timeout:
        raise CaseFail("after %d %s the server neither ended the connection nor answered a PING within %.1fs" % (
            sent, what, c.timeout))
    if end[0] is not None:
        how, f = end[0]
        if how == "goaway" and _goaway_code(f) == NO_ERROR:
            pass
        ctx.note = "ended by %s after %d %s" % (
            "GOAWAY(%s)" % err_name(_goaway_code(f)) if how == "goaway" else
            ("RST_STREAM on stream %d" % f.sid if how == "rst" else "close"), sent, what)
        return
    if count_acks is not None and acks[0] < sent:
        raise CaseFail("the server kept the connection but acknowledged only %d of %d %s" % (acks[0], sent, what))
    ctx.note = "kept up: answered a PING after %d %s" % (sent, what)


@case("dos/3", "empty DATA flood (CVE-2019-9518): the server ends the connection or keeps up")
def _(ctx):
    def make(c, i):
        if i is None:
            return raw_frame(HEADERS, END_HEADERS, 1, c.encode(ctx.req("POST")))
        return raw_frame(DATA, 0, 1, b"")
    _flood_then_ping(ctx, make, "empty DATA frames")


@case("dos/4", "SETTINGS flood (CVE-2019-9515): the server ends the connection or acknowledges all and keeps up")
def _(ctx):
    _flood_then_ping(ctx, lambda c, i: None if i is None else raw_frame(SETTINGS, 0, 0, b""), "SETTINGS frames",
                     lambda f: f.type == SETTINGS and f.flags & ACK)


@case("dos/5", "PING flood (CVE-2019-9512): the server ends the connection or answers all and keeps up")
def _(ctx):
    _flood_then_ping(ctx, lambda c, i: None if i is None else raw_frame(PING, 0, 0, b"floodpng"), "PING frames",
                     lambda f: f.type == PING and f.flags & ACK and f.payload == b"floodpng")


@case("dos/6", "zero-length HEADERS (empty header block) -> malformed, the connection stays usable or ends")
def _(ctx):
    c = ctx.conn()
    c.send_frame(HEADERS, END_STREAM | END_HEADERS, 1, b"")
    r = expect_malformed(c, 1)
    if r == "closed" or isinstance(r, Frame) and r.type == GOAWAY:
        return
    c.headers(3, ctx.req())
    expect_response(c, 3)


@case("dos/7", "zero-length field names flood (CVE-2019-9516) -> malformed, no response but an error")
def _(ctx):
    c = ctx.conn()
    # 4000 literal fields with an empty name and an empty value (0x00 0x00 0x00: 3 octets each) after the request's
    fields = b"\x00\x00\x00" * 4000
    block = c.encode(ctx.req()) + fields
    parts = _split(block, max(1, (len(block) + c.max_frame_size() - 1) // c.max_frame_size()))
    out = raw_frame(HEADERS, END_STREAM | (END_HEADERS if len(parts) == 1 else 0), 1, parts[0])
    for i, p in enumerate(parts[1:]):
        out += raw_frame(CONTINUATION, END_HEADERS if i == len(parts) - 2 else 0, 1, p)
    c.send(out)
    expect_malformed(c, 1)


# ---------------------------------------------------------------------------------------------------------------------

def usage_error(msg):
    sys.stderr.write("h2conformance: %s\n" % msg)
    sys.exit(2)


def load_expected(path):
    out = {}
    if not path:
        return out
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            cid, _, reason = text.partition("#")
            cid = cid.strip()
            if " " in cid:
                usage_error("%s:%d: one case id per line, then '# reason': %r" % (path, n, line.rstrip()))
            if not reason.strip():
                usage_error("%s:%d: case %s has no '# reason' comment" % (path, n, cid))
            out[cid] = reason.strip()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="HTTP/2 conformance suite (RFC 9113), h2spec-style")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=False)
    ap.add_argument("--tls", action="store_true", help="TLS with ALPN h2 (certificate not verified)")
    ap.add_argument("--authority", help=":authority to send (default host:port)")
    ap.add_argument("--path", default="/", help="a path answering 200 to GET (and accepting a POST with a body)")
    ap.add_argument("--expected-failures", help="file of case ids expected to fail, one per line with '# reason'")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--case", action="append", default=[], help="run only case ids starting with this (repeatable)")
    ap.add_argument("--timeout", dest="case_timeout", type=float, default=2.0, help="per-case wait in seconds")
    ap.add_argument("--flood-count", type=int, default=10000, help="frames per flood case (default 10000)")
    ap.add_argument("--budget", type=float, default=60.0, help="seconds for the whole run; cases not started by then fail")
    ap.add_argument("--jobs", type=int, default=8, help="protocol cases run in parallel (floods run alone)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    o = ap.parse_args(argv)
    if o.list:
        for cid, desc, _ in CASES:
            print("%-10s %s" % (cid, desc))
        return 0
    if o.port is None:
        ap.error("--port is required")
    if not o.authority:
        o.authority = "%s:%d" % (o.host, o.port)
    expected = load_expected(o.expected_failures)
    ids = {cid for cid, _, _ in CASES}
    for cid in expected:
        if cid not in ids:
            sys.stderr.write("warning: expected-failures lists unknown case %s\n" % cid)
    selected = [x for x in CASES if not o.case or any(x[0] == p or x[0].startswith(p) for p in o.case)]
    if not selected:
        ap.error("no case matches --case %s" % o.case)
    started = time.monotonic()

    def run_one(entry):
        cid, desc, fn = entry
        ctx = Ctx(o)
        ctx._conns = []
        ctx.note = None
        t0 = time.monotonic()
        status, reason = "PASS", ""
        if t0 - started > o.budget:
            status, reason = "FAIL", "run budget of %.0fs exhausted before this case" % o.budget
        else:
            try:
                fn(ctx)
            except CaseFail as e:
                status, reason = "FAIL", str(e)
            except Closed as e:
                status, reason = "FAIL", "connection ended unexpectedly: %s" % e
            except Timeout as e:
                status, reason = "FAIL", "timeout: %s" % (e or "no answer")
            except Exception as e:  # a bug in a case must show, not stop the run
                status, reason = "FAIL", "error in case: %r" % e
            finally:
                for c in ctx._conns:
                    c.close()
        listed = expected.get(cid)
        if status == "FAIL" and listed is not None:
            status = "EXPECTED-FAIL"
        reaction = ([c.reaction for c in ctx._conns if c.reaction] or [""])[-1]
        return {"id": cid, "description": desc, "status": status, "reason": reason, "note": ctx.note or "",
                "reaction": reaction,
                "expected_failure": listed, "seconds": round(time.monotonic() - t0, 3)}

    def show(r):
        line = "%-13s %-10s %s" % (r["status"], r["id"], r["description"])
        if r["reason"]:
            line += "\n" + " " * 25 + "-> " + r["reason"]
        if r["status"] == "EXPECTED-FAIL":
            line += "\n" + " " * 25 + "(listed: " + r["expected_failure"] + ")"
        if r["status"] == "PASS" and r["expected_failure"] is not None:
            line += "\n" + " " * 25 + "(listed as an expected failure but passed: remove it from the file)"
        if r["note"]:
            line += "\n" + " " * 25 + "[" + r["note"] + "]"
        print(line)
        sys.stdout.flush()

    # Protocol cases run --jobs at a time (each on its own connections); the floods run alone afterwards, one by one.
    results = []
    plain = [x for x in selected if not x[0].startswith("dos/")]
    floods = [x for x in selected if x[0].startswith("dos/")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as pool:
        for fut in [pool.submit(run_one, x) for x in plain]:
            r = fut.result()
            results.append(r)
            show(r)
    for x in floods:
        r = run_one(x)
        results.append(r)
        show(r)
    total = time.monotonic() - started
    counts = {k: sum(1 for r in results if r["status"] == k) for k in ("PASS", "FAIL", "EXPECTED-FAIL")}
    stale = [r["id"] for r in results if r["status"] == "PASS" and r["expected_failure"] is not None]
    print("\n%d cases: %d passed, %d failed, %d expected failures (%.1fs) against %s:%d%s" % (
        len(results), counts["PASS"], counts["FAIL"], counts["EXPECTED-FAIL"], total, o.host, o.port,
        " (TLS)" if o.tls else " (h2c)"))
    if stale:
        print("listed as expected failures but passed: %s" % " ".join(stale))
    if o.json:
        with open(o.json, "w") as fh:
            json.dump({"target": {"host": o.host, "port": o.port, "tls": o.tls, "authority": o.authority,
                                  "path": o.path},
                       "summary": {"total": len(results), "passed": counts["PASS"], "failed": counts["FAIL"],
                                   "expected_failures": counts["EXPECTED-FAIL"], "stale_expected_failures": stale,
                                   "seconds": round(total, 3)},
                       "cases": results}, fh, indent=1)
    return 0 if counts["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
