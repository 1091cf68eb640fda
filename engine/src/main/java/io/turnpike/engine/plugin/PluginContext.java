package io.turnpike.engine.plugin;

import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;
import io.turnpike.engine.router.MatchScratch;
import io.turnpike.engine.upstream.BalancerInput;

/**
 * What a plugin sees of one exchange (the request head is readable in the rewrite and access phases only) and what it may change: a view over the parsed request (header and query lookups
 * on the received bytes, the client address), the consumer an auth plugin identified, request and response header
 * edits, the rewritten method/URI/host, the response status override, and the local reply. One per exchange, reused:
 * {@link #begin} resets it per request. Confined to its event loop; no method allocates.
 */
public final class PluginContext {
    /** The most scratch one exchange may use (a request URI is bounded by the request line limit anyway). */
    public static final int MAX_SCRATCH = 64 * 1024;

    /** The limit plugins' key flyweight and decision figures (reused per exchange: no allocation). */
    public final io.turnpike.engine.limit.LimitKey limitKey = new io.turnpike.engine.limit.LimitKey();
    public final io.turnpike.engine.limit.LimitResult limitResult = new io.turnpike.engine.limit.LimitResult();
    public final HeaderEdits requestEdits = new HeaderEdits();
    public final HeaderEdits responseEdits = new HeaderEdits();
    /** Scratch for values a plugin generates per request (a request id): {@link #scratch(int)}. */
    private byte[] scratch = new byte[64]; // grows (scratch(int)) when a chain generates more per request
    private int scratchUsed;

    private ByteBuf src;
    private RequestHead head;
    private MatchScratch match;
    private BalancerInput balancerInput;
    private boolean https;

    private Consumer consumer;
    private LocalReply reply;
    private byte[] uri;
    private int uriOffset;
    private int uriLength;
    private byte[] method;
    private byte[] host;
    private int statusOverride;
    private byte[] responseBody;
    private ConsumerIndex consumers = ConsumerIndex.EMPTY;
    private byte[] requestId;
    private int requestIdOffset;
    private int requestIdLength;
    /** Span of the last {@link #queryArg} found: {@code [argStart, argEnd)} of the value in {@link #source()}. */
    public int argStart;
    public int argEnd;
    /** Span of the last {@link #queryArg} found, the whole {@code name=value} pair with its separator. */
    public int argPairStart;
    public int argPairEnd;

    /** What resumes a paused exchange (the exchange itself). */
    public interface Resumer {
        void resumePlugins(int result);
    }

    private Resumer resumer;
    /** Bumped whenever the exchange starts or ends: a late {@link #resume} with an old token is ignored. */
    private int token;
    private int pausedPhase;
    private int pausedIndex;
    private long pauseDeadlineNs;
    private LocalReply pauseTimeoutReply;
    private io.netty.channel.EventLoop eventLoop;
    private io.netty.bootstrap.Bootstrap bootstrap;
    private byte[] clientIp = new byte[0];
    private io.turnpike.engine.observe.ExchangeRecord record;
    /** The opentelemetry plugin's span block for its log phase: {@code spanBytes[spanAt...]}; -1 when none. */
    private byte[] spanBytes;
    private int spanAt = -1;

    /**
     * Runs when the exchange ends, whatever the outcome (response relayed, local reply, client gone), after the log
     * phase: limit-conn gives its slot back here. Implemented by shared, thread-safe objects (the hook is registered
     * per exchange without allocating).
     */
    public interface EndHook {
        /** {@code x}'s record is complete; its request head is gone. */
        void exchangeEnded(PluginContext x);
    }

    /** The most end hooks one exchange registers (one per limit-conn plugin in its chains). */
    public static final int MAX_END_HOOKS = 8;
    private final EndHook[] endHooks = new EndHook[MAX_END_HOOKS];
    private int endHookCount;

