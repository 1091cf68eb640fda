package io.turnpike.perf.model;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * One of a bench run's ratios other than turnpike / nginx, as {@code scripts/bench.sh} writes them under
 * {@code ratios.<a>_vs_<b>}: median(a) / median(b) per metric, e.g. {@code turnpike_chain_vs_nginx_chain} (the plugin
 * chain against nginx's closest equivalent) or {@code turnpike_vs_haproxy}.
 *
 * @param name      the JSON key, {@code <a>_vs_<b>}
 * @param ratios    per metric; only the metrics the file has
 * @param target    the target the file states for it (e.g. {@code cpu_us_per_req <= 0.90}), or {@code null}
 * @param targetMet whether the file says the target was met, or {@code null} when it states none
 */
public record PairRatio(String name, Map<Metric, Double> ratios, String target, Boolean targetMet) {

    public PairRatio {
        EnumMap<Metric, Double> r = new EnumMap<>(Metric.class);
        r.putAll(ratios);
        ratios = Collections.unmodifiableMap(r);
    }

    /** {@code a / b} for the name {@code a_vs_b}. */
    public String label() {
        int i = name.indexOf("_vs_");
        return i < 0 ? name : name.substring(0, i) + " / " + name.substring(i + 4);
    }
}
