package io.turnpike.config.standalone;

import com.fasterxml.jackson.databind.JsonNode;
import io.turnpike.config.ConfigProblem;
import io.turnpike.config.codec.CompileResult;
import io.turnpike.config.codec.ConfigCompiler;
import io.turnpike.config.codec.ConfigEntry;
import io.turnpike.config.model.Resource;
import io.turnpike.config.yaml.JsonTree;
import io.turnpike.config.yaml.YamlDocument;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Loads APISIX's standalone configuration file ({@code conf/apisix.yaml}): top-level keys are resource names, each
 * a list of objects carrying their {@code id} ({@code username} for consumers). The YAML file must end with a line
 * {@code #END}, as in APISIX, so a half-written file is never loaded. A file whose name ends in {@code .json} is
 * APISIX's {@code apisix.json} form: same structure, no {@code #END}.
 *
 * <p>All or nothing: any problem refuses the whole file, and every problem carries the line it is about.
 *
 * <p>{@link io.turnpike.config.model.ConfigSet#version()} is a process-wide load generation (1, 2, 3, ...): it only
 * grows, so a source can tell a newer load from an older one; it says nothing about the file's content.
 *
 * <p>Thread-safe; blocking file I/O, so never call it on an event loop.
 */
public final class StandaloneFileLoader {

    public static final String END_MARKER = "#END";

    private static final AtomicLong GENERATION = new AtomicLong();
    private static final ConfigCompiler COMPILER = new ConfigCompiler();

    private StandaloneFileLoader() {
    }

    public static LoadResult load(Path file) {
        String label = file.toString();
        String text;
        try {
            text = decodeUtf8(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return refused(ConfigProblem.ofFile(label, 0, "file not found"));
        } catch (CharacterCodingException e) {
            return refused(ConfigProblem.ofFile(label, 0, "not valid UTF-8"));
        } catch (IOException e) {
            return refused(ConfigProblem.ofFile(label, 0, "cannot read: " + e));
        }
        boolean json = label.endsWith(".json");
        return parse(text, label, !json);
    }

    /** Loads {@code text} as if read from a file named {@code label}. */
    public static LoadResult parse(String text, String label, boolean requireEndMarker) {
        if (requireEndMarker) {
            ConfigProblem incomplete = checkEndMarker(text, label);
            if (incomplete != null) {
                return refused(incomplete);
            }
        }
        Node root;
        try {
            root = YamlDocument.compose(text, label);
        } catch (YamlDocument.SyntaxError e) {
            return refused(ConfigProblem.ofFile(label, e.line(), e.getMessage()));
        }
        List<ConfigProblem> problems = new ArrayList<>();
        List<ConfigEntry> entries = new ArrayList<>();
        if (root != null && !(root instanceof ScalarNode && isNull((ScalarNode) root))) {
            if (!(root instanceof MappingNode)) {
                return refused(ConfigProblem.ofFile(label, YamlDocument.line(root),
                        "the top level must be a mapping of resource name to list"));
            }
            collect((MappingNode) root, label, entries, problems);
        }
        CompileResult compiled = COMPILER.compile(GENERATION.incrementAndGet(), entries);
        problems.addAll(compiled.problems());
        if (!problems.isEmpty()) {
            problems.sort((a, b) -> Integer.compare(a.line(), b.line()));
            return new LoadResult(null, problems);
        }
        return new LoadResult(compiled.config(), List.of());
    }

    private static void collect(MappingNode root, String label, List<ConfigEntry> entries,
                                List<ConfigProblem> problems) {
        Set<String> seenKeys = new HashSet<>();
        for (NodeTuple t : root.getValue()) {
            Node keyNode = t.getKeyNode();
            int keyLine = YamlDocument.line(keyNode);
            if (!(keyNode instanceof ScalarNode)) {
                problems.add(ConfigProblem.ofFile(label, keyLine, "top-level keys must be resource names"));
                continue;
            }
            String key = ((ScalarNode) keyNode).getValue();
            Resource resource = Resource.of(key);
            if (resource == null) {
                problems.add(ConfigProblem.ofFile(label, keyLine, "unknown top-level key \"" + key
                        + "\": not an APISIX resource (routes, services, upstreams, ssls, consumers, plugin_configs,"
                        + " global_rules, consumer_groups, plugin_metadata, stream_routes, secrets, protos)"));
                continue;
            }
            if (!seenKeys.add(key)) {
                problems.add(ConfigProblem.ofFile(label, keyLine, "duplicate top-level key \"" + key + "\""));
                continue;
            }
            Node list = t.getValueNode();
            if (list instanceof ScalarNode && isNull((ScalarNode) list)) {
                continue;
            }
            if (!(list instanceof SequenceNode)) {
                problems.add(new ConfigProblem(key, null, -1, "", "must be a list of objects", label,
                        YamlDocument.line(list)));
                continue;
            }
            List<Node> items = ((SequenceNode) list).getValue();
            for (int i = 0; i < items.size(); i++) {
                Node item = items.get(i);
                int line = YamlDocument.line(item);
                JsonTree tree = JsonTree.of(item);
                if (tree.error() != null) {
                    problems.add(new ConfigProblem(key, null, i, "", tree.error(), label, tree.errorLine()));
                    continue;
                }
                JsonNode value = tree.value();
                String id = null;
                JsonNode idNode = value.isObject() ? value.get(resource.idField()) : null;
                if (idNode != null) {
                    if (idNode.isTextual() || idNode.isIntegralNumber()) {
                        id = idNode.asText();
                    } else {
                        problems.add(new ConfigProblem(key, null, i, resource.idField(), "property \""
                                + resource.idField() + "\" validation failed: wrong type: expected string, got "
                                + (idNode.isNull() ? "null" : idNode.getNodeType().name().toLowerCase()), label,
                                tree.lineOf(resource.idField())));
                        continue;
                    }
                }
                entries.add(new ConfigEntry(key, id, i, value, label, line, tree));
            }
        }
    }

    /** Null when the last non-blank line is {@code #END}, else the problem. */
    static ConfigProblem checkEndMarker(String text, String label) {
        int end = text.length();
        while (end > 0 && Character.isWhitespace(text.charAt(end - 1))) {
            end--;
        }
        int start = text.lastIndexOf('\n', end - 1) + 1;
        String last = text.substring(start, end).trim();
        if (END_MARKER.equals(last)) {
            return null;
        }
        int lines = 1;
        for (int i = 0; i < end; i++) {
            if (text.charAt(i) == '\n') {
                lines++;
            }
        }
        return ConfigProblem.ofFile(label, end == 0 ? 0 : lines, "file is incomplete: its last line must be \""
                + END_MARKER + "\" (APISIX standalone convention); not loaded");
    }

    private static boolean isNull(ScalarNode s) {
        return JsonTree.scalar(s).isNull();
    }

    private static String decodeUtf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    }

    private static LoadResult refused(ConfigProblem p) {
        return new LoadResult(null, List.of(p));
    }
}
