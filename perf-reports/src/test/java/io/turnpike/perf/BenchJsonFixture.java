package io.turnpike.perf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** A hand-written bench.sh result with round numbers, and ways to break it. */
final class BenchJsonFixture {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static final String JSON = """
            {
              "format": "turnpike-bench/v1",
              "generated_at": "2030-01-02T03:04:05Z",
              "command": "scripts/bench.sh --rounds 3",
              "environment": {"kernel": "Linux 6.1 x86_64", "cpu_model": "Test CPU", "nproc": "2",
                              "java": "openjdk 17", "nginx": "nginx/1.22.1", "wrk": "wrk 4.1.0", "git_sha": "abc123def456"},
              "parameters": {"rounds": 3, "warmup_s": 5, "duration_s": 10, "connections": 64, "wrk_threads": 1,
                             "body_bytes": 12, "cores": {"load": "0", "backend": "0", "proxy": "1"},
                             "wrk_command": "taskset -c 0 wrk -t1 -c64 -d10s --latency URL",
                             "jvm_opts": "-Xms512m -Xmx512m"},
              "skipped": {},
              "results": {
                "backend": {
                  "rounds": [{}, {}, {}],
                  "median": {"rps": 80000.0, "p50_ms": 0.5, "p99_ms": 1.0, "cpu_us_per_req": 6.0, "rss_peak_mib": 10.0},
                  "min":    {"rps": 79000.0, "p50_ms": 0.5, "p99_ms": 0.9, "cpu_us_per_req": 5.9, "rss_peak_mib": 10.0},
                  "max":    {"rps": 81000.0, "p50_ms": 0.5, "p99_ms": 1.1, "cpu_us_per_req": 6.1, "rss_peak_mib": 10.0},
                  "non2xx_total": 0, "socket_errors_total": 0, "flagged": false
                },
                "nginx": {
                  "rounds": [{}, {}, {}],
                  "median": {"rps": 50000.0, "p50_ms": 1.0, "p99_ms": 2.0, "cpu_us_per_req": 16.0, "rss_peak_mib": 18.2},
                  "min":    {"rps": 49500.0, "p50_ms": 0.9, "p99_ms": 1.9, "cpu_us_per_req": 15.5, "rss_peak_mib": 18.2},
                  "max":    {"rps": 50500.0, "p50_ms": 1.1, "p99_ms": 2.2, "cpu_us_per_req": 16.5, "rss_peak_mib": 18.2},
                  "non2xx_total": 0, "socket_errors_total": 0, "flagged": false
                },
                "turnpike": {
                  "rounds": [{}, {}, {}],
                  "median": {"rps": 45000.0, "p50_ms": 1.2, "p99_ms": 3.0, "cpu_us_per_req": 24.0, "rss_peak_mib": 600.0},
                  "min":    {"rps": 44000.0, "p50_ms": 1.1, "p99_ms": 2.5, "cpu_us_per_req": 23.0, "rss_peak_mib": 600.0},
                  "max":    {"rps": 46000.0, "p50_ms": 1.3, "p99_ms": 3.5, "cpu_us_per_req": 25.0, "rss_peak_mib": 601.0},
                  "non2xx_total": 0, "socket_errors_total": 2, "flagged": true, "contended": true
                }
              },
              "ratios": {"turnpike_vs_nginx": {"cpu_us_per_req": 1.5, "p99_ms": 1.5, "p50_ms": 1.2, "rps": 0.9,
                                               "per_round": {"cpu_us_per_req": [1.4, 1.5, 1.6]}}}
            }
            """;

    private BenchJsonFixture() {
    }

    static ObjectNode tree() {
        try {
            return (ObjectNode) MAPPER.readTree(JSON);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path dir, String name, Consumer<ObjectNode> edit) {
        ObjectNode root = tree();
        edit.accept(root);
        Path file = dir.resolve(name);
        try {
            Files.writeString(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path write(Path dir, String name) {
        return write(dir, name, root -> { });
    }
}
