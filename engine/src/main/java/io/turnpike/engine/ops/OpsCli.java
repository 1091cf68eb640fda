package io.turnpike.engine.ops;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.process.OperationsConfig;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.ProcessConfigLoader;
import io.turnpike.config.process.ProcessConfigResult;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The CLI side of operations: {@code test}, {@code stop}, {@code quit}, {@code reload} (see docs/operations.md). */
public final class OpsCli {
    public static final Set<String> SIGNAL_COMMANDS = Set.of("stop", "quit", "reload");
    static final String DEFAULT_CONFIG = "conf/config.yaml";
    static final long STOP_WAIT_MS = 15_000;
    static final long RELOAD_WAIT_MS = 10_000;

    /** How {@code start} was invoked: {@code -c} given (the file must exist on reload too), and the prefix. */
    public record Options(boolean configMustExist, Path prefix) {
    }

    private OpsCli() {
    }

    /** {@code -p PREFIX}, default the working folder. */
    public static Path prefix(String prefix) {
        return Path.of(prefix == null ? "" : prefix).toAbsolutePath().normalize();
    }

    private static ProcessConfigResult load(String configPath) {
        return configPath != null ? ProcessConfigLoader.loadExplicit(Path.of(configPath))
                : ProcessConfigLoader.load(Path.of(DEFAULT_CONFIG));
    }

    private static void render(ProcessConfigResult r, PrintStream err) {
        for (ConfigProblem w : r.warnings()) {
            err.println("warning: " + w.render());
        }
        for (ConfigProblem e : r.errors()) {
            err.println("error: " + e.render());
        }
    }

    /**
     * {@code turnpike test}: like {@code nginx -t} and {@code apisix test}: config.yaml, and the standalone file when
     * the configuration comes from it (or the file named after the options). Exit 0 ok, 1 invalid.
     */
    public static int test(String configPath, List<String> positional, PrintStream out, PrintStream err) {
        ProcessConfigResult pr = load(configPath);
        render(pr, err);
        String name = configPath != null ? configPath : DEFAULT_CONFIG;
        if (!pr.ok()) {
            err.println("turnpike: configuration file " + name + " test failed");
            return 1;
        }
        ProcessConfig pc = pr.config();
        Path standalone = !positional.isEmpty() ? Path.of(positional.get(0))
                : pc.standalone() && !pc.controlPlaneOnly() ? pc.turnpike().standaloneFile() : null;
        if (standalone != null) {
            LoadResult lr = StandaloneFileLoader.load(standalone);
            if (!lr.ok()) {
                err.print(lr.render());
                err.println("turnpike: configuration file " + standalone + " test failed");
                return 1;
            }
            out.println("turnpike: configuration file " + standalone + " syntax is ok ("
                    + lr.config().routes().size() + " routes)");
        }
        out.println("turnpike: configuration file " + name + " test is successful");
        return 0;
    }

    /** {@code turnpike stop | quit | reload}. */
    public static int signal(String cmd, String configPath, String prefix, Long pid, PrintStream out,
                             PrintStream err) throws Exception {
        ProcessConfigResult pr = load(configPath);
        OperationsConfig ops;
        long drainMs;
        if (pr.ok()) {
            ops = pr.config().operations();
            drainMs = pr.config().turnpike().drainTimeoutMs();
        } else if (cmd.equals("reload")) {
            // nothing is sent: the running process would refuse the file anyway
            render(pr, err);
            err.println("turnpike: reload not sent: " + (configPath != null ? configPath : DEFAULT_CONFIG)
                    + " is invalid");
            return 1;
        } else {
            err.println("warning: " + (configPath != null ? configPath : DEFAULT_CONFIG) + " is invalid; using the"
                    + " default PID file");
            ops = OperationsConfig.DEFAULT;
            drainMs = io.turnpike.config.process.TurnpikeSettings.DRAIN_TIMEOUT_MS_DEFAULT;
        }
        Path pidFile = ops.pidFile(prefix(prefix));
        return switch (cmd) {
            case "quit" -> SignalCommands.quit(pidFile, pid, drainMs + STOP_WAIT_MS, out, err);
            case "stop" -> SignalCommands.stop(pidFile, pid, STOP_WAIT_MS, out, err);
            case "reload" -> {
                for (ConfigProblem w : pr.warnings()) {
                    err.println("warning: " + w.render());
                }
                yield SignalCommands.reload(pidFile, pid, RELOAD_WAIT_MS, out, err);
            }
            default -> throw new IllegalArgumentException(cmd);
        };
    }
}
