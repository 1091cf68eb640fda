package io.turnpike.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

/**
 * (3) The route mix while the configuration changes under it: scripts/gatling.sh runs
 * {@code tools/gen_config.py churn}, which rewrites apisix.yaml every ~200 ms (write to a temp file, atomic rename):
 * each generation removes the previous generation's extra routes and upstream, adds new ones, and changes the node
 * weights of the upstreams the loaded routes use. Turnpike reloads the file on its 200 ms watcher tick, recompiles the
 * 10,000 routes and publishes a new snapshot while requests are in flight. Zero failed requests allowed; p99 under
 * {@code p99Ms}. The script checks from /status that the snapshot version actually advanced during the run.
 */
public class ConfigChurnSimulation extends Simulation {
    private final Knobs k = Knobs.load("ConfigChurnSimulation", 500, 60, 100);

    private final ScenarioBuilder mix = scenario("route mix under config churn")
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
        Common.reportClientSide(k, "ConfigChurnSimulation");
    }
}
