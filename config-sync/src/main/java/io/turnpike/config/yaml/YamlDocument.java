package io.turnpike.config.yaml;

import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Parses YAML text into snakeyaml-engine's node tree (which keeps the position of every node), with YAML 1.2 core
 * schema scalars ({@code true}, {@code 1}, {@code 1.5}, {@code ~}).
 */
public final class YamlDocument {

    private YamlDocument() {
    }

    /** A YAML syntax error: its message and 1-based line (0 when unknown). */
    public static final class SyntaxError extends Exception {
        private static final long serialVersionUID = 1L;
        private final int line;

        SyntaxError(String message, int line) {
            super(message);
            this.line = line;
        }

        public int line() {
            return line;
        }
    }

    /** The root node, or null for an empty document. */
    public static Node compose(String text, String label) throws SyntaxError {
        LoadSettings settings = LoadSettings.builder().setLabel(label).setSchema(new CoreSchema())
                .setAllowDuplicateKeys(true).setMaxAliasesForCollections(50).build();
        try {
            Optional<Node> node = new Compose(settings).composeString(text);
            return node.orElse(null);
        } catch (MarkedYamlEngineException e) {
            Optional<Mark> mark = e.getProblemMark();
            int line = mark.map(m -> m.getLine() + 1).orElse(0);
            String msg = e.getProblem() != null ? e.getProblem() : e.getMessage();
            if (e.getContext() != null) {
                msg = e.getContext() + ": " + msg;
            }
            throw new SyntaxError("YAML syntax error: " + msg, line);
        } catch (YamlEngineException e) {
            throw new SyntaxError("YAML syntax error: " + e.getMessage(), 0);
        }
    }

    /** 1-based line where {@code node} starts. */
    public static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }
}
