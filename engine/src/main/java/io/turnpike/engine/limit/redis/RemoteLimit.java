package io.turnpike.engine.limit.redis;

/** A Redis-backed limiter as its {@link RedisLink}'s lease pump sees it. */
interface RemoteLimit {
    /** Sends what {@code e} needs (a lease when it is pending, give-backs), without flushing. Lease pump thread. */
    void send(LeaseEntry e, RedisLink link);

    /** {@code e}'s outstanding work cannot be sent (no connection): its lease request fails. Lease pump thread. */
    void fail(LeaseEntry e, RedisLink link);
}
