package io.turnpike.engine.proxy;

import io.turnpike.engine.testing.GatewayFixture;
import io.turnpike.engine.testing.RawHttpClient;
import io.turnpike.engine.testing.TestBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llhttp's request corpus replayed over a real socket against a running gateway: for every strict-mode request case
 * llhttp rejects, the gateway answers an error (or closes) and the backend never receives the rejected message
 * complete — it may only complete the messages llhttp itself accepted before the error. Only that direction is
 * asserted (the gateway is stricter: e.g. it requires Host).
 *
 * <p>The corpus reading follows {@code codec.LlhttpConformanceTest} (llhttp's test-runner rules), copied here because
 * that class is package-private.
 */
class ProxyLlhttpCorpusIT {
    @TempDir
    static Path dir;
    static TestBackend backend;
    static GatewayFixture gw;

    @BeforeAll
    static void start() throws Exception {
        backend = new TestBackend();
        gw = GatewayFixture.start(dir, GatewayFixture.catchAllRoute(backend.port()), "");
    }

    @AfterAll
    static void stop() {
        if (gw != null) {
            gw.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    record Case(String name, byte[] bytes, int acceptedBeforeError, String errorLine) {
    }

    @TestFactory
    Stream<DynamicTest> rejectedRequestsAreNotForwarded() throws Exception {
        List<Case> cases = loadRejectedRequestCases();
        assertTrue(cases.size() >= 40, "too few rejected request cases: " + cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name, () -> replay(c)));
    }

    private static void replay(Case c) throws Exception {
        int completedBefore = backend.completedRequests.get();
        List<Integer> statuses = new ArrayList<>();
        boolean closed = false;
        try (RawHttpClient client = new RawHttpClient(gw.port, 5000)) {
            client.send(c.bytes);
            for (int i = 0; i < 20 && !closed; i++) {
                try {
                    statuses.add(client.read(false).status());
                } catch (IOException e) { // closed (or reset) by the gateway, or no answer within 5 s
                    closed = client.isClosedByPeer(10) || e.getMessage() != null && e.getMessage().contains("closed");
                    break;
                }
            }
        }
        Thread.sleep(30); // a forwarded message would have reached the backend by now
        int completed = backend.completedRequests.get() - completedBefore;
        boolean answeredError = statuses.stream().anyMatch(s -> s >= 400);
        assertTrue(answeredError || closed, c.name + ": llhttp rejects (" + c.errorLine
                + ") but the gateway neither answered an error nor closed; statuses " + statuses);
        assertTrue(completed <= c.acceptedBeforeError, c.name + ": the backend completed " + completed
                + " request(s), llhttp accepts only " + c.acceptedBeforeError + " before its error (" + c.errorLine + ")");
    }

    // ---------------------------------------------------------------- corpus (after LlhttpConformanceTest)

    private static final Pattern META = Pattern.compile("<!--\\s*meta=(\\{.*})\\s*-->");
    private static final Pattern TYPE = Pattern.compile("\"type\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern ERROR_LINE = Pattern.compile("error code=(\\d+) reason=\"(.*)\"$");
    private static final List<String> API_REASONS = List.of("Pause on CONNECT/Upgrade", "Data after `Connection: close`");

    static List<Case> loadRejectedRequestCases() throws Exception {
        URL root = ProxyLlhttpCorpusIT.class.getClassLoader().getResource("conformance/llhttp/request");
        if (root == null) {
            throw new IllegalStateException("conformance/llhttp missing from test resources");
        }
        Path d = Paths.get(root.toURI());
        List<Path> files;
        try (Stream<Path> s = Files.list(d)) {
            files = s.filter(p -> p.toString().endsWith(".md")).sorted().collect(Collectors.toList());
        }
        List<Case> out = new ArrayList<>();
        for (Path f : files) {
            parseFile("request/" + f.getFileName(), Files.readAllLines(f, StandardCharsets.UTF_8), out);
        }
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
            if (!l.startsWith("```http")) {
                continue;
            }
            StringBuilder raw = new StringBuilder();
            int j = i + 1;
            for (; !lines.get(j).startsWith("```"); j++) {
                raw.append(lines.get(j)).append('\n');
            }
            int k = j + 1;
            while (!lines.get(k).startsWith("```log")) {
                k++;
            }
            String last = "";
            int completes = 0;
            for (k = k + 1; !lines.get(k).startsWith("```"); k++) {
                String logLine = lines.get(k).trim();
                if (!logLine.isEmpty()) {
                    last = logLine;
                }
                if (logLine.endsWith(" message complete")) {
                    completes++;
                }
            }
            i = k;
            if (meta == null) {
                continue;
            }
            Matcher tm = TYPE.matcher(meta);
            String type = tm.find() ? tm.group(1) : "";
            boolean skipBody = meta.contains("\"skipBody\"");
            meta = null;
            if (!type.equals("request") || skipBody) {
                continue; // strict request cases only (skipBody is llhttp's HEAD-response hook, not wire behaviour)
            }
            Matcher em = ERROR_LINE.matcher(last);
            if (!em.find() || API_REASONS.contains(em.group(2))) {
                continue; // llhttp accepts
            }
            String name = rel + " / " + heading;
            int dup = seen.merge(name, 1, Integer::sum);
            if (dup > 1) {
                name = name + " #" + dup;
            }
            out.add(new Case(name, toBytes(raw.toString()), completes, last));
        }
    }

    private static final Pattern EXPR = Pattern.compile("\\$\\{([^}]*)}");
    private static final Pattern REPEAT =
            Pattern.compile("^\\s*([\"'])((?:(?!\\1).)*)\\1\\.repeat\\(\\s*(\\d+)\\s*\\)\\s*$");

    /** llhttp's test-runner rules, as in LlhttpConformanceTest. */
    static byte[] toBytes(String block) {
        String s = block;
        if (s.endsWith("\n")) {
            s = s.substring(0, s.length() - 1);
        }
        s = s.replace("\\\n", "");
        s = s.replace("\n", "\r\n");
        Matcher m = EXPR.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            Matcher r = REPEAT.matcher(m.group(1));
            if (!r.matches()) {
                throw new IllegalStateException("unsupported ${...} expression in corpus: " + m.group(1));
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(r.group(2).repeat(Integer.parseInt(r.group(3)))));
        }
        m.appendTail(sb);
        s = sb.toString();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                switch (n) {
                    case 'r' -> {
                        out.write('\r');
                        i++;
                        continue;
                    }
                    case 'n' -> {
                        out.write('\n');
                        i++;
                        continue;
                    }
                    case 't' -> {
                        out.write('\t');
                        i++;
                        continue;
                    }
                    case 'f' -> {
                        out.write('\f');
                        i++;
                        continue;
                    }
                    case 'x' -> {
                        int e = i + 2;
                        while (e < s.length() && e < i + 4 && Character.digit(s.charAt(e), 16) >= 0) {
                            e++;
                        }
                        if (e > i + 2) {
                            out.write(Integer.parseInt(s.substring(i + 2, e), 16));
                            i = e - 1;
                            continue;
                        }
                    }
                    default -> {
                        if (n >= '0' && n <= '7') {
                            int e = i + 1;
                            while (e < s.length() && e < i + 4 && s.charAt(e) >= '0' && s.charAt(e) <= '7') {
                                e++;
                            }
                            out.write(Integer.parseInt(s.substring(i + 1, e), 8) & 0xff);
                            i = e - 1;
                            continue;
                        }
                    }
                }
            }
            byte[] b = String.valueOf(ch).getBytes(StandardCharsets.UTF_8);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }
}
