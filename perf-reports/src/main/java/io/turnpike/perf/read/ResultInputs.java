package io.turnpike.perf.read;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.perf.model.JmhRun;
import io.turnpike.perf.model.Report;
import io.turnpike.perf.model.SideBySideRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads input files into a {@link Report}: parses each file once and gives it to the reader that
 * accepts it. A new source (Gatling next) adds a reader here and a list in {@link Report}.
 */
public final class ResultInputs {

    private final ObjectMapper mapper = new ObjectMapper();
    private final BenchJsonReader benchReader = new BenchJsonReader();
    private final JmhJsonReader jmhReader = new JmhJsonReader();

    /** Reads every file; the first bad one stops the load with an error naming it. */
    public Report load(String title, List<Path> files) throws ReportInputException {
        List<SideBySideRun> sideBySide = new ArrayList<>();
        List<JmhRun> jmh = new ArrayList<>();
        for (Path file : files) {
            JsonNode root = parse(file);
            if (benchReader.accepts(root)) {
                sideBySide.add(benchReader.read(file, root));
            } else if (jmhReader.accepts(root)) {
                jmh.add(jmhReader.read(file, root));
            } else {
                throw new ReportInputException(file, null,
                        "unrecognized input: expected a " + benchReader.sourceName() + " JSON with \"format\": \""
                                + BenchJsonReader.FORMAT + "\" or a " + jmhReader.sourceName() + " array");
            }
        }
        return new Report(title, sideBySide, jmh);
    }

    /** Parses one file; errors name it. */
    public JsonNode parse(Path file) throws ReportInputException {
        try {
            JsonNode root = mapper.readTree(Files.readString(file));
            if (root == null || root.isMissingNode()) {
                throw new ReportInputException(file, null, "empty file");
            }
            return root;
        } catch (NoSuchFileException e) {
            throw new ReportInputException(file, null, "no such file", e);
        } catch (JsonProcessingException e) {
            throw new ReportInputException(file, null, "not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ReportInputException(file, null, "cannot read: " + e, e);
        }
    }
}
