package io.turnpike.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;

/**
 * (2) The same route mix at the same arrival rate, twice in one run, one after the other so they do not share the CPU:
 * <ol>
 *   <li>{@code keep-alive}: Gatling's shared connection pool ({@code shareConnections()}): requests reuse open
 *       connections, as a real client fleet with keep-alive does;</li>
 *   <li>{@code new-connection}: a connection per virtual user (the default) and {@code Connection: close}, one request
 *       per user: every request pays a TCP handshake and a close on the gateway.</li>
 * </ol>
 * Each has its own line in the report (request names {@code keep-alive} and {@code new-connection}) and its own p99
 * budget ({@code p99Ms} and {@code p99MsNewConn}); zero failed requests in both.
 */
public class KeepAliveVsNewConnectionsSimulation extends Simulation {
    private final Knobs k = Knobs.load("KeepAliveVsNewConnectionsSimulation", 500, 30, 50);
    private final int p99MsNewConn = Knobs.integer("p99MsNewConn", k.p99Ms);

    private final ScenarioBuilder keepAlive = scenario("keep-alive")
            .feed(new RouteFeeder(k.routes))
            .exec(Common.routedGet("keep-alive"));

    private final ScenarioBuilder newConnection = scenario("new-connection")
            .feed(new RouteFeeder(k.routes))
            .exec(Common.routedGet("new-connection").header("Connection", "close"));

    {
        System.out.println("[KeepAliveVsNewConnectionsSimulation] p99MsNewConn=" + p99MsNewConn);
        setUp(
                keepAlive.injectOpen(Common.arrivals(k, k.rate))
                        .protocols(Common.protocol(k).shareConnections())
                        .andThen(newConnection.injectOpen(Common.arrivals(k, k.rate))
                                .protocols(Common.protocol(k))))
                .assertions(
                        global().failedRequests().count().is(0L),
                        details("keep-alive").responseTime().percentile(99.0).lt(k.p99Ms),
                        details("new-connection").responseTime().percentile(99.0).lt(p99MsNewConn));
    }

    @Override
    public void before() {
        Common.markStarted(k);
    }

    @Override
    public void after() {
        Common.reportClientSide(k, "KeepAliveVsNewConnectionsSimulation");
    }
}
