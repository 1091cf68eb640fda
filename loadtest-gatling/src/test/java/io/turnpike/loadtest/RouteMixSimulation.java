package io.turnpike.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

/**
 * (1) A uniform mix over the 10,000 generated routes (exact, prefix, parameter, host-bound; see {@link RouteFeeder}) at
 * a fixed arrival rate over shared keep-alive connections. Zero failed requests; p99 under {@code p99Ms}.
 */
public class RouteMixSimulation extends Simulation {
    private final Knobs k = Knobs.load("RouteMixSimulation", 500, 60, 50);

    private final ScenarioBuilder mix = scenario("route mix")
            .feed(new RouteFeeder(k.routes))
            .exec(Common.routedGet(null));

    {
        setUp(mix.injectOpen(Common.arrivals(k, k.rate)))
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
        Common.reportClientSide(k, "RouteMixSimulation");
    }
}
