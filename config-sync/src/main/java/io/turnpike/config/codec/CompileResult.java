package io.turnpike.config.codec;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import java.util.List;

/**
 * @param config   the good entries (never null; every reference in it resolves)
 * @param problems the entries left out and why, in source order
 */
public record CompileResult(ConfigSet config, List<ConfigProblem> problems) {
    public CompileResult {
        problems = List.copyOf(problems);
    }
}
