package io.turnpike.perf.read;

import java.nio.file.Path;

/** An input file that cannot be read or does not have what its reader needs. The message names the file. */
public final class ReportInputException extends Exception {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String field;

    /**
     * @param file   the input file
     * @param field  dotted path of the offending field ({@code results.nginx.median.p99_ms}), or {@code null}
     * @param detail what is wrong
     */
    public ReportInputException(Path file, String field, String detail) {
        this(file, field, detail, null);
    }

    public ReportInputException(Path file, String field, String detail, Throwable cause) {
        super(file + ": " + (field == null ? detail : detail + " '" + field + "'"), cause);
        this.file = file;
        this.field = field;
    }

    public Path file() {
        return file;
    }

    /** Dotted path of the offending field, or {@code null} when the problem is not one field. */
    public String field() {
        return field;
    }
}
