package io.turnpike.perf.model;

/**
 * One target's fixed-rate runs ({@code scripts/bench.sh --rate R}): latency corrected for coordinated omission, summed
 * up over the rounds the generator kept on time. A round is LAGGED when the generator itself sent requests more than
 * 1 ms late at p99 (its load core could not hold the rate): its corrected percentiles measure the generator as much as
 * the target, so the stats leave such rounds out; when every round lagged, they cover all of them and
 * {@link #allLagged()} says so.
 *
 * @param rate         the offered rate, req/s
 * @param rounds       fixed-rate rounds in the file
 * @param lagged       how many of them were LAGGED
 * @param p50Ms        corrected p50
 * @param p99Ms        corrected p99
 * @param p999Ms       corrected p99.9
 * @param cpuUsPerReq  CPU per request of the target at that rate (null when the file has none)
 * @param sendLagP99Ms the generator's own send lag at p99
 */
public record FixedRateResult(long rate, int rounds, int lagged, Stat p50Ms, Stat p99Ms, Stat p999Ms,
                              Stat cpuUsPerReq, Stat sendLagP99Ms) {

    /** Whether no round was on time: the stats then include the LAGGED rounds. */
    public boolean allLagged() {
        return lagged == rounds;
    }

    /** Rounds the stats summarize. */
    public int judgedRounds() {
        return allLagged() ? rounds : rounds - lagged;
    }
}
