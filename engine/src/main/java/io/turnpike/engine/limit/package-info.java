/**
 * Rate and concurrency limits shared by every event loop of the process (limit-count, limit-req, limit-conn).
 *
 * <p>A limiter is one configured limit (a plugin configuration on a route, service, consumer, ... or a {@code group}),
 * found again across snapshot compiles by {@link io.turnpike.engine.limit.LimiterRegistry} so counters survive
 * unrelated configuration changes. Its per-key state lives in a {@link io.turnpike.engine.limit.LimitTable}: a
 * lock-free hash map (JCTools {@code NonBlockingHashMap}) probed with a reusable {@link
 * io.turnpike.engine.limit.LimitKey} flyweight, whose entries pack their whole state into one {@code long} updated by
 * compare-and-set. So a decision is exact for the process (every loop sees one counter), takes no lock, and allocates
 * only when a key is seen for the first time. Expired entries are reclaimed by one sweeper thread per process.
 *
 * <p>Policies {@code redis} and {@code redis-cluster} take leases of quota from Redis off the loops
 * ({@code io.turnpike.engine.limit.redis}); see docs/rate-limits.md.
 */
package io.turnpike.engine.limit;