    /** Registers {@code hook} to run when this exchange ends; false (nothing registered) when the table is full. */
    public boolean onEnd(EndHook hook) {
        if (endHookCount == MAX_END_HOOKS) {
            return false;
        }
        endHooks[endHookCount++] = hook;
        return true;
    }

    private void runEndHooks() {
        int n = endHookCount;
        endHookCount = 0;
        for (int i = 0; i < n; i++) {
            EndHook h = endHooks[i];
            endHooks[i] = null;
            h.exchangeEnded(this);
        }
    }

    /**
     * Runs {@link #resume}{@code (token, RETRY)} on the exchange's loop from any thread: what a limiter waiting for a
     * remote lease runs when asking again can succeed. One reusable task per exchange, bound to the pause it was
     * taken for (a late run after the exchange moved on is ignored by its token).
     */
    public Runnable wakeTask() {
        wake.token = token;
        return wake;
    }

    /** Runs {@link #resume}{@code (token, CONTINUE)} on the loop: schedule it to delay the exchange (limit-req). */
    public Runnable delayTask() {
        delay.token = token;
        return delay;
    }

    private final Wake wake = new Wake(PluginSpec.RETRY);
    private final Wake delay = new Wake(PluginSpec.CONTINUE);

    private final class Wake implements Runnable {
        private final int result;
        volatile int token;

        Wake(int result) {
            this.result = result;
        }

        @Override
        public void run() {
            io.netty.channel.EventLoop l = eventLoop;
            if (l == null || l.inEventLoop()) {
                resume(token, result);
            } else {
                l.execute(this);
            }
        }
    }

    /** The exchange's record (times, statuses, bytes, route, node): complete in the log phase. */
    public io.turnpike.engine.observe.ExchangeRecord record() {
        return record;
    }

    public void record(io.turnpike.engine.observe.ExchangeRecord r) {
        this.record = r;
    }

    /** The client's address as ASCII (set once per connection). */
    public byte[] clientIp() {
        return clientIp;
    }

    public void clientIp(byte[] ascii) {
        this.clientIp = ascii;
    }

    /** Once per exchange object: who resumes it, its loop and the loop's bootstrap for sub-requests. */
    public void bind(Resumer resumer, io.netty.channel.EventLoop eventLoop, io.netty.bootstrap.Bootstrap bootstrap) {
        this.resumer = resumer;
        this.eventLoop = eventLoop;
        this.bootstrap = bootstrap;
    }

    public io.netty.channel.EventLoop eventLoop() {
        return eventLoop;
    }

    /** The loop's client bootstrap (clone it per connection; connections stay on this loop). */
    public io.netty.bootstrap.Bootstrap bootstrap() {
        return bootstrap;
    }

    /**
     * Pauses the exchange until {@link #resume} (the request's reads stay paused and its buffered bytes owned by the
     * connection); at {@code deadlineNs} the exchange answers {@code onTimeout} itself and a later resume is ignored.
     * Return its value from the phase.
     */
    public int pause(long deadlineNs, LocalReply onTimeout) {
        this.pauseDeadlineNs = deadlineNs;
        this.pauseTimeoutReply = onTimeout;
        return PluginSpec.PAUSE;
    }

    /** The token to pass to {@link #resume}: capture it when pausing. */
    public int token() {
        return token;
    }

    /** Continues a paused exchange, on its loop: {@link PluginSpec#CONTINUE}, or {@link PluginSpec#STOP} after {@link #reply}. */
    public void resume(int token, int result) {
        if (token == this.token && resumer != null) {
            resumer.resumePlugins(result);
        }
    }

    public long pauseDeadlineNs() {
        return pauseDeadlineNs;
    }

    public LocalReply pauseTimeoutReply() {
        return pauseTimeoutReply;
    }

    /** Invalidates the current token (the exchange gave up waiting, or ended). */
    public void expire() {
        token++;
    }

    void pausedAt(int phase, int index) {
        this.pausedPhase = phase;
        this.pausedIndex = index;
    }

    public int pausedPhase() {
        return pausedPhase;
    }

