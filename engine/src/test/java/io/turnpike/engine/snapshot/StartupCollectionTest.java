package io.turnpike.engine.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.turnpike.config.model.ConfigSet;
import io.turnpike.engine.loop.EngineSettings;
import io.turnpike.engine.loop.LoopContext;
import io.turnpike.engine.testing.Configs;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The start-up collection of {@link SnapshotUpdater} (docs/startup.md, step 5a): one full GC before the first snapshot
 * is published when the heap in use is over the threshold; never for later configurations, never under the threshold.
 */
class StartupCollectionTest {
    private static final Pattern LINE =
            Pattern.compile("start-up collection before serving: heap (\\d+) -> (\\d+) MB in (\\d+) ms");

    private final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final LoopContext loop = new LoopContext(0, group.next(), EngineSettings.defaults(), NioSocketChannel.class,
            PooledByteBufAllocator.DEFAULT);
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final PrintStream log = new PrintStream(out, true, StandardCharsets.UTF_8);

    @AfterEach
    void down() throws Exception {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static ConfigSet config(int port) {
        return Configs.fromYaml("routes:\n  - id: r\n    uri: /*\n    upstream:\n      nodes:\n        \"127.0.0.1:"
                + port + "\": 1\n");
    }

    private SnapshotUpdater updater(long thresholdBytes) {
        return new SnapshotUpdater(new SnapshotCompiler(EngineSettings.defaults()),
                new SnapshotPublisher(List.of(loop)), log, thresholdBytes);
    }

    @Test
    void aHeapOverTheThresholdIsCollectedOnceBeforeTheFirstPublication() {
        SnapshotUpdater u = updater(1);
        u.onConfig(config(1980));
        String first = out.toString(StandardCharsets.UTF_8);
        Matcher m = LINE.matcher(first);
        assertTrue(m.find(), first);
        assertTrue(u.startupGcNs() > 0);
        assertEquals(1, loop.snapshot().targets.length, "the snapshot is published after the collection");

        u.onConfig(config(1981));
        String all = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, LINE.matcher(all).results().count(), "only before the first publication: " + all);
    }

    @Test
    void aHeapUnderTheThresholdIsLeftAlone() {
        SnapshotUpdater u = updater(Long.MAX_VALUE);
        u.onConfig(config(1980));
        String text = out.toString(StandardCharsets.UTF_8);
        assertFalse(LINE.matcher(text).find(), text);
        assertEquals(0, u.startupGcNs());
    }
}
