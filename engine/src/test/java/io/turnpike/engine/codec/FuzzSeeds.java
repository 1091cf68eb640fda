package io.turnpike.engine.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

/**
 * Writes the llhttp corpus (test resources, conformance/llhttp) as seed files for the fuzz targets of
 * {@link HttpCodecFuzzTest}: {@code DIR/requestStream}, {@code DIR/responseStream}, and the chunked bodies found in
 * them (the bytes after a chunked head) as {@code DIR/chunkedBody}. Used by scripts/fuzz.sh.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Paths.get(args[0]);
        Path req = Files.createDirectories(dir.resolve("requestStream"));
        Path rsp = Files.createDirectories(dir.resolve("responseStream"));
        Path chunked = Files.createDirectories(dir.resolve("chunkedBody"));
        int n = 0, c = 0;
        for (LlhttpConformanceTest.Case k : LlhttpConformanceTest.loadCases()) {
            String name = String.format("llhttp-%04d", n++);
            Files.write((k.request() ? req : rsp).resolve(name), k.bytes());
            byte[] body = chunkedBodyOf(k);
            if (body != null) {
                Files.write(chunked.resolve(name), body);
                c++;
            }
        }
        System.out.println("fuzz seeds: " + n + " messages, " + c + " chunked bodies -> " + dir);
    }

    private static byte[] chunkedBodyOf(LlhttpConformanceTest.Case k) {
        ByteBuf buf = Unpooled.wrappedBuffer(k.bytes());
        try {
            int r;
            boolean chunked;
            if (k.request()) {
                RequestHead h = new RequestHead(100);
                r = new RequestHeadParser(8192, 65536, 100, false).parse(buf, h);
                chunked = h.chunked;
            } else {
                ResponseHead h = new ResponseHead(100);
                r = new ResponseHeadParser(65536, 100).parse(buf, h);
                chunked = h.chunked;
            }
            return r > 0 && chunked ? Arrays.copyOfRange(k.bytes(), r, k.bytes().length) : null;
        } finally {
            buf.release();
        }
    }
}
