package io.turnpike.loadtest;

import static io.gatling.javaapi.core.CoreDsl.*;
import static io.gatling.javaapi.http.HttpDsl.*;

import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** What every simulation shares: the HTTP protocol, the routed GET, the open-model injection, the start marker. */
final class Common {
    private Common() {
    }

    /**
     * No warm-up request (Gatling's default one goes to gatling.io), no caching, no resource inference. Connections are
     * per virtual user unless the caller adds {@code .shareConnections()}.
     */
    static HttpProtocolBuilder protocol(Knobs k) {
        return http.baseUrl(k.baseUrl)
                .disableWarmUp()
                .disableCaching()
                .acceptHeader("*/*")
                .userAgentHeader("turnpike-loadtest-gatling");
    }

    /** GET of a fed route, named after the kind (or {@code name} when given); anything but a 200 is a failure. */
    static HttpRequestActionBuilder routedGet(String name) {
        return http(name == null ? "#{kind}" : name)
                .get("#{path}")
                .header("Host", "#{host}")
                .check(status().is(200));
    }

    /** Linear ramp from rate/10 over rampS, then a constant arrival rate for durationS (open model). */
    static OpenInjectionStep[] arrivals(Knobs k, double rate) {
        if (k.rampS == 0) {
            return new OpenInjectionStep[] {constantUsersPerSec(rate).during(k.duration())};
        }
        return new OpenInjectionStep[] {
                rampUsersPerSec(Math.max(1, rate / 10)).to(rate).during(k.ramp()),
                constantUsersPerSec(rate).during(k.duration())};
    }

    /**
     * Prints (and writes to {@code resultFile}, if set) how many requests Gatling's client silently re-sent after the
     * gateway closed a keep-alive connection under them, and how many connections the client opened.
     */
    static void reportClientSide(Knobs k, String simulation) {
        long retries = ClientRetryCounter.RETRIES.get();
        long connections = ClientRetryCounter.CONNECTIONS.get();
        System.out.println("[" + simulation + "] client connections opened: " + connections
                + "; requests re-sent by Gatling's client after a pooled connection closed under them: " + retries
                + (retries == 0 ? "" : " (each one a request the gateway dropped; they are NOT in Gatling's KO count)"));
        if (k.resultFile.isEmpty()) {
            return;
        }
        try {
            Files.writeString(Path.of(k.resultFile),
                    "client_retries=" + retries + "\nclient_connections=" + connections + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the start marker scripts/gatling.sh waits for (if one was asked for). */
    static void markStarted(Knobs k) {
        if (k.startedFile.isEmpty()) {
            return;
        }
        try {
            Path p = Path.of(k.startedFile);
            Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
            Files.writeString(tmp, Instant.now() + "\n");
            Files.move(tmp, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
