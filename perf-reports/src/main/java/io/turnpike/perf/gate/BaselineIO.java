package io.turnpike.perf.gate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.perf.model.JmhRun;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import io.turnpike.perf.read.JsonFields;
import io.turnpike.perf.read.ReportInputException;
import io.turnpike.perf.read.ResultInputs;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and writes baseline files; read errors name the file and the field. */
public final class BaselineIO {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BaselineIO() {
    }

    /** A baseline from the files of a run, with this machine's description. */
    public static Baseline bless(String name, String command, String note, Report report, List<Path> sources,
                                 double allocEpsilonFloor) {
        Map<String, String> env = new LinkedHashMap<>();
        for (SideBySideRun run : report.sideBySide()) {
            for (Map.Entry<String, String> e : run.environment().entrySet()) {
                env.put("bench." + e.getKey(), e.getValue());
            }
        }
        for (JmhRun run : report.jmh()) {
            if (!run.results().isEmpty()) {
                env.put("jmh.jdk", run.results().get(0).jdk());
            }
        }
        List<String> names = new ArrayList<>();
        for (Path p : sources) {
            names.add(p.getFileName().toString());
        }
        return new Baseline(name, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), command, note,
                thisMachine(), env, names, Snapshot.of(report, allocEpsilonFloor));
    }

    /** CPU model, cores, memory, kernel and JVM of the machine running this. */
    public static Map<String, String> thisMachine() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("hostname", hostname());
        m.put("cpu_model", procField(Path.of("/proc/cpuinfo"), "model name"));
        m.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
        m.put("memory", procField(Path.of("/proc/meminfo"), "MemTotal"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        return m;
    }

    private static String hostname() {
        try {
            String h = Files.readString(Path.of("/etc/hostname")).trim();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "?";
        }
    }

    private static String procField(Path file, String field) {
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(field)) {
                    return line.substring(colon + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return "?";
    }

    public static void write(Baseline b, Path file) throws IOException {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("format", Baseline.FORMAT);
        root.put("name", b.name());
        root.put("blessed_at", b.blessedAt());
        root.put("command", b.command());
        root.put("note", b.note());
        ObjectNode machine = root.putObject("machine");
        b.machine().forEach(machine::put);
        ObjectNode env = root.putObject("environment");
        b.environment().forEach(env::put);
        ArrayNode sources = root.putArray("sources");
        b.sources().forEach(sources::add);
        ObjectNode jmh = root.putObject("jmh");
        for (JmhPoint p : b.snapshot().jmh().values()) {
            ObjectNode o = jmh.putObject(p.key());
            o.put("mode", p.mode());
            o.put("unit", p.unit());
            o.put("score", p.score());
            if (p.scoreError() != null) {
                o.put("score_error", p.scoreError());
            }
            if (p.alloc() != null) {
                o.put("alloc_b_per_op", p.alloc());
            }
            o.put("alloc_epsilon_b_per_op", p.allocEpsilon());
            if (p.reference() != null) {
                o.put("reference", p.reference());
            }
            if (p.isReference()) {
                o.put("is_reference", true);
            }
        }
        BenchPoint bp = b.snapshot().bench();
        if (bp != null) {
            ObjectNode o = root.putObject("bench");
            putNum(o, "cpu_ratio_turnpike_nginx", bp.cpuRatio());
            putNum(o, "p99_ratio_turnpike_nginx", bp.p99Ratio());
            putNum(o, "turnpike_cpu_us_per_req", bp.turnpikeCpuUs());
            putNum(o, "turnpike_p99_ms", bp.turnpikeP99Ms());
            putNum(o, "turnpike_rps", bp.turnpikeRps());
            putNum(o, "nginx_cpu_us_per_req", bp.nginxCpuUs());
            putNum(o, "nginx_p99_ms", bp.nginxP99Ms());
            o.put("turnpike_errors", bp.turnpikeErrors());
            o.put("contended", bp.contended());
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, MAPPER.writeValueAsString(root) + "\n", StandardCharsets.UTF_8);
    }

    private static void putNum(ObjectNode o, String name, Double v) {
        if (v != null) {
            o.put(name, v);
        }
    }

    public static Baseline read(Path file) throws ReportInputException {
        JsonNode root = new ResultInputs().parse(file);
        JsonFields f = new JsonFields(file);
        if (!root.isObject()) {
            throw new ReportInputException(file, null, "a baseline must be a JSON object with \"format\": \""
                    + Baseline.FORMAT + "\"");
        }
        String format = f.requireText(root, "", "format");
        if (!Baseline.FORMAT.equals(format)) {
            throw new ReportInputException(file, "format",
                    "unsupported baseline " + format + " (this reader knows " + Baseline.FORMAT + ") in field");
        }
        String name = f.requireText(root, "", "name");
        String blessedAt = f.requireText(root, "", "blessed_at");
        Map<String, String> machine = strings(f.requireObject(root, "", "machine"));
        Map<String, String> env = root.has("environment")
                ? strings(f.requireObject(root, "", "environment")) : Map.of();
        List<String> sources = new ArrayList<>();
        root.path("sources").forEach(n -> sources.add(n.asText()));

        Map<String, JmhPoint> jmh = new LinkedHashMap<>();
        JsonNode jmhNode = root.path("jmh");
        if (!jmhNode.isMissingNode()) {
            if (!jmhNode.isObject()) {
                throw new ReportInputException(file, "jmh", "expected an object for field");
            }
            for (Map.Entry<String, JsonNode> e : jmhNode.properties()) {
                String at = "jmh." + e.getKey();
                JsonNode o = e.getValue();
                if (!o.isObject()) {
                    throw new ReportInputException(file, at, "expected an object for field");
                }
                double score = f.requireNumber(o, at, "score");
                if (!(score > 0)) {
                    throw new ReportInputException(file, at + ".score", "expected a positive number for field");
                }
                Double eps = JsonFields.number(o, "alloc_epsilon_b_per_op");
                jmh.put(e.getKey(), new JmhPoint(e.getKey(), f.requireText(o, at, "mode"),
                        f.requireText(o, at, "unit"), score, JsonFields.number(o, "score_error"),
                        optionalNumber(f, o, at, "alloc_b_per_op"), eps == null ? GateOptions.DEFAULT_ALLOC_EPSILON : eps,
                        o.hasNonNull("reference") ? o.get("reference").asText() : null,
                        o.path("is_reference").asBoolean(false)));
            }
        }
        BenchPoint bench = null;
        JsonNode b = root.path("bench");
        if (!b.isMissingNode() && !b.isNull()) {
            if (!b.isObject()) {
                throw new ReportInputException(file, "bench", "expected an object for field");
            }
            bench = new BenchPoint(optionalNumber(f, b, "bench", "cpu_ratio_turnpike_nginx"),
                    optionalNumber(f, b, "bench", "p99_ratio_turnpike_nginx"),
                    optionalNumber(f, b, "bench", "turnpike_cpu_us_per_req"),
                    optionalNumber(f, b, "bench", "turnpike_p99_ms"),
                    optionalNumber(f, b, "bench", "turnpike_rps"),
                    optionalNumber(f, b, "bench", "nginx_cpu_us_per_req"),
                    optionalNumber(f, b, "bench", "nginx_p99_ms"),
                    b.path("turnpike_errors").asLong(0), b.path("contended").asBoolean(false));
        }
        if (jmh.isEmpty() && bench == null) {
            throw new ReportInputException(file, null, "baseline has neither 'jmh' nor 'bench' figures");
        }
        return new Baseline(name, blessedAt, JsonFields.text(root, "command", ""), JsonFields.text(root, "note", ""),
                machine, env, sources, new Snapshot(jmh, bench));
    }

    private static Double optionalNumber(JsonFields f, JsonNode parent, String at, String name)
            throws ReportInputException {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        return f.requireNumber(parent, at, name);
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            m.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText());
        }
        return m;
    }
}
