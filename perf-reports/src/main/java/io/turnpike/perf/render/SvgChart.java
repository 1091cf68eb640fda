package io.turnpike.perf.render;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A horizontal grouped bar chart as a self-contained inline SVG element: no script, no external resource.
 * One row per item, one bar per series in the row, the value printed after each bar, and an optional
 * vertical marker line (a threshold, or 1.0 for ratios).
 */
final class SvgChart {

    static final String[] COLORS = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"};
    private static final int WIDTH = 860;
    private static final int LABEL_W = 330;
    private static final int VALUE_W = 110;
    private static final int BAR_H = 14;
    private static final int GAP = 8;

    /** One row: a label and a value per series ({@code null}: no bar). */
    record Row(String label, Double[] values, boolean highlight) {
        Row(String label, Double... values) {
            this(label, values, false);
        }
    }

    private final String title;
    private final String unit;
    private final List<String> series;
    private final List<Row> rows = new ArrayList<>();
    private Double marker;
    private String markerLabel;

    SvgChart(String title, String unit, List<String> series) {
        this.title = title;
        this.unit = unit;
        this.series = series;
    }

    SvgChart row(Row r) {
        rows.add(r);
        return this;
    }

    SvgChart marker(double at, String label) {
        this.marker = at;
        this.markerLabel = label;
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    String render() {
        double max = marker == null ? 0 : marker;
        for (Row r : rows) {
            for (Double v : r.values()) {
                if (v != null && v > max) {
                    max = v;
                }
            }
        }
        if (max <= 0) {
            max = 1;
        }
        int plotW = WIDTH - LABEL_W - VALUE_W;
        int legendH = series.size() > 1 ? 22 : 0;
        int top = 28 + legendH;
        int rowH = series.size() * BAR_H + GAP;
        int height = top + rows.size() * rowH + 24;
        StringBuilder s = new StringBuilder(2048);
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"").append(WIDTH).append("\" height=\"")
                .append(height).append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">");
        s.append("<title>").append(esc(title)).append("</title>");
        s.append("<text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"bold\">").append(esc(title))
                .append(unit.isEmpty() ? "" : " (" + esc(unit) + ")").append("</text>");
        if (legendH > 0) {
            int x = LABEL_W;
            for (int i = 0; i < series.size(); i++) {
                s.append("<rect x=\"").append(x).append("\" y=\"26\" width=\"12\" height=\"12\" fill=\"")
                        .append(COLORS[i % COLORS.length]).append("\"/>");
                s.append("<text x=\"").append(x + 16).append("\" y=\"36\">").append(esc(series.get(i))).append("</text>");
                x += 24 + 7 * series.get(i).length();
            }
        }
        int y = top;
        for (Row r : rows) {
            int labelY = y + (series.size() * BAR_H) / 2 + 4;
            s.append("<text x=\"").append(LABEL_W - 6).append("\" y=\"").append(labelY)
                    .append("\" text-anchor=\"end\"").append(r.highlight() ? " fill=\"#c00\" font-weight=\"bold\"" : "")
                    .append('>').append(esc(r.label())).append("</text>");
            for (int i = 0; i < series.size(); i++) {
                Double v = i < r.values().length ? r.values()[i] : null;
                int by = y + i * BAR_H;
                if (v == null) {
                    continue;
                }
                double w = Math.max(v <= 0 ? 0 : 1, plotW * v / max);
                s.append("<rect x=\"").append(LABEL_W).append("\" y=\"").append(by + 1).append("\" width=\"")
                        .append(fmt(w)).append("\" height=\"").append(BAR_H - 2).append("\" fill=\"")
                        .append(r.highlight() ? "#e15759" : COLORS[i % COLORS.length]).append("\"><title>")
                        .append(esc(r.label() + (series.size() > 1 ? " " + series.get(i) : "") + ": " + value(v) + " " + unit))
                        .append("</title></rect>");
                s.append("<text x=\"").append(fmt(LABEL_W + w + 4)).append("\" y=\"").append(by + BAR_H - 3)
                        .append("\" font-size=\"11\">").append(esc(value(v))).append("</text>");
            }
            y += rowH;
        }
        s.append("<line x1=\"").append(LABEL_W).append("\" y1=\"").append(top - 2).append("\" x2=\"").append(LABEL_W)
                .append("\" y2=\"").append(y).append("\" stroke=\"#333\"/>");
        if (marker != null) {
            double mx = LABEL_W + plotW * marker / max;
            s.append("<line x1=\"").append(fmt(mx)).append("\" y1=\"").append(top - 2).append("\" x2=\"").append(fmt(mx))
                    .append("\" y2=\"").append(y).append("\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>");
            s.append("<text x=\"").append(fmt(mx)).append("\" y=\"").append(y + 14)
                    .append("\" text-anchor=\"middle\" fill=\"#c00\" font-size=\"11\">").append(esc(markerLabel))
                    .append("</text>");
        }
        s.append("</svg>");
        return s.toString();
    }

    static String value(double v) {
        return MarkdownReportWriter.sig(v);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String esc(String v) {
        return v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
