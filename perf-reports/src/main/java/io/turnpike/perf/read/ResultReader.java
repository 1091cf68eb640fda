package io.turnpike.perf.read;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * Turns one kind of result file into model objects. One implementation per source (bench.sh JSON
 * today; JMH and Gatling next), registered in {@link ResultInputs}.
 *
 * @param <T> the model type this source produces
 */
public interface ResultReader<T> {

    /** A short name for messages ({@code "bench.sh side-by-side"}). */
    String sourceName();

    /** Whether this reader understands the parsed file (by its format marker or shape). */
    boolean accepts(JsonNode root);

    /** Reads the parsed file; errors name {@code file} and the offending field. */
    T read(Path file, JsonNode root) throws ReportInputException;
}