    public int pausedIndex() {
        return pausedIndex;
    }

    /** Starts a request: the head stays valid (in {@code src}) until the exchange ends. */
    public void begin(ByteBuf src, RequestHead head, MatchScratch match, BalancerInput balancerInput, boolean https,
                      ConsumerIndex consumers) {
        this.consumers = consumers;
        this.requestId = null;
        this.spanAt = -1;
        if (endHookCount != 0) {
            runEndHooks(); // defensive: an exchange that never ended must not keep a slot
        }
        token++;
        pauseDeadlineNs = 0;
        pauseTimeoutReply = null;
        this.src = src;
        this.head = head;
        this.match = match;
        this.balancerInput = balancerInput;
        this.https = https;
        consumer = null;
        reply = null;
        uri = null;
        uriLength = 0;
        method = null;
        host = null;
        statusOverride = 0;
        responseBody = null;
        scratchUsed = 0;
        requestEdits.clear();
        responseEdits.clear();
        upstream = null;
    }

    /**
     * The request phases are over: the request head may be released from here on (the connection consumes its
     * buffer), so {@link #source()} and {@link #head()} are cleared. What a later phase needs of the request is copied
     * into the scratch during the request phases.
     */
    public void requestPhasesDone() {
        src = null;
        head = null;
    }

    /** Drops references once the exchange ended; runs the end hooks. */
    public void end() {
        runEndHooks();
        token++;
        src = null;
        head = null;
        consumer = null;
    }

    public ByteBuf source() {
        return src;
    }

    public RequestHead head() {
        return head;
    }

    public MatchScratch match() {
        return match;
    }

    public boolean https() {
        return https;
    }

    // ---------------------------------------------------------------- request view

