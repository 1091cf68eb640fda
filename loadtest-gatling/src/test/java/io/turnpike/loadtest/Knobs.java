package io.turnpike.loadtest;

import java.time.Duration;

/**
 * The parameters of a simulation, read from system properties (forwarded by the Gatling Maven plugin from
 * {@code mvn -D...}) with an environment-variable fallback ({@code TP_<NAME>}, upper case; scripts/gatling.sh sets
 * both, so a forked Gatling JVM sees them either way). Every simulation logs the values it ran with.
 *
 * <ul>
 *   <li>{@code baseUrl}: the gateway, e.g. {@code http://127.0.0.1:9080}</li>
 *   <li>{@code routes}: how many generated routes exist ({@code /r/0} .. {@code /r/<routes-1>}, see {@link RouteFeeder})</li>
 *   <li>{@code rate}: arrivals per second (each arrival is one virtual user sending one request)</li>
 *   <li>{@code durationS}: seconds at {@code rate} (after {@code rampS} seconds of linear ramp from rate/10)</li>
 *   <li>{@code p99Ms}: the p99 budget in milliseconds; the run fails at or above it</li>
 *   <li>{@code startedFile}: if set, a file written when the simulation starts injecting (scripts/gatling.sh waits
 *       for it to time a mid-run action, e.g. the backend kill)</li>
 *   <li>{@code resultFile}: if set, where the simulation writes {@code client_retries=N} and
 *       {@code client_connections=N} at the end (see {@link ClientRetryCounter})</li>
 * </ul>
 */
final class Knobs {
    final String baseUrl;
    final int routes;
    final double rate;
    final int durationS;
    final int rampS;
    final int p99Ms;
    final String startedFile;
    final String resultFile;

    private Knobs(double defaultRate, int defaultDurationS, int defaultP99Ms) {
        baseUrl = str("baseUrl", "http://127.0.0.1:9080");
        routes = integer("routes", 10_000);
        rate = Double.parseDouble(str("rate", Double.toString(defaultRate)));
        durationS = integer("durationS", defaultDurationS);
        rampS = integer("rampS", 2);
        p99Ms = integer("p99Ms", defaultP99Ms);
        startedFile = str("startedFile", "");
        resultFile = str("resultFile", "");
        if (routes < 4 || rate <= 0 || durationS < 1 || rampS < 0 || p99Ms < 1) {
            throw new IllegalArgumentException("bad knobs: " + this);
        }
    }

    static Knobs load(String simulation, double defaultRate, int defaultDurationS, int defaultP99Ms) {
        Knobs k = new Knobs(defaultRate, defaultDurationS, defaultP99Ms);
        System.out.println("[" + simulation + "] " + k);
        return k;
    }

    Duration duration() {
        return Duration.ofSeconds(durationS);
    }

    Duration ramp() {
        return Duration.ofSeconds(rampS);
    }

    static String str(String name, String dflt) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            v = System.getenv("TP_" + name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase());
        }
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    static int integer(String name, int dflt) {
        return Integer.parseInt(str(name, Integer.toString(dflt)));
    }

    @Override
    public String toString() {
        return "baseUrl=" + baseUrl + " routes=" + routes + " rate=" + rate + "/s durationS=" + durationS + " rampS="
                + rampS + " p99Ms=" + p99Ms + (startedFile.isEmpty() ? "" : " startedFile=" + startedFile);
    }
}
