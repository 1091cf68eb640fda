package io.turnpike.bench;

/**
 * The forked JVMs' flags, as constants for {@code @Fork(jvmArgsAppend = ...)}. On JDK 24+ {@code scripts/jmh.sh} adds
 * {@code --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED} with {@code -jvmArgsPrepend} (a
 * command-line {@code -jvmArgsAppend} would replace these instead of adding to them).
 */
final class BenchJvm {
    /** Netty's direct-buffer fast path (PlatformDependent uses jdk.internal.misc.Unsafe). */
    static final String ADD_EXPORTS = "--add-exports";
    static final String EXPORTS_MISC = "java.base/jdk.internal.misc=ALL-UNNAMED";
    /** Leak detection samples buffers and records stack traces: allocation that production does not have. */
    static final String NO_LEAK_DETECTION = "-Dio.netty.leakDetection.level=disabled";
    static final String POOLED = "-Dio.netty.allocator.type=pooled";
    /** Benchmark threads are FastThreadLocalThreads, like event loops; see {@link EventLoopThreads}. */
    static final String EXECUTOR = "-Djmh.executor=CUSTOM";
    static final String EXECUTOR_CLASS = "-Djmh.executor.class=io.turnpike.bench.EventLoopThreads";

    private BenchJvm() {
    }
}
