package io.turnpike.engine.trace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** W3C traceparent parsing and writing on bytes, and the samplers' decisions. */
class TraceContextTest {
    private static boolean parse(String v, TraceContext.Parent p) {
        ByteBuf b = Unpooled.copiedBuffer("x" + v + "y", StandardCharsets.US_ASCII);
        try {
            return TraceContext.parse(b, 1, 1 + v.length(), p);
        } finally {
            b.release();
        }
    }

    @Test
    void parsesAndWritesBack() {
        TraceContext.Parent p = new TraceContext.Parent();
        String tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assertTrue(parse(tp, p));
        assertEquals(0x4bf92f3577b34da6L, p.traceHi);
        assertEquals(0xa3ce929d0e0e4736L, p.traceLo);
        assertEquals(0x00f067aa0ba902b7L, p.spanId);
        assertTrue(p.sampled);
        byte[] out = new byte[60];
        TraceContext.write(out, 2, p.traceHi, p.traceLo, p.spanId, true);
        assertEquals(tp, new String(out, 2, TraceContext.TRACEPARENT_LENGTH, StandardCharsets.US_ASCII));
        assertTrue(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", p));
        assertFalse(p.sampled, "only bit 0 is the sampled flag");
        byte[] id = new byte[16];
        TraceContext.traceIdBytes(id, 0x0102030405060708L, 0x090a0b0c0d0e0f10L);
        for (int i = 0; i < 16; i++) {
            assertEquals(i + 1, id[i]);
        }
    }

    @Test
    void refusesWhatTheSpecRefuses() {
        TraceContext.Parent p = new TraceContext.Parent();
        String t = "4bf92f3577b34da6a3ce929d0e0e4736";
        String s = "00f067aa0ba902b7";
        for (String bad : new String[]{"", "00-" + t + "-" + s, "00-" + t.toUpperCase() + "-" + s + "-01",
                "00-" + t + "-" + s + "-0g", "00-" + t + "-" + s + "-01-", "ff-" + t + "-" + s + "-01",
                "00-00000000000000000000000000000000-" + s + "-01", "00-" + t + "-0000000000000000-01",
                "00_" + t + "-" + s + "-01", "0x-" + t + "-" + s + "-01", "01-" + t + "-" + s + "-01x"}) {
            assertFalse(parse(bad, p), bad);
        }
        assertTrue(parse("cc-" + t + "-" + s + "-01-future", p), "a later version may append fields");
        assertTrue(parse("cc-" + t + "-" + s + "-01", p));
    }

    @Test
    void samplersDecideAsOpenTelemetry() {
        assertTrue(Sampler.alwaysOn().sample(0, false, false));
        assertFalse(Sampler.alwaysOff().sample(0, true, true));
        Sampler half = Sampler.traceIdRatio(0.5);
        assertTrue(half.sample(Long.MAX_VALUE / 2 - 1, false, false));
        assertFalse(half.sample(Long.MAX_VALUE / 2 + 2, false, false));
        assertFalse(half.sample(-(Long.MAX_VALUE / 2 + 2), true, true), "the parent's flag does not count");
        assertFalse(Sampler.traceIdRatio(0).sample(0, false, false));
        assertTrue(Sampler.traceIdRatio(1).sample(-1, false, false));
        Sampler pb = Sampler.parentBase(Sampler.alwaysOff());
        assertTrue(pb.sample(0, true, true));
        assertFalse(pb.sample(0, true, false));
        assertFalse(pb.sample(0, false, false));
        assertTrue(Sampler.parentBase(Sampler.alwaysOn()).sample(0, false, false));
    }
}
