package io.turnpike.engine.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * SIGHUP (and {@code PUT /v1/plugins/reload}, and {@code turnpike reload}): re-reads config.yaml, and when it is valid
 * applies the keys that can change live ({@link ConfigChanges#LIVE}) through {@code apply}; every other changed key is
 * reported as needing a restart, in the log and in the report file ({@code <pid_file>.reload}, JSON) that
 * {@code turnpike reload} prints. An invalid file changes nothing (its errors are logged and reported). The standalone
 * file and etcd are not this class's business: they are watched and applied already.
 *
 * <p>Thread-safe: {@link #reload} is serialized; it runs on the caller's thread (the JVM's signal thread, the
 * control API's thread), never an event loop.
 */
public final class ConfigReloader {

    private final Path configFile;
    private final boolean mustExist;
    private final Path reportFile;
    private final PrintStream log;
    private final Consumer<ProcessConfig> apply;
    private final ProcessConfig started;
    private ProcessConfig current;
    private long generation;

    /**
     * @param configFile the config.yaml the process started with; {@code mustExist} as at start (-c given)
     * @param reportFile where each outcome is written; null for none
     * @param apply      applies the live keys of a valid new configuration (called under the lock)
     */
    public ConfigReloader(Path configFile, boolean mustExist, ProcessConfig current, Path reportFile, PrintStream log,
                          Consumer<ProcessConfig> apply) {
        this.configFile = configFile;
        this.mustExist = mustExist;
        this.started = current;
        this.current = current;
        this.reportFile = reportFile;
        this.log = log;
        this.apply = apply;
    }

    /** The report file for a PID file. */
    public static Path reportFileFor(Path pidFile) {
        return pidFile.resolveSibling(pidFile.getFileName() + ".reload");
    }

    /** What one reload did. */
    public record Report(long generation, long pid, String time, boolean ok, List<String> errors, List<String> applied,
                         List<String> restartRequired) {
        public String toJson() {
            ObjectNode o = ControlJson.mapper().createObjectNode();
            o.put("generation", generation).put("pid", pid).put("time", time).put("ok", ok);
            ArrayNode e = o.putArray("errors");
            errors.forEach(e::add);
            ArrayNode a = o.putArray("applied");
            applied.forEach(a::add);
            ArrayNode r = o.putArray("restart_required");
            restartRequired.forEach(r::add);
            return o.toString();
        }
    }

    /** The last configuration applied (its live keys are in force; its other keys maybe not, see the report). */
    public synchronized ProcessConfig current() {
        return current;
    }

    /** Re-reads config.yaml; applies what it can; logs and writes the report. */
    public synchronized Report reload() {
        ProcessConfigResult r = ProcessConfigLoader.load(configFile, mustExist);
        List<String> errors = new ArrayList<>();
        List<String> applied = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        for (ConfigProblem w : r.warnings()) {
            log.println("turnpike: reload: warning: " + w.render());
        }
        if (!r.ok()) {
            for (ConfigProblem e : r.errors()) {
                errors.add(e.render());
                log.println("turnpike: reload: error: " + e.render());
            }
            log.println("turnpike: reload: " + configFile + " refused, nothing changed");
        } else {
            // Live keys: against the last applied configuration. Restart keys: against the one the process started
            // with, so that a key changed by an earlier reload is reported again until the process restarts.
            for (ConfigChanges.Change c : ConfigChanges.between(current, r.config())) {
                if (c.live()) {
                    applied.add(c.key());
                }
            }
            for (ConfigChanges.Change c : ConfigChanges.between(started, r.config())) {
                if (!c.live()) {
                    restart.add(c.key());
                }
            }
            if (!applied.isEmpty()) {
                try {
                    apply.accept(r.config());
                } catch (RuntimeException e) {
                    errors.add("applying " + applied + ": " + e.getMessage());
                    log.println("turnpike: reload: applying " + applied + " failed: " + e.getMessage());
                    applied.clear();
                }
            }
            if (errors.isEmpty()) {
                current = r.config();
            }
            log.println("turnpike: reload: " + configFile
                    + (applied.isEmpty() && restart.isEmpty() ? ": no change" : "")
                    + (applied.isEmpty() ? "" : ": applied " + String.join(", ", applied))
                    + (restart.isEmpty() ? "" : ": changed but need a restart (not applied): "
                    + String.join(", ", restart)));
        }
        log.flush();
        Report report = new Report(++generation, ProcessHandle.current().pid(), Instant.now().toString(),
                errors.isEmpty(), errors, applied, restart);
        writeReport(report);
        return report;
    }

    private void writeReport(Report report) {
        if (reportFile == null) {
            return;
        }
        try {
            Path dir = reportFile.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".turnpike-reload", ".tmp");
            try {
                Files.writeString(tmp, report.toJson() + "\n");
                try {
                    Files.move(tmp, reportFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, reportFile, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            log.println("turnpike: reload: cannot write " + reportFile + ": " + e);
        }
    }
}
