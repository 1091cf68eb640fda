package io.turnpike.engine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs the HTTP/2 conformance suite {@code scripts/h2-conformance/h2conformance.py} (see docs/http2-conformance.md)
 * against a server on 127.0.0.1 in a python3 child process, bounded in time, and reads its {@code --json} report.
 *
 * <p>Used from the test thread only (one instance per run; not shared). The python interpreter is
 * {@code $TURNPIKE_H2_PYTHON} if set, else {@code /usr/bin/python3} (Debian's, which sees python3-hyperframe and
 * python3-hpack even where a pyenv {@code python3} comes first on PATH), else {@code python3}.
 *
 * <pre>{@code
 * H2ConformanceRunner.Result r = new H2ConformanceRunner("127.0.0.1", port).tls(true).authority("localhost")
 *         .expectedFailures(H2ConformanceRunner.scriptDir().resolve("nghttpd.expected-failures")).run();
 * assertTrue(r.unexpectedFailures().isEmpty(), r.describeUnexpectedFailures());
 * }</pre>
 */
public final class H2ConformanceRunner {
    /** One case's outcome; {@code status} is PASS, FAIL or EXPECTED-FAIL as printed by the script. */
    public record CaseResult(String id, String description, String status, String reason, String reaction,
                             String note, String expectedFailureReason, double seconds) {
        public boolean passed() {
            return "PASS".equals(status);
        }

        public boolean unexpectedFailure() {
            return "FAIL".equals(status);
        }

        public boolean expectedFailure() {
            return "EXPECTED-FAIL".equals(status);
        }
    }

