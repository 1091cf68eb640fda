package io.turnpike.engine.health;

import io.turnpike.config.model.HealthChecks;
import java.util.List;

/**
 * Passive health reports of one node of one upstream ({@code checks.passive}), made by the event loops as responses
 * complete. Every method is safe on any thread and costs, in the steady state, two volatile reads (a healthy node
 * answering a healthy status, an unhealthy one failing) or one compare-and-set on the node's state word: no
 * allocation, no lock, no blocking. When a report moves the node across healthy/unhealthy, the checker's thread is
 * woken (one task queued, only on that transition) to tell the {@link HealthListener}.
 *
 * <p>Stable for a node while its upstream is watched: {@link HealthChecker#watch} with new thresholds swaps the rules
 * this object applies, not the object. Once the node or upstream is no longer watched, or the upstream's checks lose
 * their {@code passive} part, reports are ignored.
 */
public final class PassiveReporter implements io.turnpike.engine.endpoint.PassiveSink {
    private final HealthChecker.Entry entry;
    private volatile Rules rules;

    PassiveReporter(HealthChecker.Entry entry) {
        this.entry = entry;
    }

    void rules(Rules r) {
        rules = r;
    }

    Rules rules() {
        return rules;
    }

    /** The upstream's response status (a status in neither list counts for nothing, as in APISIX). */
    public void httpStatus(int status) {
        Rules r = rules;
        if (r == null || !r.countStatuses || status < 0 || status >= r.healthyStatus.length) {
            return;
        }
        if (r.healthyStatus[status]) {
            report(HealthState.SUCCESS, r.successes);
        } else if (r.unhealthyStatus[status]) {
            report(HealthState.HTTP, r.httpFailures);
        }
    }

    /** A connection to the node failed, or broke before the response head. */
    public void tcpFailure() {
        Rules r = rules;
        if (r != null) {
            report(HealthState.TCP, r.tcpFailures);
        }
    }

    /** The node did not answer in time (connect, send or read timeout). */
    public void timeout() {
        Rules r = rules;
        if (r != null) {
            report(HealthState.TIMEOUT, r.timeouts);
        }
    }

    private void report(int type, int limit) {
        if (entry.state.report(type, limit)) {
            entry.signal();
        }
    }

    /** The compiled {@code checks.passive}; immutable. */
    static final class Rules {
        final boolean countStatuses;
        final boolean[] healthyStatus = new boolean[600];
        final boolean[] unhealthyStatus = new boolean[600];
        final int successes;
        final int httpFailures;
        final int tcpFailures;
        final int timeouts;

        Rules(HealthChecks.Passive p) {
            countStatuses = !"tcp".equals(p.type());
            mark(healthyStatus, p.healthy().httpStatuses());
            mark(unhealthyStatus, p.unhealthy().httpStatuses());
            successes = p.healthy().successes();
            httpFailures = p.unhealthy().httpFailures();
            tcpFailures = p.unhealthy().tcpFailures();
            timeouts = p.unhealthy().timeouts();
        }

        static void mark(boolean[] set, List<Integer> statuses) {
            for (int s : statuses) {
                if (s >= 0 && s < set.length) {
                    set[s] = true;
                }
            }
        }
    }
}
