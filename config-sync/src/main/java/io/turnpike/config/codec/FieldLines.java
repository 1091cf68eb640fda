package io.turnpike.config.codec;

/** Where the fields of one entry sit in its source file, for error messages. */
@FunctionalInterface
public interface FieldLines {

    /** 1-based line of the field at {@code path} ({@link FieldPath} syntax), or 0 when unknown. */
    int lineOf(String path);

    /** For sources without lines (etcd, the Admin API). */
    FieldLines NONE = path -> 0;
}
