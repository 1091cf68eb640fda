package io.turnpike.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.turnpike.config.codec.FieldDispositions;
import io.turnpike.config.codec.FieldDispositions.Disposition;
import io.turnpike.config.codec.FieldDispositions.Field;
import io.turnpike.config.process.AdminConfig;
import io.turnpike.config.process.AdminKey;
import io.turnpike.config.process.EtcdConfig;
import io.turnpike.config.process.KeyServerConfig;
import io.turnpike.config.process.ListenAddress;
import io.turnpike.config.process.ProcessConfig;
import io.turnpike.config.process.SslConfig;
import io.turnpike.config.process.SslListen;
import io.turnpike.config.process.TurnpikeSettings;
import io.turnpike.engine.snapshot.SnapshotCompiler;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.RecordComponent;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Fail closed, engine side: a configuration field marked {@link Disposition#ENGINE} in {@link FieldDispositions} must
 * really be read by the data plane, and every process-config value ({@code config.yaml}) must be read by someone
 * besides its loader (or be listed here with the reason it may not be). Read from the bytecode of the engine and tls
 * main classes: a method reference ({@code invokevirtual Route.timeout}) or a string constant ({@code "client_cert"}
 * for a key read from the raw JSON).
 */
class FieldDispositionsEngineTest {

    private static final String MODEL = "io/turnpike/config/model/";

    /** Process-config values no code reads, each refused unless left at its default. */
    private static final Map<String, String> PROCESS_NOT_READ = Map.of(
            "ProcessConfig.prometheusExportAddr", "plugin_attr.prometheus is refused (no exporter yet)",
            "ProcessConfig.configFile", "where the values came from, not a value");

    /** Values read through a derived accessor of their record: value -> that accessor. */
    private static final Map<String, String> READ_THROUGH = Map.of(
            "ProcessConfig.configProvider", "standalone");

    /** The references found in some compiled classes: "owner.method" (owner with '/') and string constants. */
    static final class Refs {
        final Set<String> methods = new HashSet<>();
        final Set<String> strings = new HashSet<>();

        void scan(Path root, String skipPackage) throws IOException {
            if (Files.isDirectory(root)) {
                try (Stream<Path> s = Files.walk(root)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        String rel = root.relativize(p).toString().replace('\\', '/');
                        if (rel.endsWith(".class") && (skipPackage == null || !rel.startsWith(skipPackage))) {
                            try (InputStream in = Files.newInputStream(p)) {
                                read(in);
                            }
                        }
                    }
                }
                return;
            }
            try (JarFile jar = new JarFile(root.toFile())) {
                for (JarEntry e : java.util.Collections.list(jar.entries())) {
                    if (e.getName().endsWith(".class")
                            && (skipPackage == null || !e.getName().startsWith(skipPackage))) {
                        try (InputStream in = jar.getInputStream(e)) {
                            read(in);
                        }
                    }
                }
            }
        }

        /** Walks a class file's constant pool (JVMS 4.4). */
        private void read(InputStream raw) throws IOException {
            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw));
            if (in.readInt() != 0xCAFEBABE) {
                return;
            }
            in.readUnsignedShort();
            in.readUnsignedShort();
            int n = in.readUnsignedShort();
            String[] utf8 = new String[n];
            int[] a = new int[n];
            int[] b = new int[n];
            int[] tag = new int[n];
            for (int i = 1; i < n; i++) {
                tag[i] = in.readUnsignedByte();
                switch (tag[i]) {
                    case 1 -> utf8[i] = in.readUTF();
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> {
                        in.readLong();
                        i++;
                    }
                    case 7, 8, 16, 19, 20 -> a[i] = in.readUnsignedShort();
                    case 9, 10, 11, 12, 17, 18 -> {
                        a[i] = in.readUnsignedShort();
                        b[i] = in.readUnsignedShort();
                    }
                    case 15 -> {
                        in.readUnsignedByte();
                        a[i] = in.readUnsignedShort();
                    }
                    default -> throw new IOException("constant pool tag " + tag[i]);
                }
            }
            for (int i = 1; i < n; i++) {
                if (tag[i] == 8) {
                    strings.add(utf8[a[i]]);
                } else if (tag[i] == 10 || tag[i] == 11) {
                    String owner = utf8[a[a[i]]];
                    String name = utf8[a[b[i]]];
                    methods.add(owner + "." + name);
                }
            }
        }
    }

    private static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void everyEngineFieldIsReadByTheEngine() throws Exception {
        Refs refs = new Refs();
        refs.scan(location(SnapshotCompiler.class), null);
        refs.scan(location(io.turnpike.tls.TlsTable.class), null);
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Field f : FieldDispositions.all()) {
            if (f.disposition() != Disposition.ENGINE) {
                continue;
            }
            checked++;
            for (String token : f.evidence().split(" ")) {
                boolean found;
                if (token.startsWith("\"")) {
                    found = refs.strings.contains(token.substring(1, token.length() - 1));
                } else {
                    int dot = token.lastIndexOf('.');
                    String owner = MODEL + token.substring(0, dot).replace('.', '$');
                    found = refs.methods.contains(owner + "." + token.substring(dot + 1));
                }
                if (!found) {
                    missing.add(f.scope() + "." + f.name() + " (engine never uses " + token + ")");
                }
            }
        }
        assertTrue(checked > 40, "ENGINE fields found: " + checked);
        assertEquals(List.of(), missing, "fields marked ENGINE in FieldDispositions that the engine does not read:"
                + " implement them, or mark them REFUSED and refuse them in the codec");
    }

    @Test
    void everyProcessConfigValueIsRead() throws Exception {
        Refs refs = new Refs();
        refs.scan(location(SnapshotCompiler.class), null);
        refs.scan(location(io.turnpike.tls.TlsTable.class), null);
        // config-sync's own readers (Admin API, etcd client), not the loader that produces the values
        refs.scan(location(ProcessConfig.class), "io/turnpike/config/process/");
        Set<String> unread = new TreeSet<>();
        for (Class<?> c : List.of(ProcessConfig.class, TurnpikeSettings.class, SslConfig.class, SslListen.class,
                EtcdConfig.class, AdminConfig.class, AdminKey.class, ListenAddress.class, KeyServerConfig.class)) {
            for (RecordComponent rc : c.getRecordComponents()) {
                String key = c.getSimpleName() + "." + rc.getName();
                String owner = c.getName().replace('.', '/') + ".";
                if (!refs.methods.contains(owner + rc.getName()) && !PROCESS_NOT_READ.containsKey(key)
                        && !(READ_THROUGH.containsKey(key) && refs.methods.contains(owner + READ_THROUGH.get(key)))) {
                    unread.add(key);
                }
            }
        }
        assertEquals(Set.of(), unread, "config.yaml values nobody reads: use them, or refuse them in"
                + " ProcessConfigLoader (REFUSED) and list them in PROCESS_NOT_READ");
        for (String key : PROCESS_NOT_READ.keySet()) {
            int dot = key.indexOf('.');
            String owner = "io/turnpike/config/process/" + key.substring(0, dot);
            assertTrue(!refs.methods.contains(owner + "." + key.substring(dot + 1)),
                    key + " is read now: remove it from PROCESS_NOT_READ and stop refusing it");
        }
    }
}
