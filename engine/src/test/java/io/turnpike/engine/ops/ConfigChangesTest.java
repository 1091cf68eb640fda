package io.turnpike.engine.ops;

import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which changed config.yaml keys a reload applies and which it reports as needing a restart; the new keys. */
class ConfigChangesTest {
    @TempDir
    Path dir;

    static ProcessConfig parse(String yaml) {
        ProcessConfigResult r = ProcessConfigLoader.parse(yaml, Path.of("conf/config.yaml"));
        assertTrue(r.ok(), r.errors().toString());
        return r.config();
    }

    @Test
    void everyChangedKeyIsNamedAndClassified() {
        ProcessConfig a = parse("turnpike:\n  drain_timeout_ms: 1000\n");
        ProcessConfig b = parse("apisix:\n  node_listen: 9081\n  control:\n    port: 9099\n"
                + "deployment:\n  etcd:\n    prefix: /other\n"
                + "turnpike:\n  drain_timeout_ms: 2000\n  event_loops: 3\n  status_listen:\n    port: 7086\n"
                + "  pid_file: /run/x.pid\n");
        List<ConfigChanges.Change> changes = ConfigChanges.between(a, b);
        assertEquals(List.of(
                new ConfigChanges.Change("apisix.node_listen", false),
                new ConfigChanges.Change("deployment.etcd", false),
                new ConfigChanges.Change("turnpike.event_loops", false),
                new ConfigChanges.Change("turnpike.drain_timeout_ms", true),
                new ConfigChanges.Change("turnpike.status_listen", false),
                new ConfigChanges.Change("apisix.control", true),
                new ConfigChanges.Change("turnpike.pid_file", false)), changes);
        assertEquals(List.of(), ConfigChanges.between(a, parse("turnpike:\n  drain_timeout_ms: 1000\n")));
    }

    @Test
    void controlAndPidFileKeys() {
        ProcessConfig d = parse("");
        assertTrue(d.operations().enableControl(), "APISIX's default: the control API is on");
        assertEquals("127.0.0.1:9090", d.operations().control().toString());
        assertEquals(Path.of("/p/logs/turnpike.pid"), d.operations().pidFile(Path.of("/p")));
        ProcessConfig c = parse("apisix:\n  enable_control: false\n  control:\n    ip: 127.0.0.2\n    port: 9191\n"
                + "turnpike:\n  pid_file: /var/run/tp.pid\n");
        assertFalse(c.operations().enableControl());
        assertEquals("127.0.0.2:9191", c.operations().control().toString());
        assertEquals(Path.of("/var/run/tp.pid"), c.operations().pidFile(Path.of("/p")));
        ProcessConfigResult bad = ProcessConfigLoader.parse("apisix:\n  control:\n    port: 0x\n"
                + "turnpike:\n  pid_file: \"\"\n", Path.of("c.yaml"));
        assertFalse(bad.ok());
        String errors = bad.errors().toString();
        assertTrue(errors.contains("apisix.control.port") && errors.contains("turnpike.pid_file"), errors);
    }

    @Test
    void reloaderReportsLiveAndRestartKeysAndKeepsReportingRestartKeys() throws Exception {
        Path cfg = dir.resolve("config.yaml");
        Files.writeString(cfg, "turnpike:\n  drain_timeout_ms: 1000\n");
        ProcessConfig start = ProcessConfigLoader.loadExplicit(cfg).config();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        long[] applied = {0};
        ConfigReloader r = new ConfigReloader(cfg, true, start, dir.resolve("gw.pid.reload"),
                new PrintStream(log, true, StandardCharsets.UTF_8), c -> applied[0] = c.turnpike().drainTimeoutMs());

        Files.writeString(cfg, "turnpike:\n  drain_timeout_ms: 2000\n  max_headers: 10\n");
        ConfigReloader.Report one = r.reload();
        assertTrue(one.ok());
        assertEquals(List.of("turnpike.drain_timeout_ms"), one.applied());
        assertEquals(List.of("turnpike.max_headers"), one.restartRequired());
        assertEquals(2000, applied[0]);

        ConfigReloader.Report two = r.reload();
        assertEquals(List.of(), two.applied(), "nothing new to apply");
        assertEquals(List.of("turnpike.max_headers"), two.restartRequired(), "still not in force");
        assertEquals(2, two.generation());

        Files.writeString(cfg, "turnpike:\n  drain_timeout_ms: nope\n");
        ConfigReloader.Report bad = r.reload();
        assertFalse(bad.ok());
        assertTrue(bad.errors().get(0).contains("turnpike.drain_timeout_ms"), bad.errors().toString());
        assertEquals(2000, applied[0], "nothing applied from a refused file");
        String report = Files.readString(dir.resolve("gw.pid.reload"));
        assertTrue(report.contains("\"ok\":false") && report.contains("\"generation\":3"), report);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("changed but need a restart (not applied): turnpike.max_headers"), text);
        assertTrue(text.contains("refused, nothing changed"), text);
    }

    @Test
    void testCommandChecksConfigYamlAndTheStandaloneFile() throws Exception {
        Path cfg = dir.resolve("config.yaml");
        Files.writeString(cfg, "deployment:\n  role: data_plane\n  role_data_plane:\n    config_provider: yaml\n");
        Files.writeString(dir.resolve("apisix.yaml"), "routes:\n  - id: \"1\"\n    uri: /a\n    upstream:\n"
                + "      nodes:\n        \"127.0.0.1:1980\": 1\n#END\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(0, OpsCli.test(cfg.toString(), List.of(), o, e), err.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("test is successful"));
        Files.writeString(dir.resolve("apisix.yaml"), "routes:\n  - id: \"1\"\n    uri: 5\n#END\n");
        assertEquals(1, OpsCli.test(cfg.toString(), List.of(), o, e));
        Files.writeString(cfg, "turnpike:\n  no_such_key: 1\n");
        assertEquals(1, OpsCli.test(cfg.toString(), List.of(), o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("turnpike.no_such_key"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("test failed"));
    }
}
