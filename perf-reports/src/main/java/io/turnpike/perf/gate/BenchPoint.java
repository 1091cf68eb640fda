package io.turnpike.perf.gate;

/**
 * What the gate keeps of the side-by-side runs (scripts/bench.sh) of a run: medians over the run's bench
 * files. Any field may be {@code null} when that target did not run.
 *
 * @param cpuRatio       turnpike / nginx CPU µs per request, same run
 * @param p99Ratio       turnpike / nginx p99 latency, same run
 * @param turnpikeCpuUs  Turnpike CPU µs per request
 * @param turnpikeP99Ms  Turnpike p99 ms
 * @param turnpikeRps    Turnpike requests per second
 * @param nginxCpuUs     nginx CPU µs per request
 * @param nginxP99Ms     nginx p99 ms
 * @param turnpikeErrors non-2xx responses plus socket errors of Turnpike, summed
 * @param contended      whether other processes competed for the CPU during a measured round
 */
public record BenchPoint(Double cpuRatio, Double p99Ratio, Double turnpikeCpuUs, Double turnpikeP99Ms,
                         Double turnpikeRps, Double nginxCpuUs, Double nginxP99Ms, long turnpikeErrors,
                         boolean contended) {
}
