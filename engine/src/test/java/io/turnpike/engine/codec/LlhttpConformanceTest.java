package io.turnpike.engine.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs llhttp's request and response corpus (test resources, conformance/llhttp) through the parsers and the body
 * framer the way a connection would, and requires the same verdict as llhttp's strict mode for every case, except the
 * deliberate, stricter gateway policies listed in {@link #DEVIATIONS}. A case llhttp rejects must always be rejected.
 */
class LlhttpConformanceTest {

    /** Cases llhttp accepts and we reject on purpose: case name -> reason. Nothing may go the other way. */
    static final Map<String, String> DEVIATIONS = new LinkedHashMap<>();

    static {
        DEVIATIONS.put("request/method.md / SOURCE request with ICE",
                "only HTTP/1.0 and HTTP/1.1 are accepted: ICE/x.x is not HTTP");
        DEVIATIONS.put("request/method.md / OPTIONS request with RTSP",
                "only HTTP/1.0 and HTTP/1.1 are accepted: RTSP/x.x is not HTTP");
        DEVIATIONS.put("request/method.md / ANNOUNCE request with RTSP",
                "only HTTP/1.0 and HTTP/1.1 are accepted: RTSP/x.x is not HTTP");
        DEVIATIONS.put("request/sample.md / No HTTP version",
                "HTTP/0.9 simple requests are answered 505");
        DEVIATIONS.put("response/sample.md / RTSP response",
                "upstream responses must be HTTP/1.0 or HTTP/1.1");
        DEVIATIONS.put("response/sample.md / ICE response",
                "upstream responses must be HTTP/1.0 or HTTP/1.1");
        DEVIATIONS.put("response/sample.md / HTTP version 0.9",
                "upstream responses must be HTTP/1.0 or HTTP/1.1");
    }

    /** llhttp reasons that are API events, not wire errors: a server that accepts those messages agrees with llhttp. */
    private static final List<String> API_REASONS = List.of("Pause on CONNECT/Upgrade", "Data after `Connection: close`");

    record Case(String name, boolean request, boolean skipBody, byte[] bytes, boolean llhttpRejects, String lastLog) {
    }

    @TestFactory
    Stream<DynamicTest> corpus() throws Exception {
        List<Case> cases = loadCases();
        int accepted = 0, rejected = 0, llAccepted = 0, llRejected = 0;
        Map<String, String> verdicts = new HashMap<>();
        for (Case c : cases) {
            String v = run(c);
            verdicts.put(c.name, v);
            if (v == null) accepted++; else rejected++;
            if (c.llhttpRejects) llRejected++; else llAccepted++;
        }
        System.out.printf("llhttp conformance: %d cases; llhttp accepts %d, rejects %d; turnpike accepts %d, rejects %d;"
                + " %d deliberate deviations%n", cases.size(), llAccepted, llRejected, accepted, rejected,
                DEVIATIONS.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> {
            String ours = verdicts.get(c.name);
            boolean weReject = ours != null;
            String deviation = DEVIATIONS.get(c.name);
            if (c.llhttpRejects) {
                assertTrue(weReject, "llhttp rejects (" + c.lastLog + ") but we accept: smuggling risk");
                assertTrue(deviation == null, "a case llhttp rejects cannot be a deviation");
            } else if (deviation != null) {
                assertTrue(weReject, "listed deviation no longer disagrees with llhttp; remove it from DEVIATIONS");
            } else {
                assertEquals(null, ours, "llhttp accepts (" + c.lastLog + ") but we reject");
            }
        }));
    }

    /** Every case fed one byte at a time (buffer grows, reader index moves as messages complete) gives the same verdict. */
    @TestFactory
    Stream<DynamicTest> corpusByteByByte() throws Exception {
        return loadCases().stream().map(c -> DynamicTest.dynamicTest(c.name, () -> {
            ByteBuf buf = Unpooled.buffer(c.bytes.length);
            try {
                assertEquals(run(c), runIncremental(c, buf));
            } finally {
                buf.release();
            }
        }));
    }

    private static String runIncremental(Case c, ByteBuf buf) {
        RequestHeadParser rp = new RequestHeadParser(8192, 65536, 100, false);
        ResponseHeadParser sp = new ResponseHeadParser(65536, 100);
        RequestHead rq = new RequestHead(100);
        ResponseHead rs = new ResponseHead(100);
        BodyFramer framer = new BodyFramer(0);
        boolean inBody = false;
        int pos = 0;
        for (int avail = 1; avail <= c.bytes.length; avail++) {
            buf.writeByte(c.bytes[avail - 1]);
            while (pos < avail) {
                if (!inBody) {
                    buf.readerIndex(pos);
                    int r = c.request ? rp.parse(buf, rq) : sp.parse(buf, rs);
                    if (r < 0) return "head: " + (c.request ? rq.error : rs.error);
                    if (r == 0) break;
                    pos += r;
                    if (c.request && rq.method == RequestHead.METHOD_CONNECT) return null;
                    if (!c.request && rs.status == 101) return null;
                    int mode = c.skipBody ? BodyFramer.MODE_NONE : c.request ? BodyFramer.bodyModeForRequest(rq)
                            : BodyFramer.bodyModeForResponse(rs, RequestHead.METHOD_GET);
                    framer.start(mode, c.request ? rq.contentLength : rs.contentLength);
                    inBody = true;
                }
                int n = framer.consume(buf, pos, avail);
                if (n < 0) return "body: " + framer.error();
                pos += n;
                if (!framer.isComplete()) break;
                inBody = false;
                if (c.request) {
                    if ((rq.upgrade && rq.connectionUpgrade) || !rq.keepAlive) return null;
                } else if (rs.status >= 200 && !rs.keepAlive) {
                    return null;
                }
            }
        }
        return null;
    }

    @Test
    void deviationTableNamesExistingCases() throws Exception {
        List<String> names = loadCases().stream().map(Case::name).collect(Collectors.toList());
        for (String d : DEVIATIONS.keySet()) {
            assertTrue(names.contains(d), "DEVIATIONS names an unknown case: " + d);
        }
    }

    /** Runs one case as a connection would; returns null when nothing was rejected, else the error. */
    static String run(Case c) {
        ByteBuf buf = Unpooled.copiedBuffer(c.bytes);
        try {
            return c.request ? runRequests(c, buf) : runResponses(c, buf);
        } finally {
            buf.release();
        }
    }

    private static String runRequests(Case c, ByteBuf buf) {
        RequestHeadParser parser = new RequestHeadParser(8192, 65536, 100, false);
        RequestHead head = new RequestHead(100);
        BodyFramer framer = new BodyFramer(0);
        int pos = 0, len = buf.writerIndex();
        while (pos < len) {
            buf.readerIndex(pos);
            int r = parser.parse(buf, head);
            if (r == RequestHeadParser.ERROR) return "head: " + head.error;
            if (r == RequestHeadParser.NEED_MORE) return null;
            pos += r;
            if (head.method == RequestHead.METHOD_CONNECT) return null; // tunnel from here on
            framer.start(c.skipBody ? BodyFramer.MODE_NONE : BodyFramer.bodyModeForRequest(head), head.contentLength);
            int n = framer.consume(buf, pos, len);
            if (n < 0) return "body: " + framer.error();
            pos += n;
            if (!framer.isComplete()) return null;
            if (head.upgrade && head.connectionUpgrade) return null; // the connection switches protocols
            if (!head.keepAlive) return null; // data after the last message is not parsed
        }
        return null;
    }

    private static String runResponses(Case c, ByteBuf buf) {
        ResponseHeadParser parser = new ResponseHeadParser(65536, 100);
        ResponseHead head = new ResponseHead(100);
        BodyFramer framer = new BodyFramer(0);
        int pos = 0, len = buf.writerIndex();
        while (pos < len) {
            buf.readerIndex(pos);
            int r = parser.parse(buf, head);
            if (r == ResponseHeadParser.ERROR) return "head: " + head.error;
            if (r == ResponseHeadParser.NEED_MORE) return null;
            pos += r;
            if (head.status == 101) return null; // switched protocols
            int mode = c.skipBody ? BodyFramer.MODE_NONE : BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET);
            framer.start(mode, head.contentLength);
            int n = framer.consume(buf, pos, len);
            if (n < 0) return "body: " + framer.error();
            pos += n;
            if (!framer.isComplete()) return null;
            if (head.status < 200) continue; // interim response
            if (!head.keepAlive) return null;
        }
        return null;
    }

    // ---------------------------------------------------------------- corpus loading

    private static final Pattern META = Pattern.compile("<!--\\s*meta=(\\{.*})\\s*-->");
    private static final Pattern TYPE = Pattern.compile("\"type\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern SKIP_BODY = Pattern.compile("\"skipBody\"\\s*:\\s*true");
    private static final Pattern ERROR_LINE = Pattern.compile("error code=(\\d+) reason=\"(.*)\"$");

    static List<Case> loadCases() throws IOException, URISyntaxException {
        URL root = LlhttpConformanceTest.class.getClassLoader().getResource("conformance/llhttp");
        if (root == null) throw new IllegalStateException("conformance/llhttp missing from test resources");
        Path dir = Paths.get(root.toURI());
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(p -> p.toString().endsWith(".md")).sorted().collect(Collectors.toList());
        }
        List<Case> out = new ArrayList<>();
        for (Path f : files) {
            String rel = dir.relativize(f).toString().replace('\\', '/');
            parseFile(rel, Files.readAllLines(f, StandardCharsets.UTF_8), out);
        }
        if (out.size() < 100) throw new IllegalStateException("too few cases loaded: " + out.size());
        return out;
    }

    private static void parseFile(String rel, List<String> lines, List<Case> out) {
        String heading = null;
        String meta = null;
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("#")) {
                heading = l.replaceFirst("^#+\\s*", "").trim();
                meta = null;
                continue;
            }
            Matcher mm = META.matcher(l);
            if (mm.find()) {
                meta = mm.group(1);
                continue;
            }
            if (!l.startsWith("```http")) continue;
            StringBuilder raw = new StringBuilder();
            int j = i + 1;
            for (; !lines.get(j).startsWith("```"); j++) raw.append(lines.get(j)).append('\n');
            int k = j + 1;
            while (!lines.get(k).startsWith("```log")) k++;
            String last = "";
            for (k = k + 1; !lines.get(k).startsWith("```"); k++) {
                if (!lines.get(k).isBlank()) last = lines.get(k).trim();
            }
            i = k;
            if (meta == null) throw new IllegalStateException(rel + ": http block without meta under " + heading);
            Matcher tm = TYPE.matcher(meta);
            if (!tm.find()) throw new IllegalStateException(rel + ": meta without type: " + meta);
            String type = tm.group(1);
            boolean skipBody = SKIP_BODY.matcher(meta).find();
            meta = null;
            // Only strict-mode cases: "-lenient-*" types describe opt-in leniencies, "-finish" ones test llhttp_finish
            // (the end-of-stream API) rather than a verdict on the bytes.
            if (!type.equals("request") && !type.equals("response")) continue;
            String name = rel + " / " + heading;
            int dup = seen.merge(name, 1, Integer::sum);
            if (dup > 1) name = name + " #" + dup;
            Matcher em = ERROR_LINE.matcher(last);
            boolean rejects = em.find() && !API_REASONS.contains(em.group(2));
            out.add(new Case(name, type.equals("request"), skipBody, toBytes(raw.toString()), rejects, last));
        }
    }

    private static final Pattern EXPR = Pattern.compile("\\$\\{([^}]*)}");
    private static final Pattern REPEAT = Pattern.compile("^\\s*([\"'])((?:(?!\\1).)*)\\1\\.repeat\\(\\s*(\\d+)\\s*\\)\\s*$");

    /** llhttp's test-runner rules, in order (see conformance README). */
    static byte[] toBytes(String block) {
        String s = block;
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1); // 1
        s = s.replace("\\\n", ""); // 2
        s = s.replace("\n", "\r\n"); // 3
        s = evalExpressions(s); // 5 (no expression text contains escapes; evaluated before unescaping for simplicity)
        ByteArrayOutputStream out = new ByteArrayOutputStream(); // 4
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                switch (n) {
                    case 'r': out.write('\r'); i++; continue;
                    case 'n': out.write('\n'); i++; continue;
                    case 't': out.write('\t'); i++; continue;
                    case 'f': out.write('\f'); i++; continue;
                    case 'x': {
                        int e = i + 2;
                        while (e < s.length() && e < i + 4 && Character.digit(s.charAt(e), 16) >= 0) e++;
                        if (e > i + 2) {
                            out.write(Integer.parseInt(s.substring(i + 2, e), 16));
                            i = e - 1;
                            continue;
                        }
                        break;
                    }
                    default:
                        if (n >= '0' && n <= '7') {
                            int e = i + 1;
                            while (e < s.length() && e < i + 4 && s.charAt(e) >= '0' && s.charAt(e) <= '7') e++;
                            out.write(Integer.parseInt(s.substring(i + 1, e), 8) & 0xff);
                            i = e - 1;
                            continue;
                        }
                }
            }
            byte[] b = String.valueOf(ch).getBytes(StandardCharsets.UTF_8);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    static String evalExpressions(String s) {
        Matcher m = EXPR.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            Matcher r = REPEAT.matcher(m.group(1));
            if (!r.matches()) fail("unsupported ${...} expression in corpus: " + m.group(1));
            m.appendReplacement(sb, Matcher.quoteReplacement(r.group(2).repeat(Integer.parseInt(r.group(3)))));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
