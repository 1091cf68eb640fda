package io.turnpike.engine;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Build version, read from the filtered {@code version.properties} resource. */
public final class Version {
    public static final String VERSION = load();

    private Version() {
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
