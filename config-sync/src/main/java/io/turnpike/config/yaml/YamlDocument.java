package io.turnpike.config.yaml;

import io.turnpike.config.codec.DecodeLimits;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ParserException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.parser.Parser;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;
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

    /**
     * The root node, or null for an empty document. Refused as a syntax error (with its line): nesting deeper than
     * {@link DecodeLimits#MAX_NESTING_DEPTH} (checked on the parser's events, before the recursive composer could
     * overflow the stack), more than {@link DecodeLimits#MAX_YAML_COLLECTION_ALIASES} aliases to collections, aliases
     * expanding the tree by more than {@link DecodeLimits#MAX_YAML_ALIAS_EXPANSION_NODES} nodes, a recursive alias,
     * more than {@link DecodeLimits#MAX_YAML_CODE_POINTS} code points, a line longer than
     * {@link DecodeLimits#MAX_YAML_LINE_CHARS}. Duplicate keys are let through here and refused
     * by {@link JsonTree} (and the standalone loader for top-level keys), which know the key's path.
     */
    public static Node compose(String text, String label) throws SyntaxError {
        LoadSettings settings = LoadSettings.builder().setLabel(label).setSchema(new CoreSchema())
                .setAllowDuplicateKeys(true).setAllowRecursiveKeys(false)
                .setMaxAliasesForCollections(DecodeLimits.MAX_YAML_COLLECTION_ALIASES)
                .setCodePointLimit(DecodeLimits.MAX_YAML_CODE_POINTS).build();
        int lineNo = 1;
        for (int i = 0, start = 0; i <= text.length(); i++) {
            if (i == text.length() || text.charAt(i) == '\n') {
                if (i - start > DecodeLimits.MAX_YAML_LINE_CHARS) {
                    throw new SyntaxError("line longer than " + DecodeLimits.MAX_YAML_LINE_CHARS + " characters",
                            lineNo);
                }
                lineNo++;
                start = i + 1;
            }
        }
        try {
            Parser parser = new DepthLimitedParser(new ParserImpl(settings, new StreamReader(settings, text)));
            Optional<Node> node = new Composer(settings, parser).getSingleNode();
            if (node.isPresent()) {
                checkAliasExpansion(node.get());
            }
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

    /** Fails when the parser's collections nest deeper than the limit. */
    private static final class DepthLimitedParser implements Parser {
        private final Parser in;
        private int depth;

        DepthLimitedParser(Parser in) {
            this.in = in;
        }

        @Override
        public boolean checkEvent(Event.ID id) {
            return in.checkEvent(id);
        }

        @Override
        public Event peekEvent() {
            return in.peekEvent();
        }

        @Override
        public boolean hasNext() {
            return in.hasNext();
        }

        @Override
        public Event next() {
            Event e = in.next();
            Event.ID id = e.getEventId();
            if (id == Event.ID.MappingStart || id == Event.ID.SequenceStart) {
                if (++depth > DecodeLimits.MAX_NESTING_DEPTH) {
                    throw new ParserException("nesting deeper than " + DecodeLimits.MAX_NESTING_DEPTH + " levels",
                            e.getStartMark());
                }
            } else if (id == Event.ID.MappingEnd || id == Event.ID.SequenceEnd) {
                depth--;
            }
            return e;
        }
    }

    /**
     * Counts the nodes the tree would have once every alias is expanded (linear: sizes are memoized per node) and
     * refuses a document whose aliases add more than the limit, or an alias to a collection that contains it.
     */
    private static void checkAliasExpansion(Node root) {
        Map<Node, Long> sizes = new IdentityHashMap<>();
        long expanded = expandedSize(root, sizes, new IdentityHashMap<>());
        long added = expanded - sizes.size();
        if (added > DecodeLimits.MAX_YAML_ALIAS_EXPANSION_NODES) {
            throw new ParserException("aliases expand the document by " + added + " nodes (at most "
                    + DecodeLimits.MAX_YAML_ALIAS_EXPANSION_NODES + ")", root.getStartMark());
        }
    }

    private static long expandedSize(Node n, Map<Node, Long> sizes, Map<Node, Boolean> open) {
        Long known = sizes.get(n);
        if (known != null) {
            return known;
        }
        if (open.put(n, Boolean.TRUE) != null) {
            throw new ParserException("recursive alias", n.getStartMark());
        }
        long size = 1;
        if (n instanceof MappingNode) {
            for (NodeTuple t : ((MappingNode) n).getValue()) {
                size += expandedSize(t.getKeyNode(), sizes, open) + expandedSize(t.getValueNode(), sizes, open);
                size = Math.min(size, Integer.MAX_VALUE);
            }
        } else if (n instanceof SequenceNode) {
            for (Node c : ((SequenceNode) n).getValue()) {
                size += expandedSize(c, sizes, open);
                size = Math.min(size, Integer.MAX_VALUE);
            }
        }
        open.remove(n);
        sizes.put(n, size);
        return size;
    }

    /** 1-based line where {@code node} starts. */
    public static int line(Node node) {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }
}
