package io.turnpike.engine.router;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import io.turnpike.engine.testing.Configs;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Builds route tables through the real loader and compiler, and matches requests through the real parser. */
final class RouterFixture {
    private RouterFixture() {
    }

    /** A route YAML item with an inline upstream; {@code extra} holds indented fields ("    uri: /x\n"). */
    static String route(String id, String extra) {
        return "  - id: \"" + id + "\"\n" + extra + "    upstream:\n      nodes:\n        \"127.0.0.1:80\": 1\n";
    }

    static RouteTable table(String routes) {
        return table(routes, new ArrayList<>());
    }

    static RouteTable table(String routes, List<String> warnings) {
        return new SnapshotCompiler(EngineSettings.defaults())
                .compile(Configs.fromYaml("routes:\n" + routes), warnings).routes;
    }

    /** A request to be matched: method, target, Host (null for none), extra header lines, client address. */
    static final class Req {
        String method = "GET";
        String target = "/";
        String host = "h";
        final List<String> headers = new ArrayList<>();
        String remote;

        Req method(String m) {
            method = m;
            return this;
        }

        Req host(String h) {
            host = h;
            return this;
        }

        Req header(String line) {
            headers.add(line);
            return this;
        }

        Req from(String ip) {
            remote = ip;
            return this;
        }

        String render() {
            StringBuilder b = new StringBuilder(method + " " + target + " HTTP/1.1\r\n");
            if (host != null) {
                b.append("Host: ").append(host).append("\r\n");
            }
            for (String h : headers) {
                b.append(h).append("\r\n");
            }
            return b.append("\r\n").toString();
        }
    }

    static Req req(String target) {
        Req r = new Req();
        r.target = target;
        return r;
    }

    /** The matched route id, or null. HTTP/1.0 when there is no Host (the parser requires one in 1.1). */
    static String match(RouteTable t, Req r) {
        String text = r.render();
        if (r.host == null) {
            text = text.replaceFirst(" HTTP/1.1\r\n", " HTTP/1.0\r\n");
        }
        ByteBuf buf = Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1);
        try {
            RequestHead head = new RequestHead(100);
            int n = new RequestHeadParser(8192, 65536, 100, true).parse(buf, head);
            assertTrue(n > 0, "parse " + text + " " + head.error);
            MatchScratch s = new MatchScratch();
            if (r.remote != null) {
                s.remoteAddress(InetAddress.getByName(r.remote));
            }
            CompiledRoute route = t.match(buf, head, s);
            return route == null ? null : route.id;
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        } finally {
            buf.release();
        }
    }

    static String match(RouteTable t, String target) {
        return match(t, req(target));
    }

    static String match(RouteTable t, String target, String host) {
        return match(t, req(target).host(host));
    }
}
