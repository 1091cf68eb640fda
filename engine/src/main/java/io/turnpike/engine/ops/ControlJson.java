package io.turnpike.engine.ops;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The control plane's ObjectMapper (control API replies, the reload report, the DNS control endpoints), made on first
 * use rather than when those classes load: an ObjectMapper loads ~240 of Jackson's classes, and they load during the
 * start, on the same core as the first requests (docs/startup.md, "Work taken off the start"). Thread-safe, as an
 * ObjectMapper is once configured.
 */
public final class ControlJson {
    private ControlJson() {
    }

    private static final class Holder {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** The shared mapper; the first call makes it. */
    public static ObjectMapper mapper() {
        return Holder.MAPPER;
    }
}
