package io.turnpike.engine.loop;

/**
 * The data plane's limits and timeouts, resolved once from the process configuration ({@code turnpike:} keys of
 * config.yaml) into the units the loop uses. Immutable.
 */
public record EngineSettings(
        int maxRequestLineBytes,
        int maxHeaderBytes,
        int maxHeaders,
        long maxBodyBytes,
        long headerTimeoutNs,
        long keepaliveTimeoutNs,
        long upstreamConnectTimeoutMs,
        long upstreamReadTimeoutNs,
        long upstreamSendTimeoutNs,
        int upstreamPoolSize,
        long upstreamIdleTimeoutNs,
        int upstreamMaxRequests,
        long drainTimeoutMs,
        int pipelineBufferLimitBytes,
        int maxConnectionsPerLoop) {

    public EngineSettings(int maxRequestLineBytes, int maxHeaderBytes, int maxHeaders, long maxBodyBytes,
                          long headerTimeoutNs, long keepaliveTimeoutNs, long upstreamConnectTimeoutMs,
                          long upstreamReadTimeoutNs, int upstreamPoolSize, long upstreamIdleTimeoutNs,
                          int upstreamMaxRequests, long drainTimeoutMs, int pipelineBufferLimitBytes) {
        this(maxRequestLineBytes, maxHeaderBytes, maxHeaders, maxBodyBytes, headerTimeoutNs, keepaliveTimeoutNs,
                upstreamConnectTimeoutMs, upstreamReadTimeoutNs, upstreamReadTimeoutNs, upstreamPoolSize,
                upstreamIdleTimeoutNs, upstreamMaxRequests, drainTimeoutMs, pipelineBufferLimitBytes, 10620);
    }

    public static EngineSettings defaults() {
        return new EngineSettings(8192, 65536, 100, 100L << 20,
                10_000_000_000L, 60_000_000_000L, 6000, 60_000_000_000L, 60_000_000_000L, 320, 60_000_000_000L, 1000,
                30_000, 65536, 10620);
    }
}
