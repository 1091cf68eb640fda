package io.turnpike.engine.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the real launcher ({@code bin/turnpike}) against a stand-in JDK whose {@code java} writes its arguments to a
 * file instead of starting a JVM (version queries go to the test's own JVM), so a test reads exactly what the
 * launcher would run. A stand-in JDK may carry a {@code release} file naming another version.
 */
public final class LauncherRun {
    /** The JVM flags (everything before {@code -jar}) and the launcher's own output. */
    public record Result(List<String> jvmFlags, String output) {
    }

    private LauncherRun() {
    }

    /** A stand-in JDK under {@code dir}; {@code javaVersion} non-null writes its {@code release} file. */
    public static Path standInJdk(Path dir, String javaVersion) throws Exception {
        Path jdk = dir.resolve("stand-in-jdk-" + (javaVersion == null ? "default" : javaVersion));
        Files.createDirectories(jdk.resolve("bin"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\n"
                + "case \"$*\" in *-XshowSettings*) exec \"$REAL_JAVA\" \"$@\";; esac\n"
                + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGS_OUT\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (javaVersion != null) {
            Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"" + javaVersion + "\"\n");
        }
        return jdk;
    }

    /** {@code bin/turnpike start -c x.yaml} with JAVA_HOME {@code jdk}, the jar {@code jar} and {@code env}. */
    public static Result start(Path dir, Path jdk, Path jar, Map<String, String> env) throws Exception {
        Path launcher = Path.of("").toAbsolutePath().getParent().resolve("bin/turnpike");
        assertTrue(Files.isExecutable(launcher), launcher.toString());
        Path argsOut = dir.resolve("java-args-" + System.nanoTime());
        ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "start", "-c", "x.yaml").redirectErrorStream(true);
        pb.environment().remove("TURNPIKE_JVM_OPTS");
        pb.environment().remove("TURNPIKE_STARTUP_CACHE");
        pb.environment().put("JAVA_HOME", jdk.toString());
        pb.environment().put("REAL_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("ARGS_OUT", argsOut.toString());
        pb.environment().put("TURNPIKE_JAR", jar.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        List<String> args = Files.readAllLines(argsOut);
        int jarAt = args.indexOf("-jar");
        assertTrue(jarAt > 0, args.toString());
        assertEquals(List.of("-jar", jar.toString(), "start", "-c", "x.yaml"), args.subList(jarAt, args.size()));
        return new Result(new ArrayList<>(args.subList(0, jarAt)), out);
    }
}
