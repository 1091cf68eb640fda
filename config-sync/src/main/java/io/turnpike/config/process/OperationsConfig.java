package io.turnpike.config.process;

import java.nio.file.Path;

/**
 * Operations settings of config.yaml (docs/operations.md): APISIX's control API and the PID file the CLI signals.
 *
 * @param enableControl {@code apisix.enable_control} (APISIX default true)
 * @param control       {@code apisix.control}: {ip, port}, default 127.0.0.1:9090
 * @param pidFile       {@code turnpike.pid_file}; null = {@code <prefix>/logs/turnpike.pid}, the prefix being the
 *                      working folder (APISIX's {@code logs/nginx.pid}); a relative path resolves against the prefix
 */
public record OperationsConfig(boolean enableControl, ListenAddress control, Path pidFile) {
    public static final ListenAddress CONTROL_DEFAULT = new ListenAddress("127.0.0.1", 9090);
    public static final String PID_FILE_DEFAULT = "logs/turnpike.pid";

    /** APISIX's defaults: the control API on 127.0.0.1:9090, the default PID file. */
    public static final OperationsConfig DEFAULT = new OperationsConfig(true, CONTROL_DEFAULT, null);
    /** For configurations built in code (tests, embedders): no control API, default PID file. */
    public static final OperationsConfig NO_CONTROL = new OperationsConfig(false, CONTROL_DEFAULT, null);

    /** The PID file: {@code pidFile} or the default, resolved against {@code prefix}. */
    public Path pidFile(Path prefix) {
        Path p = pidFile != null ? pidFile : Path.of(PID_FILE_DEFAULT);
        return p.isAbsolute() ? p : prefix.resolve(p);
    }
}
