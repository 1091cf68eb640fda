package io.turnpike.engine.loop;

import java.util.Arrays;

/**
 * Timeouts without a timer task per request: each loop keeps its connections in an array and checks their deadlines on
 * one periodic task (every {@link #TICK_MS} ms). Registering, removing and sweeping allocate nothing once the array has
 * grown to the loop's connection count. Confined to its event loop.
 */
public final class ConnectionSweeper {
    public static final long TICK_MS = 100;

    private Swept[] items = new Swept[256];
    private int size;

    public void add(Swept s) {
        if (size == items.length) {
            items = Arrays.copyOf(items, size * 2);
        }
        s.sweepIndex(size);
        items[size++] = s;
    }

    public void remove(Swept s) {
        int i = s.sweepIndex();
        if (i < 0 || i >= size || items[i] != s) {
            return;
        }
        Swept last = items[--size];
        items[i] = last;
        last.sweepIndex(i);
        items[size] = null;
        s.sweepIndex(-1);
    }

    public int size() {
        return size;
    }

    public void sweep(long nowNs) {
        // Iterate backwards: a sweep may close a connection, which removes it by swapping in the last element.
        for (int i = size - 1; i >= 0; i--) {
            if (i < size) {
                items[i].sweep(nowNs);
            }
        }
    }
}
