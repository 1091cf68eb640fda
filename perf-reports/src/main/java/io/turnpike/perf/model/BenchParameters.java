package io.turnpike.perf.model;

/**
 * The knobs of a side-by-side run, as recorded by {@code scripts/bench.sh}.
 *
 * @param rounds      interleaved rounds
 * @param warmupS     warm-up seconds before each measured run
 * @param durationS   measured seconds per run
 * @param connections wrk connections
 * @param wrkThreads  wrk threads
 * @param bodyBytes   backend response body size
 * @param loadCores   CPU list wrk and the backend were pinned to
 * @param proxyCores  CPU list the proxy under test was pinned to
 * @param wrkCommand  the wrk command line, with {@code URL} standing for the target
 * @param jvmOpts     the JVM options Turnpike ran with
 * @param connectionClose {@code --close}: every request on a new client connection ({@code Connection: close}), so
 *                    the per-request figures are per connection
 */
public record BenchParameters(int rounds, int warmupS, int durationS, int connections, int wrkThreads, int bodyBytes,
                              String loadCores, String proxyCores, String wrkCommand, String jvmOpts,
                              boolean connectionClose) {
}
