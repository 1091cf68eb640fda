package io.turnpike.engine.testing;

import io.turnpike.config.model.ConfigSet;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;

/** Builds ConfigSets from standalone YAML text through the real loader, so tests use the real validation. */
public final class Configs {
    private Configs() {
    }

    public static ConfigSet fromYaml(String yaml) {
        LoadResult r = StandaloneFileLoader.parse(yaml + "\n#END\n", "test.yaml", true);
        if (!r.ok()) {
            throw new IllegalArgumentException(r.render());
        }
        return r.config();
    }
}
