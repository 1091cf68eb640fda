package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.observe.ExchangeRecord;
import io.turnpike.engine.plugin.Bytes;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.plugin.ValueTemplate;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * APISIX {@code api-breaker} (apisix/plugins/api-breaker.lua), a circuit breaker per route.
 *
 * <p>Log phase: an upstream status in {@code unhealthy.http_statuses} adds one to the unhealthy count and clears the
 * healthy count; each time the unhealthy count reaches a multiple of {@code unhealthy.failures} the breaker opens
 * (its time is recorded). A status in {@code healthy.http_statuses}, while there is an unhealthy count, adds one to the
 * healthy count; {@code healthy.successes} of them in a row clear everything. Other statuses change nothing.
 *
 * <p>Access phase: while open, the request is answered locally with {@code break_response_code} (and, when
 * {@code break_response_body} is set, that body and {@code break_response_headers}, as APISIX sends the headers only
 * with a body). The breaker stays open {@code 2^n} seconds, {@code n = max(1, unhealthy / failures)}, at most
 * {@code max_breaker_sec}, compared in whole seconds as APISIX compares {@code ngx.time()}: open while
 * {@code opened + breakTime >= now}.
 *
 * <p>The state is process-wide, as APISIX's shared dict is shared by all workers: one {@link State} per plugin
 * instance, and the chain compiler gives every route its own instance (APISIX keys its counters by host and URI; see
 * docs/plugins.md). Lock-free atomics, no allocation per request. Methods run on event loops.
 */
public final class ApiBreakerPlugin extends PluginSpec {
    static final String NAME = "api-breaker";
    static final int PRIORITY = 1005;

    private final LocalReply reply;
    /** Header lines with variables, rendered per request into the response edits of the local reply. */
    private final byte[][] templLower;
    private final byte[][] templName;
    private final ValueTemplate[] templates;
    private final long maxBreakerSec;
    private final int[] unhealthyStatuses;
    private final long failures;
    private final int[] healthyStatuses;
    private final long successes;
    final State state = new State();

    /** The breaker's counters, shared by every loop. */
    static final class State {
        /** Unhealthy statuses counted; 0: none (APISIX: the key is absent). */
        final AtomicLong unhealthy = new AtomicLong();
        /** Healthy statuses in a row since the last unhealthy one, while {@link #unhealthy} is set. */
        final AtomicLong healthy = new AtomicLong();
        /** Epoch second the breaker last opened; 0: never (or cleared). */
        volatile long openedAt;
    }

    ApiBreakerPlugin(LocalReply reply, byte[][] templLower, byte[][] templName, ValueTemplate[] templates,
                     long maxBreakerSec, int[] unhealthyStatuses, long failures, int[] healthyStatuses,
                     long successes) {
        super(NAME, PRIORITY);
        this.reply = reply;
        this.templLower = templLower;
        this.templName = templName;
        this.templates = templates;
        this.maxBreakerSec = maxBreakerSec;
        this.unhealthyStatuses = unhealthyStatuses;
        this.failures = failures;
        this.healthyStatuses = healthyStatuses;
        this.successes = successes;
    }

    @Override
    public int phases() {
        return PHASE_ACCESS | PHASE_LOG;
    }

    @Override
    public int maxHeaderEdits() {
        return templates.length;
    }