    /** Index of the first header named {@code lower}, or -1. */
    public int header(byte[] lower) {
        RequestHead h = head;
        for (int i = 0; i < h.headerCount; i++) {
            if (Bytes.equalsLower(src, h.nameStart[i], h.nameEnd[i], lower)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Finds the first query argument named {@code name} (exact bytes, not decoded) and sets {@link #argStart} /
     * {@link #argEnd} to its value; false when absent.
     */
    public boolean queryArg(byte[] name) {
        RequestHead h = head;
        int i = h.pathEnd;
        int end = h.targetEnd;
        if (i >= end || src.getByte(i) != '?') {
            return false;
        }
        i++;
        while (i < end) {
            int pairStart = i;
            int eq = -1;
            while (i < end && src.getByte(i) != '&') {
                if (eq < 0 && src.getByte(i) == '=') {
                    eq = i;
                }
                i++;
            }
            int nameEnd = eq < 0 ? i : eq;
            if (Bytes.equals(src, pairStart, nameEnd, name)) {
                argStart = eq < 0 ? i : eq + 1;
                argEnd = i;
                argPairStart = pairStart;
                argPairEnd = i;
                return true;
            }
            i++; // past '&'
        }
        return false;
    }

    // ---------------------------------------------------------------- results of the phases

    /** The snapshot's consumers (credential lookups of the auth plugins). */
    public ConsumerIndex consumers() {
        return consumers;
    }

    /** The exchange's request id (request-id plugin), or null: {@code [offset, offset + length)}. */
    public byte[] requestId() {
        return requestId;
    }

    public int requestIdOffset() {
        return requestIdOffset;
    }

    public int requestIdLength() {
        return requestIdLength;
    }

    public void requestId(byte[] bytes, int offset, int length) {
        this.requestId = bytes;
        this.requestIdOffset = offset;
        this.requestIdLength = length;
    }

    /**
     * The opentelemetry plugin recorded its span's request-side facts at {@code bytes[at...]} (the exchange's scratch,
     * whose array may be replaced by a later, larger reservation: hence the array is kept too).
     */
    public void span(byte[] bytes, int at) {
        this.spanBytes = bytes;
        this.spanAt = at;
    }

    /** The span block's array, valid while {@link #spanAt()} is not -1. */
    public byte[] spanBytes() {
        return spanBytes;
    }

    /** The span block's offset, or -1 when this exchange has no sampled span. */
    public int spanAt() {
        return spanAt;
    }

    /** Copies {@code src[start, end)} into the scratch; the offset in {@link #scratchBytes()}, or -1. */
    public int copyToScratch(int start, int end) {
        int at = scratch(end - start);
        if (at >= 0) {
            src.getBytes(start, scratch, at, end - start);
        }
        return at;
    }

    public Consumer consumer() {
        return consumer;
    }

    /** An auth plugin identified the consumer: later plugins and {@code hash_on: consumer} see it. */
    public void consumer(Consumer c) {
        this.consumer = c;
        balancerInput.consumer(c.nameBytes);
    }

    public LocalReply reply() {
        return reply;
    }

    /** Answers the request locally; the phase returns {@link PluginSpec#STOP} after this. */
    public int reply(LocalReply r) {
        this.reply = r;
        return PluginSpec.STOP;
    }

    /** The request target (path and query) sent upstream instead of the received one; null: unchanged. */
    public byte[] uri() {
        return uri;
    }

    public int uriLength() {
        return uriLength;
    }

    public int uriOffset() {
        return uriOffset;
    }

    public void uri(byte[] bytes, int offset, int length) {
        this.uri = bytes;
        this.uriOffset = offset;
        this.uriLength = length;
    }

    public byte[] method() {
        return method;
    }

    public void method(byte[] m) {
        this.method = m;
    }

    /** The Host header value sent upstream instead of the received one (overrides pass_host); null: unchanged. */
    public byte[] host() {
        return host;
    }

    public void host(byte[] h) {
        this.host = h;
    }

    /** The status sent to the client instead of the upstream's; 0: unchanged. */
    public int statusOverride() {
        return statusOverride;
    }

    public void statusOverride(int status) {
        this.statusOverride = status;
    }

    /** The body sent to the client instead of the upstream's (whose bytes are then discarded); null: unchanged. */
    public byte[] responseBody() {
        return responseBody;
    }

    public void responseBody(byte[] body) {
        this.responseBody = body;
    }

    /**
     * Reserves {@code n} bytes of the exchange's scratch (values generated per request, valid until the exchange
     * ends); returns the offset into {@link #scratchBytes()} (call it after this), or -1 beyond {@link #MAX_SCRATCH}.
     */
    public int scratch(int n) {
        if (scratchUsed + n > scratch.length) {
            // Grows to the largest value this connection needed (not the steady state). Earlier edits keep pointing
            // at the old array, which is never written again.
            if (n > MAX_SCRATCH) {
                return -1;
            }
            scratch = new byte[Math.min(MAX_SCRATCH, Math.max(scratch.length * 2, n))];
            scratchUsed = 0;
        }
        int at = scratchUsed;
        scratchUsed += n;
        return at;
    }

    public byte[] scratchBytes() {
        return scratch;
    }

    // ---------------------------------------------------------------- upstream override (traffic-split)

    /** The upstream a plugin chose for this exchange instead of the route's; null: the route's. */
    private io.turnpike.engine.upstream.UpstreamTarget upstream;
    /** The exchange's loop ({@code LoopContext.id}): an index for per-loop state kept in a shared spec. */
    private int loopId;

    /**
     * Sends this exchange to {@code target} instead of the route's upstream (traffic-split). The target must come from
     * the exchange's pinned snapshot (a plugin spec's, compiled with it). Reset per exchange by {@link #begin}.
     */
    public void upstream(io.turnpike.engine.upstream.UpstreamTarget target) {
        this.upstream = target;
    }

    /** The upstream a plugin chose, or null for the route's own. */
    public io.turnpike.engine.upstream.UpstreamTarget upstream() {
        return upstream;
    }

    /** Set once per exchange object, from its loop. */
    public void loopId(int id) {
        this.loopId = id;
    }

    public int loopId() {
        return loopId;
    }
}
