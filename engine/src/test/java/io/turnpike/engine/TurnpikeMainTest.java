package io.turnpike.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI's commands, exit codes and messages, run in-process on real files. */
class TurnpikeMainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return TurnpikeMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void versionPrintsRuntimeAndNativeStatus() {
        assertEquals(0, run("version"));
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("turnpike "), s);
        assertTrue(s.contains("netty 4.2.18.Final"), s);
        assertTrue(s.contains("transport epoll: "), s);
        assertTrue(s.contains("tls: "), s);
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run());
        assertEquals(2, run("frobnicate"));
        assertTrue(err().contains("unknown command 'frobnicate'"), err());
        assertEquals(2, run("start", "-c"));
    }

    @Test
    void keyserverCommandDelegatesToKeyServerMain() {
        assertEquals(2, run("keyserver", "--listen", "127.0.0.1:0"));
        assertTrue(err().contains("keyserver: --listen, --keys, --cert, --key and --client-ca are required"), err());
        assertTrue(err().contains("usage: turnpike keyserver --listen HOST:PORT"), err());
        assertEquals(0, run("help"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("turnpike keyserver --listen HOST:PORT"),
                out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void validateShippedDefaults() {
        Path repo = Path.of(System.getProperty("user.dir")).getParent();
        assertEquals(0, run("validate", "-c", repo.resolve("conf/config.yaml").toString()), err());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("apisix.yaml: ok ("), out.toString());
    }

    @Test
    void validateNamesFileLineAndField() throws Exception {
        Path f = dir.resolve("apisix.yaml");
        Files.writeString(f, ""
                + "routes:\n"
                + "  - id: \"1\"\n"
                + "    uri: /ok\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:80\": 1\n"
                + "  - id: \"2\"\n"
                + "    uri: 42\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:80\": 1\n"
                + "#END\n");
        assertEquals(1, run("validate", f.toString()));
        String e = err();
        assertTrue(e.contains(f + ":8:"), e);
        assertTrue(e.contains("property \"uri\" validation failed"), e);
    }

    @Test
    void validateRefusesUnknownPluginsAndUnsupportedFields() throws Exception {
        Path f = dir.resolve("apisix.yaml");
        Files.writeString(f, ""
                + "routes:\n"
                + "  - id: \"1\"\n"
                + "    uri: /api/*\n"
                + "    plugins:\n"
                + "      hmac-auth: {}\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:80\": 1\n"
                + "  - id: \"2\"\n"
                + "    uri: /ws\n"
                + "    service_protocol: grpc\n"
                + "    upstream:\n"
                + "      nodes:\n"
                + "        \"127.0.0.1:80\": 1\n"
                + "#END\n");
        assertEquals(1, run("validate", f.toString()));
        assertEquals(f + ":5: routes[0] (id \"1\"): unknown plugin [hmac-auth]\n"
                + f + ":11: routes[1] (id \"2\"): property \"service_protocol\" validation failed: \"grpc\" is not"
                + " supported (gRPC is proxied to upstreams with \"scheme\": \"grpc\" or \"grpcs\": docs/http2.md)\n"
                + f + ": invalid, 2 problem(s)\n", err());
        Path c = dir.resolve("config.yaml");
        Files.writeString(c, "turnpike:\n  access_log:\n    format: \"$remote_addr $nonsense\"\n");
        assertEquals(1, run("validate", "-c", c.toString(), dir.resolve("none.yaml").toString()));
        assertTrue(err().contains(c + ":3: turnpike.access_log.format: unknown variable \"$nonsense\""), err());
    }

    @Test
    void validateRefusesFileWithoutEndMarker() throws Exception {
        Path f = dir.resolve("apisix.yaml");
        Files.writeString(f, "routes: []\n");
        assertEquals(1, run("validate", f.toString()));
        assertTrue(err().contains("#END"), err());
    }

    @Test
    void startRefusesInvalidProcessConfig() throws Exception {
        Path c = dir.resolve("config.yaml");
        Files.writeString(c, "apisix:\n  node_listen: [abc]\nturnpike:\n  event_loopz: 2\n");
        assertEquals(1, run("start", "-c", c.toString()));
        String e = err();
        assertTrue(e.contains("config.yaml:2"), e);
        assertTrue(e.contains("event_loopz"), e);
    }

    @Test
    void startRefusesMissingExplicitConfig() {
        assertEquals(1, run("start", "-c", dir.resolve("nope.yaml").toString()));
        assertTrue(err().contains("nope.yaml"), err());
    }
}
