package io.turnpike.engine.trace;

/**
 * The opentelemetry plugin's sampler, compiled from {@code sampler} (immutable, shared by all loops), deciding as
 * OpenTelemetry's SDK samplers do:
 * <ul>
 *   <li>{@code always_on} / {@code always_off};</li>
 *   <li>{@code trace_id_ratio} ({@code fraction}): from the trace id's lower 64 bits, deterministically (every
 *       service using the same ratio keeps the same traces): sampled when {@code |lo| < fraction * Long.MAX_VALUE}
 *       (OpenTelemetry Java's {@code TraceIdRatioBasedSampler});</li>
 *   <li>{@code parent_base} ({@code root}): a request with a valid {@code traceparent} follows its sampled flag; one
 *       without asks the root sampler (default always_off).</li>
 * </ul>
 */
public final class Sampler {
    public static final int ALWAYS_ON = 0;
    public static final int ALWAYS_OFF = 1;
    public static final int TRACE_ID_RATIO = 2;
    public static final int PARENT_BASE = 3;

    private final int kind;
    private final long idUpperBound;
    private final Sampler root;
    private final String description;

    private Sampler(int kind, double fraction, Sampler root, String description) {
        this.kind = kind;
        this.idUpperBound = fraction <= 0 ? Long.MIN_VALUE : fraction >= 1 ? Long.MAX_VALUE
                : (long) (fraction * Long.MAX_VALUE);
        this.root = root;
        this.description = description;
    }

    public static Sampler alwaysOn() {
        return new Sampler(ALWAYS_ON, 1, null, "always_on");
    }

    public static Sampler alwaysOff() {
        return new Sampler(ALWAYS_OFF, 0, null, "always_off");
    }

    public static Sampler traceIdRatio(double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new IllegalArgumentException("sampler.options.fraction: expected 0..1, got " + fraction);
        }
        return new Sampler(TRACE_ID_RATIO, fraction, null, "trace_id_ratio(" + fraction + ")");
    }

    public static Sampler parentBase(Sampler root) {
        if (root.kind == PARENT_BASE) {
            throw new IllegalArgumentException("sampler.options.root: parent_base cannot be its own root");
        }
        return new Sampler(PARENT_BASE, 0, root, "parent_base(" + root + ")");
    }

    /**
     * Whether the server span of a request is sampled; {@code hasParent}/{@code parentSampled} describe a valid
     * incoming {@code traceparent}.
     */
    public boolean sample(long traceLo, boolean hasParent, boolean parentSampled) {
        switch (kind) {
            case ALWAYS_ON:
                return true;
            case ALWAYS_OFF:
                return false;
            case TRACE_ID_RATIO:
                return Math.abs(traceLo) < idUpperBound;
            default:
                return hasParent ? parentSampled : root.sample(traceLo, false, false);
        }
    }

    public int kind() {
        return kind;
    }

    @Override
    public String toString() {
        return description;
    }
}
