package io.turnpike.engine.ops;

import io.turnpike.engine.testing.LauncherRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code TURNPIKE_STARTUP_CACHE} in {@code bin/turnpike} (docs/startup.md, "Start-up cache"), read from what the
 * launcher would run: a start without a file trains (JDK 25+: {@code -XX:AOTCacheOutput}; older: {@code
 * -XX:ArchiveClassesAtExit}), a start with a fresh file maps it, a jar newer than the file trains again, each JDK
 * build has a file of its own, and without the variable nothing changes.
 */
class StartupCacheLauncherTest {
    @TempDir
    Path dir;

    private Path jar() throws Exception {
        Path jar = dir.resolve("turnpike.jar");
        if (!Files.exists(jar)) {
            Files.write(jar, new byte[0]);
        }
        return jar;
    }

    private static List<String> cacheFlags(LauncherRun.Result r) {
        return r.jvmFlags().stream().filter(f -> f.startsWith("-XX:AOTCache") || f.startsWith("-XX:SharedArchiveFile")
                || f.startsWith("-XX:ArchiveClassesAtExit") || f.startsWith("-Xlog:aot") || f.startsWith("-Xlog:cds"))
                .toList();
    }

    @Test
    void jdk25TrainsThenMapsItsAotCache() throws Exception {
        Path jdk = LauncherRun.standInJdk(dir, "25.0.3");
        String base = dir.resolve("cache/turnpike").toString();
        Path file = Path.of(base + "-jdk25.0.3.aot");
        Map<String, String> env = Map.of("TURNPIKE_STARTUP_CACHE", base);

        LauncherRun.Result training = LauncherRun.start(dir, jdk, jar(), env);
        assertEquals(List.of("-XX:AOTCacheOutput=" + file, "-Xlog:aot=error"), cacheFlags(training));
        assertTrue(training.output().contains("training run: " + file + " is written when this gateway stops"),
                training.output());
        assertTrue(Files.isDirectory(file.getParent()), "the launcher makes the cache's folder");

        Files.writeString(file, "cache");
        Files.setLastModifiedTime(jar(), FileTime.from(Instant.now().minusSeconds(60)));
        LauncherRun.Result mapped = LauncherRun.start(dir, jdk, jar(), env);
        assertEquals(List.of("-XX:AOTCache=" + file), cacheFlags(mapped));
        assertFalse(mapped.output().contains("training run"), mapped.output());

        Files.setLastModifiedTime(jar(), FileTime.from(Instant.now().plusSeconds(60)));
        assertEquals(List.of("-XX:AOTCacheOutput=" + file, "-Xlog:aot=error"),
                cacheFlags(LauncherRun.start(dir, jdk, jar(), env)), "a rebuilt jar trains a new cache");
    }

    @Test
    void olderJdksUseADynamicClassDataArchivePerBuild() throws Exception {
        String base = dir.resolve("turnpike").toString();
        Map<String, String> env = Map.of("TURNPIKE_STARTUP_CACHE", base);
        Path jdk17 = LauncherRun.standInJdk(dir, "17.0.15");
        Path file = Path.of(base + "-jdk17.0.15.jsa");
        assertEquals(List.of("-XX:ArchiveClassesAtExit=" + file, "-Xlog:cds=error"),
                cacheFlags(LauncherRun.start(dir, jdk17, jar(), env)));
        Files.writeString(file, "archive");
        Files.setLastModifiedTime(jar(), FileTime.from(Instant.now().minusSeconds(60)));
        assertEquals(List.of("-XX:SharedArchiveFile=" + file), cacheFlags(LauncherRun.start(dir, jdk17, jar(), env)));
        // another build of the JDK never maps this one's file
        Path other = Path.of(base + "-jdk17.0.16.jsa");
        assertEquals(List.of("-XX:ArchiveClassesAtExit=" + other, "-Xlog:cds=error"),
                cacheFlags(LauncherRun.start(dir, LauncherRun.standInJdk(dir, "17.0.16"), jar(), env)));
    }

    @Test
    void withoutTheVariableNoCacheFlags() throws Exception {
        LauncherRun.Result r = LauncherRun.start(dir, LauncherRun.standInJdk(dir, "25.0.3"), jar(), Map.of());
        assertEquals(List.of(), cacheFlags(r));
        assertFalse(r.output().contains("training run"), r.output());
    }
}
