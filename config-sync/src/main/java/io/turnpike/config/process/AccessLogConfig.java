package io.turnpike.config.process;

import java.nio.file.Path;

/**
 * The access log ({@code turnpike.access_log}, or APISIX's {@code nginx_config.http.enable_access_log},
 * {@code access_log}, {@code access_log_format}, {@code access_log_format_escape}).
 *
 * @param enabled        whether the gateway writes an access log
 * @param path           the file (a relative path resolves as APISIX's against its prefix: the folder above
 *                       config.yaml's when that folder is {@code conf}, else config.yaml's folder; see {@link #resolve})
 * @param format         the line format, checked
 * @param jsonEscape     APISIX's {@code access_log_format_escape: json} (else nginx's default escaping)
 * @param bufferEntries  log ring slots per event loop (entries waiting for the writer thread; more are dropped)
 * @param maxRequestBytes request head bytes kept per entry (request line and headers; longer heads are cut)
 */
public record AccessLogConfig(boolean enabled, Path path, AccessLogFormat format, boolean jsonEscape,
                              int bufferEntries, int maxRequestBytes) {
    public static final String PATH_DEFAULT = "logs/access.log";
    public static final int BUFFER_ENTRIES_DEFAULT = 4096;
    public static final int MAX_REQUEST_BYTES_DEFAULT = 1024;

    /**
     * {@code file} relative to APISIX's prefix: {@code conf/config.yaml} → {@code <prefix>/logs/access.log}, as APISIX
     * writes {@code logs/access.log}; a config.yaml in a folder not named {@code conf} → beside it.
     */
    public static Path resolve(Path configFile, String file) {
        Path p = Path.of(file);
        if (p.isAbsolute() || configFile == null || configFile.toAbsolutePath().getParent() == null) {
            return p;
        }
        Path base = configFile.toAbsolutePath().getParent();
        if (base.getFileName() != null && base.getFileName().toString().equals("conf") && base.getParent() != null) {
            base = base.getParent();
        }
        return base.resolve(p);
    }

    /** Off, with the defaults for everything else (the rings that logger plugins use take their sizes from here). */
    public static AccessLogConfig off(Path configFile) {
        return new AccessLogConfig(false, resolve(configFile, PATH_DEFAULT),
                AccessLogFormat.parse(AccessLogFormat.DEFAULT), false, BUFFER_ENTRIES_DEFAULT,
                MAX_REQUEST_BYTES_DEFAULT);
    }
}
