package io.turnpike.config.standalone;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import java.util.List;

/**
 * The outcome of loading a standalone file: a config when the file is entirely valid, else null and the
 * problems (a standalone file is all or nothing).
 */
public record LoadResult(ConfigSet config, List<ConfigProblem> problems) {
    public LoadResult {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return config != null;
    }

    /** All problems, one per line. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        for (ConfigProblem p : problems) {
            sb.append(p.render()).append('\n');
        }
        return sb.toString();
    }
}
