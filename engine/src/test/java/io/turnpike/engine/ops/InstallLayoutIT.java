package io.turnpike.engine.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code scripts/install.sh --prefix} into a temporary folder (never the real /etc): the layout, the units with their
 * paths filled in, an installed config.yaml that passes {@code turnpike test}, a second install keeping the
 * operator's files, and {@code systemd-analyze verify} finding nothing wrong with the unit's keys when it is present.
 */
class InstallLayoutIT {
    @TempDir
    Path dir;

    static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void installsASelfConsistentTreeUnderThePrefix() throws Exception {
        Path jar = dir.resolve("turnpike.jar");
        Files.writeString(jar, "not really a jar");
        Path prefix = dir.resolve("root");
        List<String> install = List.of("bash", ROOT.resolve("scripts/install.sh").toString(), "--prefix",
                prefix.toString(), "--jar", jar.toString(), "--no-user");
        run(install);
        for (String f : List.of("opt/turnpike/bin/turnpike", "opt/turnpike/lib/turnpike.jar",
                "opt/turnpike/docs/operations.md", "etc/turnpike/config.yaml", "etc/turnpike/apisix.yaml",
                "etc/default/turnpike", "etc/systemd/system/turnpike.service", "etc/systemd/system/turnpike@.service")) {
            assertTrue(Files.isRegularFile(prefix.resolve(f)), f);
        }
        for (String d : List.of("var/log/turnpike", "var/lib/turnpike", "run/turnpike")) {
            assertTrue(Files.isDirectory(prefix.resolve(d)), d);
        }
        assertTrue(Files.isExecutable(prefix.resolve("opt/turnpike/bin/turnpike")));

        String unit = Files.readString(prefix.resolve("etc/systemd/system/turnpike.service"));
        assertFalse(unit.contains("@PREFIX@") || unit.contains("@USER@"), unit);
        assertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), unit);
        assertTrue(unit.contains("LimitNOFILE=1048576"), unit);
        assertTrue(unit.contains("ExecStart=" + prefix + "/opt/turnpike/bin/turnpike start -c " + prefix
                + "/etc/turnpike/config.yaml"), unit);
        assertTrue(unit.contains("User=turnpike"), unit);
        assertTrue(unit.contains(prefix + "/run/turnpike/turnpike.pid"), unit);

        // the installed config.yaml passes `turnpike test`, and its PID file is where the unit waits for it
        Path cfg = prefix.resolve("etc/turnpike/config.yaml");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, OpsCli.test(cfg.toString(), List.of(), ps, ps), out.toString(StandardCharsets.UTF_8));
        var pc = io.turnpike.config.process.ProcessConfigLoader.loadExplicit(cfg).config();
        assertEquals(prefix.resolve("run/turnpike/turnpike.pid"), pc.operations().pidFile(Path.of("/elsewhere")));

        // a second install keeps what the operator changed
        Files.writeString(cfg, Files.readString(cfg) + "# mine\n");
        String second = run(install);
        assertTrue(second.contains("kept " + cfg), second);
        assertTrue(Files.readString(cfg).endsWith("# mine\n"));

        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (Files.isExecutable(analyze)) {
            Process p = new ProcessBuilder(analyze.toString(), "verify",
                    prefix.resolve("etc/systemd/system/turnpike.service").toString())
                    .redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            // In a container without systemd running, verify also complains about targets; the unit's own keys are
            // what this checks.
            for (String bad : List.of("Unknown key", "Unknown section", "Invalid", "Failed to parse", "bad-setting")) {
                assertFalse(v.contains(bad), v);
            }
        }
    }
}
