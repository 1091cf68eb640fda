package io.turnpike.config.process;

import io.turnpike.config.ConfigProblem;
import java.util.List;

/**
 * @param config   the configuration (defaults where a key is absent or wrong); do not start when {@code errors}
 *                 is not empty
 * @param errors   wrong types, bad values, unknown {@code turnpike:} keys
 * @param warnings APISIX keys Turnpike ignores, unknown keys elsewhere
 */
public record ProcessConfigResult(ProcessConfig config, List<ConfigProblem> errors, List<ConfigProblem> warnings) {
    public ProcessConfigResult {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    public boolean ok() {
        return errors.isEmpty();
    }
}
