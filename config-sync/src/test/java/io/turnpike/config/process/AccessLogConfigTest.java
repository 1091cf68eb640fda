package io.turnpike.config.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code turnpike.access_log} and APISIX's {@code nginx_config.http} access log keys. */
class AccessLogConfigTest {
    @TempDir
    Path dir;

    private ProcessConfigResult load(String yaml) throws Exception {
        Path p = dir.resolve("config.yaml");
        Files.writeString(p, yaml);
        return ProcessConfigLoader.load(p);
    }

    private List<String> errors(ProcessConfigResult r) {
        return r.errors().stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void offByDefaultAndTrueTurnsItOnWithApisixDefaults() throws Exception {
        AccessLogConfig off = load("turnpike:\n  event_loops: 1\n").config().turnpike().accessLogConfig();
        assertFalse(off.enabled());
        ProcessConfigResult r = load("turnpike:\n  access_log: true\n");
        assertEquals(List.of(), r.errors());
        AccessLogConfig on = r.config().turnpike().accessLogConfig();
        assertTrue(on.enabled());
        assertTrue(r.config().turnpike().accessLog());
        assertEquals(dir.resolve("logs/access.log"), on.path());
        assertEquals(AccessLogFormat.DEFAULT, on.format().source());
        assertFalse(on.jsonEscape());
    }

    @Test
    void mappingWithJsonFormat() throws Exception {
        ProcessConfigResult r = load("turnpike:\n  access_log:\n    path: /var/log/tp/access.log\n    format: json\n"
                + "    buffer_entries: 128\n    max_request_bytes: 4096\n");
        assertEquals(List.of(), r.errors());
        AccessLogConfig c = r.config().turnpike().accessLogConfig();
        assertTrue(c.enabled());
        assertEquals(Path.of("/var/log/tp/access.log"), c.path());
        assertEquals(AccessLogFormat.JSON, c.format().source());
        assertTrue(c.jsonEscape(), "format: json escapes as JSON");
        assertEquals(128, c.bufferEntries());
        assertEquals(4096, c.maxRequestBytes());
    }

    @Test
    void apisixKeysUnderNginxConfig() throws Exception {
        ProcessConfigResult r = load("nginx_config:\n  worker_processes: auto\n  http:\n    enable_access_log: true\n"
                + "    access_log: logs/a.log\n    access_log_format: \"$remote_addr $status $route_id\"\n"
                + "    access_log_format_escape: json\n    client_max_body_size: 0\n");
        assertEquals(List.of(), r.errors());
        AccessLogConfig c = r.config().turnpike().accessLogConfig();
        assertTrue(c.enabled());
        assertEquals(dir.resolve("logs/a.log"), c.path());
        assertEquals("$remote_addr $status $route_id", c.format().source());
        assertTrue(c.jsonEscape());
        String f = dir.resolve("config.yaml").toString();
        assertEquals(List.of(f + ":2: nginx_config.worker_processes: not supported by Turnpike, ignored",
                        f + ":8: nginx_config.http.client_max_body_size: not supported by Turnpike, ignored"),
                r.warnings().stream().map(ConfigProblem::toString).toList());
    }

    @Test
    void unknownVariablesAndBadValuesAreRefusedWithFileLineAndKey() throws Exception {
        String f = dir.resolve("config.yaml").toString();
        ProcessConfigResult r = load("turnpike:\n  access_log:\n    format: \"$remote_addr $upstream_uri\"\n"
                + "    format_escape: yaml\n    buffer_entries: 2\n    colour: red\n");
        List<String> e = errors(r);
        assertEquals(4, e.size(), e.toString());
        assertTrue(e.get(0).startsWith(f + ":3: turnpike.access_log.format: unknown variable \"$upstream_uri\""
                + " (known: $apisix_latency, $args,"), e.get(0));
        assertEquals(f + ":4: turnpike.access_log.format_escape: expected one of default, json, got \"yaml\"", e.get(1));
        assertEquals(f + ":5: turnpike.access_log.buffer_entries: expected an integer 16..1048576, got 2", e.get(2));
        assertTrue(e.get(3).startsWith(f + ":6: turnpike.access_log.colour: unknown key (known: enabled, path,"), e.get(3));

        assertEquals(List.of(f + ":4: nginx_config.http.access_log_format: unknown variable \"$upstream_host\""
                        + " (known: " + String.join(", ", AccessLogFormat.VARIABLES.stream().sorted()
                        .map(v -> "$" + v).toList()) + ", $http_<header>)"),
                errors(load("nginx_config:\n  http:\n    enable_access_log: true\n"
                        + "    access_log_format: \"$upstream_host\"\n")));
        assertEquals(List.of(f + ":2: turnpike.access_log: set either turnpike.access_log or nginx_config.http's"
                        + " access log keys, not both"),
                errors(load("turnpike:\n  access_log: true\nnginx_config:\n  http:\n    access_log: x.log\n")));
    }

    @Test
    void relativePathsResolveAgainstApisixsPrefix() throws Exception {
        Path conf = dir.resolve("conf");
        Files.createDirectories(conf);
        Files.writeString(conf.resolve("config.yaml"), "turnpike:\n  access_log: true\n");
        assertEquals(dir.resolve("logs/access.log"),
                ProcessConfigLoader.load(conf.resolve("config.yaml")).config().turnpike().accessLogConfig().path(),
                "conf/config.yaml: logs/ beside conf/, as APISIX");
        assertEquals(dir.resolve("x/a.log"), AccessLogConfig.resolve(dir.resolve("config.yaml"), "x/a.log"));
        assertEquals(Path.of("/var/log/a.log"), AccessLogConfig.resolve(conf.resolve("config.yaml"), "/var/log/a.log"));
    }

    @Test
    void formatParsing() {
        List<AccessLogFormat.Part> p = AccessLogFormat.parse("a $status ${request_time}s $ $http_x_real_ip").parts();
        assertEquals(List.of(new AccessLogFormat.Part(false, "a "), new AccessLogFormat.Part(true, "status"),
                new AccessLogFormat.Part(false, " "), new AccessLogFormat.Part(true, "request_time"),
                new AccessLogFormat.Part(false, "s $ "), new AccessLogFormat.Part(true, "http_x_real_ip")), p);
        AccessLogFormat.parse(AccessLogFormat.JSON);
        AccessLogFormat.parse(AccessLogFormat.DEFAULT);
    }
}
