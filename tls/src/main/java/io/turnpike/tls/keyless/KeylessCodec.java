package io.turnpike.tls.keyless;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.MessageToByteEncoder;

import static io.turnpike.tls.keyless.KeylessProtocol.LENGTH_FIELD_SIZE;
import static io.turnpike.tls.keyless.KeylessProtocol.MAX_FRAME_LENGTH;
import static io.turnpike.tls.keyless.KeylessProtocol.REQUEST_HEADER_SIZE;
import static io.turnpike.tls.keyless.KeylessProtocol.RESPONSE_HEADER_SIZE;
import static io.turnpike.tls.keyless.KeylessProtocol.VERSION;

/**
 * Frame codec of the keyless protocol: static encode/decode of single frames, and the pipeline handlers built on them
 * (a length-prefix frame decoder that yields {@link KeylessRequest}s or {@link KeylessResponse}s, and one encoder for
 * both).
 */
public final class KeylessCodec {
    private KeylessCodec() {
    }

    /** Adds the server side (decodes requests, encodes responses) to a pipeline. */
    public static void addServerCodec(ChannelPipeline pipeline) {
        pipeline.addLast("keyless-decoder", new FrameDecoder(true));
        pipeline.addLast("keyless-encoder", new Encoder());
    }

    /** Adds the client side (decodes responses, encodes requests) to a pipeline. */
    public static void addClientCodec(ChannelPipeline pipeline) {
        pipeline.addLast("keyless-decoder", new FrameDecoder(false));
        pipeline.addLast("keyless-encoder", new Encoder());
    }

    public static void encodeRequest(KeylessRequest req, ByteBuf out) {
        out.ensureWritable(LENGTH_FIELD_SIZE + REQUEST_HEADER_SIZE + req.payload().length);
        out.writeInt(REQUEST_HEADER_SIZE + req.payload().length);
        out.writeByte(VERSION);
        out.writeByte(req.op());
        out.writeShort(req.scheme());
        out.writeLong(req.id());
        out.writeBytes(req.keyId().unsafeBytes());
        out.writeBytes(req.payload());
    }

    public static void encodeResponse(KeylessResponse resp, ByteBuf out) {
        out.ensureWritable(LENGTH_FIELD_SIZE + RESPONSE_HEADER_SIZE + resp.payload().length);
        out.writeInt(RESPONSE_HEADER_SIZE + resp.payload().length);
        out.writeByte(VERSION);
        out.writeByte(resp.status());
        out.writeShort(0);
        out.writeLong(resp.id());
        out.writeBytes(resp.payload());
    }

    /** Decodes one request frame body (the bytes after the length prefix; all of {@code frame}'s readable bytes). */
    public static KeylessRequest decodeRequest(ByteBuf frame) {
        if (frame.readableBytes() < REQUEST_HEADER_SIZE) {
            throw new CorruptedFrameException("request frame too short: " + frame.readableBytes());
        }
        checkVersion(frame.readUnsignedByte());
        int op = frame.readUnsignedByte();
        int scheme = frame.readUnsignedShort();
        long id = frame.readLong();
        byte[] key = new byte[KeyId.LENGTH];
        frame.readBytes(key);
        byte[] payload = new byte[frame.readableBytes()];
        frame.readBytes(payload);
        return new KeylessRequest(id, op, KeyId.of(key), scheme, payload);
    }

    /** Decodes one response frame body (the bytes after the length prefix). */
    public static KeylessResponse decodeResponse(ByteBuf frame) {
        if (frame.readableBytes() < RESPONSE_HEADER_SIZE) {
            throw new CorruptedFrameException("response frame too short: " + frame.readableBytes());
        }
        checkVersion(frame.readUnsignedByte());
        int status = frame.readUnsignedByte();
        frame.skipBytes(2);
        long id = frame.readLong();
        byte[] payload = new byte[frame.readableBytes()];
        frame.readBytes(payload);
        return new KeylessResponse(id, status, payload);
    }

    private static void checkVersion(int version) {
        if (version != VERSION) {
            throw new CorruptedFrameException("unsupported keyless protocol version " + version);
        }
    }

    /** Length-prefixed frames to {@link KeylessRequest} (server side) or {@link KeylessResponse} (client side). */
    static final class FrameDecoder extends LengthFieldBasedFrameDecoder {
        private final boolean requests;

        FrameDecoder(boolean requests) {
            super(MAX_FRAME_LENGTH + LENGTH_FIELD_SIZE, 0, LENGTH_FIELD_SIZE, 0, LENGTH_FIELD_SIZE, true);
            this.requests = requests;
        }

        @Override
        protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
            ByteBuf frame = (ByteBuf) super.decode(ctx, in);
            if (frame == null) {
                return null;
            }
            try {
                return requests ? decodeRequest(frame) : decodeResponse(frame);
            } finally {
                frame.release();
            }
        }
    }

    /** Encodes both message kinds. */
    static final class Encoder extends MessageToByteEncoder<Object> {
        @Override
        public boolean acceptOutboundMessage(Object msg) {
            return msg instanceof KeylessRequest || msg instanceof KeylessResponse;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, ByteBuf out) {
            if (msg instanceof KeylessRequest req) {
                encodeRequest(req, out);
            } else {
                encodeResponse((KeylessResponse) msg, out);
            }
        }
    }
}
