package io.turnpike.config.yaml;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.DecodeLimits;
import io.turnpike.config.standalone.LoadResult;
import io.turnpike.config.standalone.StandaloneFileLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Coverage-guided fuzz targets (Jazzer) for the config decoders: the standalone YAML file (YAML parser with
 * {@link DecodeLimits}, {@link JsonTree}, validation and compile) and a JSON resource value as etcd or the Admin API
 * hand it over ({@link DecodeLimits#jsonReader()}, then route/service/upstream validation).
 *
 * <p>Properties: the only outcomes are a loaded config or a list of problems with a file and a line (YAML), and a
 * Jackson parse error or a list of field errors (JSON); nothing else throws (no StackOverflowError, no
 * NumberFormatException, no OutOfMemoryError); every input terminates. Regression inputs live in
 * {@code src/test/resources/io/turnpike/config/yaml/ConfigDecoderFuzzTestInputs/<target>/}; scripts/fuzz.sh fuzzes.
 */
public class ConfigDecoderFuzzTest {
    private static final ObjectMapper JSON = DecodeLimits.jsonReader();
    private static final ConfigCompiler COMPILER = new ConfigCompiler();

    @FuzzTest(maxDuration = "30s")
    void standaloneYaml(byte[] data) {
        bounded(() -> checkYaml(data));
    }

    @FuzzTest(maxDuration = "30s")
    void resourceJson(byte[] data) {
        bounded(() -> checkJson(data));
    }

    /** Entry points for Jazzer's standalone driver (scripts/fuzz.sh). */
    public static final class StandaloneYaml {
        public static void fuzzerTestOneInput(byte[] data) {
            checkYaml(data);
        }
    }

    public static final class ResourceJson {
        public static void fuzzerTestOneInput(byte[] data) {
            checkJson(data);
        }
    }

    static void bounded(Runnable r) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), r::run, "input did not terminate within 10 s");
    }

    static void checkYaml(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8) + "\n#END\n";
        LoadResult r = StandaloneFileLoader.parse(text, "apisix.yaml", true);
        assertTrue(r.ok() == (r.config() != null), "a result is either a config or problems");
        for (ConfigProblem p : r.problems()) {
            assertNotNull(p.message());
            assertTrue(p.line() >= 0, "negative line");
            assertTrue("apisix.yaml".equals(p.file()), "problem without its file: " + p);
        }
        assertNotNull(r.render());
    }

    static void checkJson(byte[] data) {
        JsonNode v;
        try {
            v = JSON.readTree(data);
        } catch (IOException e) {
            // the declared refusal: JsonProcessingException, or CharConversionException when Jackson's encoding
            // detection (UTF-16/32) meets invalid bytes; both callers (etcd, Admin API) answer "invalid JSON"
            return;
        }
        if (v == null) return;
        for (String resource : new String[] {"routes", "services", "upstreams"}) {
            assertNotNull(COMPILER.validate(resource, "1", v));
        }
    }
}
