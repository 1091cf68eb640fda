package io.turnpike.config.codec;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * Every limit on configuration <em>input</em>, in one place: what a standalone file, an etcd value or an Admin API
 * body may contain before it is decoded at all. Whoever can write one of those is trusted as the control plane, but
 * a mistake or a hostile value must be refused with a clear message, not exhaust the heap or the stack of the
 * config-sync thread (see docs/security.md). Refusals name the file and line (YAML) or answer 400 (Admin API); an etcd
 * value is rejected and reported like any invalid value.
 *
 * <p>Duplicate keys are refused everywhere (APISIX's lua-cjson and lyaml silently keep the last one; refusing is the
 * fail-closed answer: the writer learns that one of the two values was going to be ignored).
 */
public final class DecodeLimits {
    /** Deepest nesting of objects/arrays (mappings/sequences), counting the document root as depth 1. */
    public static final int MAX_NESTING_DEPTH = 64;
    /** Longest number literal in JSON (digits, sign, exponent): longer ones are refused before being converted. */
    public static final int MAX_NUMBER_CHARS = 100;
    /** Longest string value, in chars (as large as the default Admin API body: a PEM chain fits easily). */
    public static final int MAX_STRING_CHARS = 16 * 1024 * 1024;
    /** Longest object key, in chars. */
    public static final int MAX_NAME_CHARS = 4096;
    /** YAML: at most this many aliases (*ref) to a mapping or sequence per document (snakeyaml-engine's own cap). */
    public static final int MAX_YAML_COLLECTION_ALIASES = 50;
    /**
     * YAML: the nodes that aliases add when the document is expanded into a tree ("billion laughs": 9 aliases to 9
     * aliases ... expand a few lines into millions of nodes) may not exceed this.
     */
    public static final int MAX_YAML_ALIAS_EXPANSION_NODES = 100_000;
    /**
     * YAML: longest line, in chars, checked before parsing (snakeyaml-engine scans a long scalar at well under 1 MB/s,
     * so one 16 MiB line would hold the config-sync thread for tens of seconds). PEM blocks are multi-line or a few
     * KiB of escaped text.
     */
    public static final int MAX_YAML_LINE_CHARS = 1024 * 1024;
    /** YAML: largest document, in code points (snakeyaml-engine's default is 3 Mi, too small for 50,000 routes). */
    public static final int MAX_YAML_CODE_POINTS = 256 * 1024 * 1024;

    private DecodeLimits() {
    }

    /** Jackson's read limits, as above (the document length is bounded by the transport or the file size). */
    public static StreamReadConstraints streamReadConstraints() {
        return StreamReadConstraints.builder()
                .maxNestingDepth(MAX_NESTING_DEPTH)
                .maxNumberLength(MAX_NUMBER_CHARS)
                .maxStringLength(MAX_STRING_CHARS)
                .maxNameLength(MAX_NAME_CHARS)
                .build();
    }

    /**
     * The JSON reader for configuration values (etcd values, Admin API bodies): the limits above, duplicate keys
     * refused, nothing after the value, no NaN/Infinity literals (Jackson's default). Trees are built with
     * {@link CompactNodeFactory} (the etcd agent keeps every value's tree). Thread-safe once built.
     */
    public static ObjectMapper jsonReader() {
        ObjectMapper m = JsonMapper.builder()
                .nodeFactory(CompactNodeFactory.INSTANCE)
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
        m.getFactory().setStreamReadConstraints(streamReadConstraints());
        return m;
    }
}
