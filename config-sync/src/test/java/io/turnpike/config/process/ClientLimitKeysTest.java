package io.turnpike.config.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client-facing limit keys added for issue 16 (docs/config.md "Client-facing limits"). */
class ClientLimitKeysTest {
    @TempDir
    Path dir;

    private ProcessConfigResult load(String turnpike) throws Exception {
        Path p = dir.resolve("config.yaml");
        Files.writeString(p, "turnpike:\n" + turnpike);
        return ProcessConfigLoader.loadExplicit(p);
    }

    @Test
    void defaults() throws Exception {
        TurnpikeSettings t = load("  event_loops: 1\n").config().turnpike();
        assertEquals(10620, t.maxConnectionsPerLoop());
        assertEquals(65536, t.pipelineBufferBytes());
    }

    @Test
    void set() throws Exception {
        TurnpikeSettings t = load("  max_connections_per_loop: 100\n  pipeline_buffer_bytes: 0\n").config().turnpike();
        assertEquals(100, t.maxConnectionsPerLoop());
        assertEquals(0, t.pipelineBufferBytes());
    }

    @Test
    void outOfRangeIsRefusedWithItsLine() throws Exception {
        ProcessConfigResult r = load("  max_connections_per_loop: 0\n  pipeline_buffer_bytes: -1\n");
        assertEquals(2, r.errors().size(), r.errors().toString());
        String all = r.errors().stream().map(ConfigProblem::render).reduce("", (a, b) -> a + b + "\n");
        assertTrue(all.contains("config.yaml:2: turnpike.max_connections_per_loop"), all);
        assertTrue(all.contains("config.yaml:3: turnpike.pipeline_buffer_bytes"), all);
    }
}
