#!/usr/bin/env python3
"""A deliberately lax HTTP/2 (h2c prior knowledge) server, to prove that h2conformance.py can fail.

It speaks just enough HTTP/2 for well-behaved clients and checks nothing: it never sends GOAWAY or RST_STREAM, never
closes a connection, ignores flow control and SETTINGS_MAX_CONCURRENT_STREAMS (it advertises none), does not validate
the preface, frame sizes, stream ids, stream states, padding or headers, and answers every complete header block with
200 and a body of --body-size octets (even when HPACK decoding failed). PINGs and SETTINGS are acknowledged.

Usage: lax_h2_server.py [--port 0] [--body-size 4000]; prints "LISTENING <port>" once bound.
"""

import argparse
import socket
import socketserver
import struct
import sys
import threading

import hpack


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


class Handler(socketserver.BaseRequestHandler):
    body = b""

    def handle(self):
        s = self.request
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        enc, dec = hpack.Encoder(), hpack.Decoder()
        buf = bytearray()
        lock = threading.Lock()

        def send(data):
            with lock:
                s.sendall(data)

        def read(n):
            while len(buf) < n:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError
                buf.extend(chunk)
            out = bytes(buf[:n])
            del buf[:n]
            return out

        try:
            read(24)  # the preface, unchecked
            send(frame(4, 0, 0, b""))
            block = None
            while True:
                head = read(9)
                n = struct.unpack(">I", b"\x00" + head[:3])[0]
                ftype, flags = head[3], head[4]
                sid = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
                payload = read(n)
                if ftype == 4 and not flags & 1:
                    send(frame(4, 1, 0))
                elif ftype == 6 and not flags & 1:
                    send(frame(6, 1, 0, payload))
                elif ftype == 1:
                    p = payload
                    if flags & 0x8 and p:
                        p = p[1:]
                    if flags & 0x20:
                        p = p[5:]
                    block = (sid, bytearray(p))
                    if flags & 0x4:
                        self.respond(send, enc, dec, block)
                        block = None
                elif ftype == 9:
                    if block is None:
                        block = (sid, bytearray())
                    block[1].extend(payload)
                    if flags & 0x4:
                        self.respond(send, enc, dec, block)
                        block = None
        except (EOFError, OSError):
            pass

    def respond(self, send, enc, dec, block):
        sid, data = block
        try:
            dec.decode(bytes(data))
        except Exception:
            pass
        if sid == 0:
            return
        out = frame(1, 0x4, sid, enc.encode([(":status", "200"), ("content-length", str(len(self.body)))]))
        for off in range(0, len(self.body), 16384):
            piece = self.body[off:off + 16384]
            out += frame(0, 1 if off + 16384 >= len(self.body) else 0, sid, piece)
        send(out)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--body-size", type=int, default=4000)
    o = ap.parse_args()
    Handler.body = b"lax" * (o.body_size // 3) + b"!" * (o.body_size % 3)
    srv = Server(("127.0.0.1", o.port), Handler)
    print("LISTENING %d" % srv.server_address[1])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