    /** A whole run: the exit status, every case in suite order, the script's console output, wall time. */
    public record Result(int exitCode, List<CaseResult> cases, List<String> staleExpectedFailures, String output,
                         double seconds) {
        public List<CaseResult> passed() {
            return cases.stream().filter(CaseResult::passed).toList();
        }

        /** Failures not listed in the expected-failures file: a conformance bug (or a wrong case). */
        public List<CaseResult> unexpectedFailures() {
            return cases.stream().filter(CaseResult::unexpectedFailure).toList();
        }

        public List<CaseResult> expectedFailures() {
            return cases.stream().filter(CaseResult::expectedFailure).toList();
        }

        /** Every case that did not pass, listed or not. */
        public List<CaseResult> failed() {
            return cases.stream().filter(c -> !c.passed()).toList();
        }

        public CaseResult byId(String id) {
            return cases.stream().filter(c -> c.id().equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no case " + id + " in this run"));
        }

        public String describeUnexpectedFailures() {
            return unexpectedFailures().size() + " unexpected failure(s):\n" + unexpectedFailures().stream()
                    .map(c -> "  " + c.id() + " " + c.description() + "\n      -> " + c.reason())
                    .collect(Collectors.joining("\n")) + "\n--- suite output ---\n" + output;
        }
    }

    private final String host;
    private final int port;
    private boolean tls;
    private String authority;
    private String path = "/";
    private Path expectedFailures;
    private final List<String> casePrefixes = new ArrayList<>();
    private double caseTimeoutSeconds = 2.0;
    private Duration processTimeout = Duration.ofSeconds(150);

    public H2ConformanceRunner(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /** TLS with ALPN h2 (the certificate is not verified). */
    public H2ConformanceRunner tls(boolean on) {
        this.tls = on;
        return this;
    }

    /** The {@code :authority} (and TLS SNI name) to send; default host:port. */
    public H2ConformanceRunner authority(String a) {
        this.authority = a;
        return this;
    }

    /** A path answering 200 to GET with a body of at least 5 octets, and accepting a POST with a body. */
    public H2ConformanceRunner path(String p) {
        this.path = p;
        return this;
    }

    public H2ConformanceRunner expectedFailures(Path file) {
        this.expectedFailures = file;
        return this;
    }

    /** Runs only the cases whose id starts with one of these prefixes (e.g. "6.5", "dos/"). */
    public H2ConformanceRunner cases(String... prefixes) {
        casePrefixes.addAll(List.of(prefixes));
        return this;
    }

    /** How long each case waits for the server's reaction (the script's --timeout; default 2 s). */
    public H2ConformanceRunner caseTimeoutSeconds(double s) {
        this.caseTimeoutSeconds = s;
        return this;
    }

    /** The bound on the whole child process (default 150 s; the script bounds itself at 60 s of cases). */
    public H2ConformanceRunner processTimeout(Duration d) {
        this.processTimeout = d;
        return this;
    }

    /** {@code scripts/h2-conformance} of this checkout, found from the working directory upwards. */
    public static Path scriptDir() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve("scripts/h2-conformance");
            if (Files.isRegularFile(candidate.resolve("h2conformance.py"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("scripts/h2-conformance/h2conformance.py not found above " + dir);
    }

    public static String python() {
        String env = System.getenv("TURNPIKE_H2_PYTHON");
        if (env != null && !env.isBlank()) {
            return env;
        }
        return new File("/usr/bin/python3").canExecute() ? "/usr/bin/python3" : "python3";
    }

    /**
     * Null when {@link #python()} can import hyperframe and hpack, else why not (the Debian packages to install).
     */
    public static String missingPrerequisite() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(python(), "-c", "import hyperframe.frame, hpack")
                .redirectErrorStream(true).redirectInput(new File("/dev/null")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return python() + " did not start within 30 s";
        }
        return p.exitValue() == 0 ? null
                : python() + " cannot import hyperframe/hpack (install Debian's python3-hyperframe python3-hpack, "
                        + "or set TURNPIKE_H2_PYTHON): " + out.strip();
    }

    /** The case ids of the suite, in order ({@code --list}). */
    public static List<String> listCases() throws IOException, InterruptedException {
        Path out = Files.createTempFile("h2conformance-list", ".txt");
        try {
            int rc = exec(List.of(python(), scriptDir().resolve("h2conformance.py").toString(), "--list"), out,
                    Duration.ofSeconds(30));
            String text = Files.readString(out);
            if (rc != 0) {
                throw new IOException("h2conformance.py --list exited " + rc + ": " + text);
            }
            return text.lines().filter(l -> !l.isBlank()).map(l -> l.split("\\s+", 2)[0]).toList();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Runs the suite; throws if the script did not produce its report (bad usage, timeout, crash). */
    public Result run() throws IOException, InterruptedException {
        Path json = Files.createTempFile("h2conformance", ".json");
        Path out = Files.createTempFile("h2conformance", ".out");
        try {
            List<String> cmd = new ArrayList<>(List.of(python(), scriptDir().resolve("h2conformance.py").toString(),
                    "--host", host, "--port", Integer.toString(port), "--path", path,
                    "--timeout", Double.toString(caseTimeoutSeconds), "--json", json.toString()));
            if (tls) {
                cmd.add("--tls");
            }
            if (authority != null) {
                cmd.add("--authority");
                cmd.add(authority);
            }
            if (expectedFailures != null) {
                cmd.add("--expected-failures");
                cmd.add(expectedFailures.toString());
            }
            for (String p : casePrefixes) {
                cmd.add("--case");
                cmd.add(p);
            }
            long t0 = System.nanoTime();
            int rc = exec(cmd, out, processTimeout);
            double secs = (System.nanoTime() - t0) / 1e9;
            String output = Files.readString(out);
            if (rc != 0 && rc != 1 || Files.size(json) == 0) {
                throw new IOException("h2conformance.py exited " + rc + " without a report:\n" + output);
            }
            JsonNode root = new ObjectMapper().readTree(json.toFile());
            List<CaseResult> cases = new ArrayList<>();
            for (JsonNode c : root.path("cases")) {
                cases.add(new CaseResult(c.path("id").asText(), c.path("description").asText(),
                        c.path("status").asText(), c.path("reason").asText(), c.path("reaction").asText(),
                        c.path("note").asText(), c.path("expected_failure").isNull() ? null
                                : c.path("expected_failure").asText(), c.path("seconds").asDouble()));
            }
            List<String> stale = new ArrayList<>();
            root.path("summary").path("stale_expected_failures").forEach(n -> stale.add(n.asText()));
            boolean anyFail = cases.stream().anyMatch(CaseResult::unexpectedFailure);
            if ((rc == 1) != anyFail) {
                throw new IOException("exit status " + rc + " disagrees with the report (unexpected failures: "
                        + anyFail + "):\n" + output);
            }
            return new Result(rc, List.copyOf(cases), List.copyOf(stale), output, secs);
        } finally {
            Files.deleteIfExists(json);
            Files.deleteIfExists(out);
        }
    }

    private static int exec(List<String> cmd, Path out, Duration timeout) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(new File("/dev/null")).start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            throw new IOException(String.join(" ", cmd) + " still running after " + timeout + ":\n"
                    + Files.readString(out));
        }
        return p.exitValue();
    }
}
