/**
 * Limits shared by a fleet of gateways through Redis or Redis Cluster (limit-count, limit-req and limit-conn with
 * policy {@code redis} / {@code redis-cluster}), by leases: each gateway takes quota from Redis in batches with one
 * atomic script that never grants past the limit, spends it on its event loops without a round trip, and gives back
 * what it does not use. See docs/rate-limits-redis.md.
 *
 * <p>Threads: limiters' {@code acquire} and release hooks run on event loops (lock-free, no allocation for a known
 * key, no blocking); one lease pump thread per {@link io.turnpike.engine.limit.redis.RedisLink} writes the pipelined
 * script calls; Lettuce's single I/O thread receives replies; the limit sweeper thread heartbeats and gives back.
 */
package io.turnpike.engine.limit.redis;
