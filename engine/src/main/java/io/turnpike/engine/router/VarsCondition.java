package io.turnpike.engine.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.turnpike.engine.codec.RequestHead;

/**
 * A compiled APISIX {@code vars} expression for plugins (traffic-split's {@code match}): the router's own compiled form
 * ({@link VarsExpr}, lua-resty-expr v1 semantics, evaluated on the request's bytes). Immutable, shared by all loops;
 * {@link #matches} runs on a loop with the exchange's {@link MatchScratch} (loaded by the route match of the same
 * request) and does not allocate unless the expression uses a regex operator.
 */
public final class VarsCondition {
    /** An empty expression: always true (lua-resty-expr's {@code new({})}). */
    public static final VarsCondition ALWAYS = new VarsCondition(null);

    private final VarsExpr expr;

    private VarsCondition(VarsExpr expr) {
        this.expr = expr;
    }

    /**
     * @throws IllegalArgumentException for an invalid expression (also for a missing one, as lua-resty-expr's
     *                                  {@code new(nil)}: {@code missing argument rule})
     */
    public static VarsCondition compile(JsonNode rules) {
        if (rules == null || rules.isNull()) {
            throw new IllegalArgumentException("missing argument rule");
        }
        VarsExpr e = VarsExpr.compile(rules);
        return e == null ? ALWAYS : new VarsCondition(e);
    }

    public boolean matches(ByteBuf buf, RequestHead head, MatchScratch scratch) {
        return expr == null || expr.eval(buf, head, scratch);
    }

    /** Whether evaluating may allocate (a {@code ~~} or {@code ~*} operator). */
    public boolean usesRegex() {
        return expr != null && expr.usesRegex();
    }
}
