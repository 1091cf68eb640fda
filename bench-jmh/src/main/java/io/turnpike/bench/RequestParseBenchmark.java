package io.turnpike.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.turnpike.engine.codec.BodyFramer;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.codec.RequestHeadParser;
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
 * Decoding one request as it sits in a pooled direct buffer: Turnpike's {@link RequestHeadParser} (spans into the
 * buffer) plus {@link BodyFramer} over the body, against Netty's {@link HttpRequestDecoder} on an
 * {@link EmbeddedChannel} over the same bytes (objects, Strings and {@code HttpHeaders}, all released after each op).
 *
 * <p>{@code request}: {@code small} curl-like GET (93 B), {@code browser} Chrome-like GET with cookies (615 B),
 * {@code post} JSON POST with Content-Length and a 64-byte body (298 B).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {BenchJvm.ADD_EXPORTS, BenchJvm.EXPORTS_MISC, BenchJvm.NO_LEAK_DETECTION,
        BenchJvm.POOLED, BenchJvm.EXECUTOR, BenchJvm.EXECUTOR_CLASS})
public class RequestParseBenchmark {
    @Param({"small", "browser", "post"})
    public String request;

    private ByteBuf buf;
    private RequestHead head;
    private RequestHeadParser parser;
    private BodyFramer body;
    private EmbeddedChannel netty;

    @Setup(Level.Trial)
    public void setup() {
        String text = switch (request) {
            case "small" -> Messages.SMALL_GET;
            case "browser" -> Messages.BROWSER_GET;
            case "post" -> Messages.POST_HEAD_64 + Messages.BODY_64;
            default -> throw new IllegalArgumentException(request);
        };
        buf = Bytes.pooledDirect(Bytes.ascii(text));
        EngineSettings s = EngineSettings.defaults();
        head = new RequestHead(s.maxHeaders());
        parser = new RequestHeadParser(s.maxRequestLineBytes(), s.maxHeaderBytes(), s.maxHeaders(), true);
        body = new BodyFramer(s.maxBodyBytes());
        netty = new EmbeddedChannel(new HttpRequestDecoder());

        int consumed = turnpike();
        if (consumed != buf.readableBytes()) {
            throw new IllegalStateException("turnpike consumed " + consumed + " of " + buf.readableBytes()
                    + " bytes, error " + head.error);
        }
        // HttpRequest + LastHttpContent for every request (the body goes in the last content).
        if (nettyDecoder() != 2) {
            throw new IllegalStateException("netty decoded an unexpected number of messages");
        }
        buf.readerIndex(0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        netty.finishAndReleaseAll();
        buf.release();
    }

    /** Head parse, then body framing over the rest; returns the bytes that belong to the message. */
    @Benchmark
    public int turnpike() {
        int n = parser.parse(buf, head);
        if (n <= 0) {
            return n;
        }
        body.start(BodyFramer.bodyModeForRequest(head), head.contentLength);
        int from = buf.readerIndex() + n;
        int b = body.isComplete() ? 0 : body.consume(buf, from, buf.writerIndex());
        parser.reset(); // as the proxy does after each head
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
