package io.turnpike.bench;

import io.netty.util.concurrent.FastThreadLocalThread;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.util.Arrays;

/**
 * CPU time per op of one benchmark method, read from the benchmark thread's own CPU clock instead of the wall clock:
 * for comparing two builds on a shared machine, where JMH's wall-clock scores move with whatever else runs (a
 * descheduled thread costs wall time, not CPU time). It is a complement to JMH, not a replacement: no forks, no
 * blackhole (the methods used return a value that is summed), one thread.
 *
 * <pre>
 * java -cp bench-jmh/target/benchmarks.jar [JMH's fork flags] io.turnpike.bench.CpuPerOp \
 *      io.turnpike.bench.ProxyPipelineBenchmark proxy exchange=get [--warmup 5] [--rounds 7] [--round-ms 1000]
 * </pre>
 *
 * Prints the CPU ns/op of each round and the median; the benchmark's {@code setup()} runs first and
 * {@code tearDown()} (when present) last, so the benchmark's own correctness checks apply.
 */
public final class CpuPerOp {
    private CpuPerOp() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: CpuPerOp CLASS METHOD [param=value ...] [--warmup S] [--rounds N] [--round-ms MS]");
            System.exit(2);
        }
        Class<?> type = Class.forName(args[0]);
        Object state = type.getDeclaredConstructor().newInstance();
        int warmupS = 5, rounds = 7, roundMs = 1000;
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> warmupS = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--round-ms" -> roundMs = Integer.parseInt(args[++i]);
                default -> {
                    String[] kv = args[i].split("=", 2);
                    if (kv.length != 2) throw new IllegalArgumentException("expected param=value: " + args[i]);
                    Field f = type.getField(kv[0]);
                    f.set(state, kv[1]);
                }
            }
        }
        MethodHandle op = MethodHandles.publicLookup()
                .findVirtual(type, args[1], MethodType.methodType(int.class)).bindTo(state);
        final int warmup = warmupS, n = rounds, ms = roundMs;
        Throwable[] failure = new Throwable[1];
        // a FastThreadLocalThread, as an event loop is (see EventLoopThreads)
        Thread t = new FastThreadLocalThread(() -> {
            try {
                type.getMethod("setup").invoke(state);
                run(op, warmup * 1000L);
                double[] perOp = new double[n];
                for (int r = 0; r < n; r++) {
                    perOp[r] = run(op, ms);
                    System.out.printf("round %d: %.1f ns/op CPU%n", r + 1, perOp[r]);
                }
                try {
                    type.getMethod("tearDown").invoke(state);
                } catch (NoSuchMethodException ignored) {
                    // no tearDown
                }
                double[] sorted = perOp.clone();
                Arrays.sort(sorted);
                System.out.printf("%s.%s %s: median %.1f ns/op CPU (min %.1f, max %.1f) = %.0f ops/s per core%n",
                        type.getSimpleName(), args[1], String.join(" ", Arrays.copyOfRange(args, 2, args.length)),
                        sorted[n / 2], sorted[0], sorted[n - 1], 1e9 / sorted[n / 2]);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "cpu-per-op");
        t.start();
        t.join();
        if (failure[0] != null) throw failure[0];
    }

    /** Runs the op for about cpuMs of this thread's CPU time; returns CPU ns per op. */
    private static double run(MethodHandle op, long cpuMs) throws Throwable {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long budget = cpuMs * 1_000_000L;
        long start = mx.getCurrentThreadCpuTime();
        long ops = 0;
        int sink = 0;
        long used;
        do {
            for (int i = 0; i < 1000; i++) sink += (int) op.invokeExact();
            ops += 1000;
            used = mx.getCurrentThreadCpuTime() - start;
        } while (used < budget);
        if (sink == 42) System.out.print("");
        return (double) used / ops;
    }
}
