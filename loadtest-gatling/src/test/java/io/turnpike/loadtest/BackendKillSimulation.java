package io.turnpike.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

/**
 * (4) GETs over the route mix while every upstream has two backend nodes (A and B, roundrobin, {@code retries} 1) and
 * scripts/gatling.sh kills node A by PID {@code killAfterS} seconds after this simulation starts injecting (it waits
 * for {@code startedFile}). After the kill, connecting to A is refused and Turnpike retries the connect on B.
 * Every GET must succeed (they are idempotent, and a refused connect sent nothing); p99 under {@code p99Ms}.
 * See docs/loadtest-gatling.md for what a SIGKILL vs a graceful SIGQUIT of A does to requests already in flight.
 */
public class BackendKillSimulation extends Simulation {
    private final Knobs k = Knobs.load("BackendKillSimulation", 500, 60, 50);

    private final ScenarioBuilder gets = scenario("GET while a backend node dies")
            .feed(new RouteFeeder(k.routes))
            .exec(Common.routedGet(null));

    {
        setUp(gets.injectOpen(Common.arrivals(k, k.rate)))
                .protocols(Common.protocol(k).shareConnections())
                .assertions(
                        global().failedRequests().count().is(0L),
                        global().responseTime().percentile(99.0).lt(k.p99Ms));
    }

    @Override
    public void before() {
        Common.markStarted(k);
    }

    @Override
    public void after() {
        Common.reportClientSide(k, "BackendKillSimulation");
    }
}
