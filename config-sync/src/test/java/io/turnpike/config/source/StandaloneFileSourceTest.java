package io.turnpike.config.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.ConfigProblem;
import io.turnpike.config.model.ConfigSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandaloneFileSourceTest {

    @TempDir
    Path dir;

    static final class Recorder implements ConfigListener {
        final List<ConfigSet> configs = new ArrayList<>();
        final List<List<ConfigProblem>> rejections = new ArrayList<>();

        @Override
        public void onConfig(ConfigSet config) {
            configs.add(config);
        }

        @Override
        public void onRejected(List<ConfigProblem> problems) {
            rejections.add(problems);
        }
    }

    @Test
    void deliversOnStartAndOnReload() throws Exception {
        Path f = dir.resolve("apisix.yaml");
        Files.writeString(f, "routes:\n  - id: 1\n    uri: /a\n    plugins: {}\n#END\n");
        Recorder rec = new Recorder();
        StandaloneFileSource source = new StandaloneFileSource(f);
        source.start(rec);
        assertEquals(1, rec.configs.size());
        assertEquals(1, rec.configs.get(0).routes().size());

        Files.writeString(f, "routes:\n  - id: 1\n    uri: /a\n");   // half-written: no #END
        source.reload();
        assertEquals(1, rec.rejections.size());
        assertTrue(rec.rejections.get(0).get(0).message().startsWith("file is incomplete"));

        Files.writeString(f, "routes:\n  - id: 1\n    uri: /a\n    plugins: {}\n  - id: 2\n    uri: /b\n"
                + "    plugins: {}\n#END\n");
        source.reload();
        assertEquals(2, rec.configs.size());
        assertTrue(rec.configs.get(1).version() > rec.configs.get(0).version());
        source.close();
        assertNull(source.reload());
    }
}
