package io.turnpike.config.codec;

/**
 * Builds the field paths used in {@link FieldError#field()}: members joined with '.', list items as {@code [i]}
 * (0-based). The YAML loader indexes lines with the same functions, so the two always agree.
 */
public final class FieldPath {
    private FieldPath() {
    }

    public static String member(String parent, String name) {
        return parent.isEmpty() ? name : parent + "." + name;
    }

    public static String item(String parent, int index) {
        return parent + "[" + index + "]";
    }

    /** The enclosing path ("" at the top), or null when {@code path} is already "". */
    public static String parent(String path) {
        if (path.isEmpty()) {
            return null;
        }
        int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
        return cut <= 0 ? "" : path.substring(0, cut);
    }
}
