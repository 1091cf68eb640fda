package io.turnpike.perf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A hand-written JMH -rf json result (the shape scripts/jmh.sh writes), with ways to change it. */
final class JmhJsonFixture {

    private JmhJsonFixture() {
    }

    private static String bench(String name, String mode, String params, double score, String unit, double alloc) {
        return """
                {"jmhVersion": "1.37", "benchmark": "io.turnpike.bench.%s", "mode": "%s", "threads": 1, "forks": 1,
                 "jdkVersion": "17.0.15", "measurementIterations": 3, "measurementTime": "1 s",
                 "params": {%s},
                 "primaryMetric": {"score": %s, "scoreError": "NaN", "scoreUnit": "%s"},
                 "secondaryMetrics": {"gc.alloc.rate.norm": {"score": %s, "scoreError": 0.1, "scoreUnit": "B/op"},
                                      "gc.count": {"score": 0.0, "scoreUnit": "counts"}}}
                """.formatted(name, mode, params, score, unit, alloc);
    }

    static final String JSON = "["
            + bench("RequestParseBenchmark.turnpike", "avgt", "\"request\": \"small\"", 200.0, "ns/op", 0.008) + ","
            + bench("RequestParseBenchmark.nettyDecoder", "avgt", "\"request\": \"small\"", 500.0, "ns/op", 704.0) + ","
            + bench("RouterMatchBenchmark.exactHit", "avgt", "\"routes\": \"10000\"", 70.0, "ns/op", 0.002) + ","
            + bench("RouterMatchBenchmark.stringHashMapExact", "avgt", "\"routes\": \"10000\"", 50.0, "ns/op", 64.0) + ","
            + bench("ProxyPipelineBenchmark.proxy", "avgt", "\"exchange\": \"get\"", 2000.0, "ns/op", 0.02) + ","
            + bench("ProxyPipelineBenchmark.proxyThroughput", "thrpt", "\"exchange\": \"get\"", 500000.0, "ops/s", 0.02)
            + "]";

    static ArrayNode tree() {
        try {
            return (ArrayNode) BenchJsonFixture.MAPPER.readTree(JSON);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The element whose benchmark ends with {@code .suffix} (e.g. {@code RouterMatchBenchmark.exactHit}). */
    static ObjectNode find(ArrayNode root, String suffix) {
        for (int i = 0; i < root.size(); i++) {
            if (root.get(i).get("benchmark").asText().endsWith("." + suffix)) {
                return (ObjectNode) root.get(i);
            }
        }
        throw new AssertionError("no " + suffix);
    }

    static void setScore(ArrayNode root, String suffix, double score) {
        ((ObjectNode) find(root, suffix).get("primaryMetric")).put("score", score);
    }

    static void setAlloc(ArrayNode root, String suffix, double bytes) {
        ((ObjectNode) find(root, suffix).get("secondaryMetrics").get("gc.alloc.rate.norm")).put("score", bytes);
    }

    static Path write(Path dir, String name, Consumer<ArrayNode> edit) {
        ArrayNode root = tree();
        edit.accept(root);
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, BenchJsonFixture.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path write(Path dir, String name) {
        return write(dir, name, root -> { });
    }
}