    /** Seconds since the epoch (APISIX: {@code ngx.time()}). */
    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** How long the breaker stays open after {@code unhealthy} counted statuses (APISIX's {@code breaker_time}). */
    long breakSeconds(long unhealthy) {
        long n = Math.max(1, unhealthy / failures);
        return n >= 62 ? maxBreakerSec : Math.min(1L << n, maxBreakerSec);
    }

    @Override
    public int access(PluginContext x) {
        State s = state;
        long unhealthy = s.unhealthy.get();
        if (unhealthy == 0) {
            return CONTINUE;
        }
        long opened = s.openedAt;
        if (opened == 0 || opened + breakSeconds(unhealthy) < now()) {
            return CONTINUE;
        }
        for (int i = 0; i < templates.length; i++) {
            long r = templates[i].render(x);
            if (r >= 0) {
                x.responseEdits.addRange(templLower[i], templName[i], x.scratchBytes(), (int) (r >>> 32), (int) r);
            }
        }
        return x.reply(reply);
    }

    @Override
    public void log(PluginContext x) {
        int status = upstreamStatus(x.record());
        if (status == 0) {
            return;
        }
        State s = state;
        if (contains(unhealthyStatuses, status)) {
            long count = s.unhealthy.incrementAndGet();
            s.healthy.set(0);
            if (count % failures == 0) {
                s.openedAt = now();
            }
            return;
        }
        if (!contains(healthyStatuses, status) || s.unhealthy.get() == 0) {
            return;
        }
        if (s.healthy.incrementAndGet() >= successes) {
            s.openedAt = 0;
            s.unhealthy.set(0);
            s.healthy.set(0);
        }
    }

    /**
     * nginx's {@code $upstream_status}: the upstream's status, or, when the gateway gave up on the upstream it tried
     * (connect failure, timeout), the status it answered (502, 504); 0 when no upstream was tried (a local reply).
     */
    static int upstreamStatus(ExchangeRecord r) {
        if (r.upstreamStatus > 0) {
            return r.upstreamStatus;
        }
        return r.upstreamStartNs != 0 && r.error != null ? r.status : 0;
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    public static final class Factory implements PluginFactory {
        private static final Set<String> FIELDS = Set.of("break_response_code", "break_response_body",
                "break_response_headers", "max_breaker_sec", "unhealthy", "healthy", "_meta", "_owner", "_route");

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return PRIORITY;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, FIELDS);
            int code = Conf.integer(c, "break_response_code", 0);
            if (code < 200 || code > 599) {
                throw new IllegalArgumentException("break_response_code must be 200..599");
            }
            String body = Conf.str(c, "break_response_body", null);
            LocalReply reply;
            byte[][] lower = new byte[0][];
            byte[][] names = new byte[0][];
            ValueTemplate[] templates = new ValueTemplate[0];
            if (body == null) {
                reply = LocalReply.empty(code); // APISIX: the code alone, headers only come with a body
            } else {
                StringBuilder fixed = new StringBuilder();
                List<byte[]> tl = new ArrayList<>();
                List<byte[]> tn = new ArrayList<>();
                List<ValueTemplate> tt = new ArrayList<>();
                boolean contentType = false;
                JsonNode hs = c.get("break_response_headers");
                if (hs != null) {
                    for (JsonNode h : hs) {
                        String key = h.path("key").asText();
                        String value = h.path("value").asText();
                        if (key.equalsIgnoreCase("content-type")) {
                            contentType = true;
                        }
                        ValueTemplate t = ValueTemplate.compile(NAME + ".break_response_headers", value);
                        if (t.constant != null) {
                            fixed.append(key).append(": ").append(value).append("\r\n");
                        } else {
                            tl.add(Bytes.lower(key));
                            tn.add(key.getBytes(StandardCharsets.US_ASCII));
                            tt.add(t);
                        }
                    }
                }
                reply = new LocalReply(code, contentType ? null : "text/plain; charset=utf-8", fixed.toString(),
                        body.getBytes(StandardCharsets.UTF_8));
                lower = tl.toArray(new byte[0][]);
                names = tn.toArray(new byte[0][]);
                templates = tt.toArray(new ValueTemplate[0]);
            }
            long max = c.has("max_breaker_sec") ? c.get("max_breaker_sec").asLong() : 300;
            if (max < 3) {
                throw new IllegalArgumentException("max_breaker_sec must be at least 3");
            }
            ObjectNode unhealthy = c.get("unhealthy") instanceof ObjectNode u ? u : null;
            ObjectNode healthy = c.get("healthy") instanceof ObjectNode h ? h : null;
            int[] bad = statuses(unhealthy, 500);
            long failures = unhealthy != null && unhealthy.has("failures") ? unhealthy.get("failures").asLong() : 3;
            int[] good = statuses(healthy, 200);
            long successes = healthy != null && healthy.has("successes") ? healthy.get("successes").asLong() : 3;
            if (failures < 1 || successes < 1) {
                throw new IllegalArgumentException("failures and successes must be at least 1");
            }
            return new ApiBreakerPlugin(reply, lower, names, templates, max, bad, failures, good, successes);
        }

        private static int[] statuses(ObjectNode o, int dflt) {
            JsonNode s = o == null ? null : o.get("http_statuses");
            if (s == null) {
                return new int[]{dflt};
            }
            int[] out = new int[s.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = s.get(i).asInt();
            }
            return out;
        }
    }
}
