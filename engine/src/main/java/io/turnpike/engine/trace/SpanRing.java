package io.turnpike.engine.trace;

import org.jctools.queues.SpscArrayQueue;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One event loop's span buffer: {@code capacity} preallocated {@link SpanSlot}s circulating between two
 * single-producer single-consumer queues. The loop takes a free slot, fills it and offers it to {@link #filled}; the
 * exporter thread polls filled slots, converts them, and gives them back through {@link #free}. When no slot is free
 * the loop drops the span and counts it ({@link #dropped}): the loop never waits and memory never grows.
 *
 * <p>Thread roles: {@link #take}, {@link #publish} and {@link #drop} on the owning loop only; {@link #poll} and
 * {@link #recycle} on the exporter thread only.
 */
public final class SpanRing {
    private final SpscArrayQueue<SpanSlot> free;
    private final SpscArrayQueue<SpanSlot> filled;
    /** Written by the loop only (lazySet), read by anyone. */
    private final AtomicLong dropped = new AtomicLong();
    private final int capacity;
    private final SpanExportAgent owner;

    SpanRing(SpanExportAgent owner, int capacity) {
        this.owner = owner;
        this.capacity = capacity;
        this.free = new SpscArrayQueue<>(Math.max(2, capacity));
        this.filled = new SpscArrayQueue<>(Math.max(2, capacity));
        for (int i = 0; i < capacity; i++) {
            free.offer(new SpanSlot());
        }
    }

    /** The exporter this ring feeds. */
    public SpanExportAgent owner() {
        return owner;
    }

    /** Loop: a free slot, or null when the ring is full (the caller then calls {@link #drop}). */
    public SpanSlot take() {
        return free.relaxedPoll();
    }

    /** Loop: hands a filled slot to the exporter. */
    public void publish(SpanSlot s) {
        filled.offer(s); // never full: the two queues hold the same slots
        if (!owner.dropOnQueueFull && filled.size() >= capacity - (capacity >> 2)) {
            if (!owner.urgent) {
                owner.urgent = true; // three quarters full: collect now rather than on schedule
            }
        }
    }

    /** Loop: a span found the ring full. */
    public void drop() {
        dropped.lazySet(dropped.get() + 1);
    }

    public long dropped() {
        return dropped.get();
    }

    /** Exporter: the next filled slot, or null. */
    SpanSlot poll() {
        return filled.relaxedPoll();
    }

    /** Exporter: gives a converted slot back to the loop. */
    void recycle(SpanSlot s) {
        s.route = null;
        free.offer(s);
    }

    int pending() {
        return filled.size();
    }
}
