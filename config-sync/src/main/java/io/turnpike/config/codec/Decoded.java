package io.turnpike.config.codec;

import java.util.List;

/** The outcome of decoding one entry: the value, or the errors (never both). */
public record Decoded<T>(T value, List<FieldError> errors) {

    public Decoded {
        errors = List.copyOf(errors);
        if ((value == null) == errors.isEmpty()) {
            throw new IllegalArgumentException("exactly one of value and errors");
        }
    }

    public static <T> Decoded<T> ok(T value) {
        return new Decoded<>(value, List.of());
    }

    public static <T> Decoded<T> failed(List<FieldError> errors) {
        return new Decoded<>(null, errors);
    }

    public boolean ok() {
        return value != null;
    }
}
