package io.turnpike.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.turnpike.engine.codec.BodyFramer;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.ResponseHead;
import io.turnpike.engine.codec.ResponseHeadParser;
import io.turnpike.engine.loop.EngineSettings;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Decoding one upstream response as it sits in a pooled direct buffer: {@link ResponseHeadParser} plus
 * {@link BodyFramer} (what {@code UpstreamConnection} runs), against Netty's {@link HttpResponseDecoder} on an
 * {@link EmbeddedChannel} over the same bytes.
 *
 * <p>{@code response}: {@code length} a JSON response with Content-Length and a 1 KiB body; {@code chunked} the same
 * head with Transfer-Encoding: chunked and three chunks (64 + 256 + 32 bytes, one with an extension).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS})
public class ResponseParseBenchmark {
    @Param({"length", "chunked"})
    public String response;

    private ByteBuf buf;
    private ResponseHead head;
    private ResponseHeadParser parser;
    private BodyFramer body;
    private EmbeddedChannel netty;

    @Setup(Level.Trial)
    public void setup() {
        String text = switch (response) {
            case "length" -> Messages.responseHead(1024) + Messages.jsonBody(1024);
            case "chunked" -> Messages.CHUNKED_RESPONSE;
            default -> throw new IllegalArgumentException(response);
        };
        buf = Bytes.pooledDirect(Bytes.ascii(text));
        EngineSettings s = EngineSettings.defaults();
        head = new ResponseHead(s.maxHeaders());
        parser = new ResponseHeadParser(s.maxHeaderBytes(), s.maxHeaders());
        body = new BodyFramer(0);
        netty = new EmbeddedChannel(new HttpResponseDecoder());

        int consumed = turnpike();
        if (consumed != buf.readableBytes() || !body.isComplete()) {
            throw new IllegalStateException("turnpike consumed " + consumed + " of " + buf.readableBytes()
                    + " bytes, error " + head.error + " / " + body.error());
        }
        if (nettyDecoder() < 2) {
            throw new IllegalStateException("netty decoded too few messages");
        }
        buf.readerIndex(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        netty.finishAndReleaseAll();
        buf.release();
    }

    /** Head parse, then body framing (the proxy relays the framed bytes as slices); returns the message length. */
    @Benchmark
    public int turnpike() {
        int n = parser.parse(buf, head);
        if (n <= 0) {
            return n;
        }
        body.start(BodyFramer.bodyModeForResponse(head, RequestHead.METHOD_GET), head.contentLength);
        int from = buf.readerIndex() + n;
        int b = body.isComplete() ? 0 : body.consume(buf, from, buf.writerIndex());
        parser.reset();
        return n + b;
    }

    /** Baseline: Netty's decoder; the buffer is retained and rewound so it is decoded again without a copy. */
    @Benchmark
    public int nettyDecoder() {
        buf.retain().readerIndex(0);
        netty.writeInbound(buf);
        return Bytes.drainInbound(netty);
    }
}
