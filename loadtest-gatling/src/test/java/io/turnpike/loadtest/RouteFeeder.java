package io.turnpike.loadtest;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Feeds a uniformly random one of the {@code routes} generated routes per request. The rule is the one
 * loadtest-gatling/tools/gen_config.py writes apisix.yaml with; keep the two in step:
 *
 * <pre>
 * i % 4 == 0  exact       uri /r/i                          request GET /r/i
 * i % 4 == 1  prefix      uri /r/i/*                        request GET /r/i/x
 * i % 4 == 2  parameter   uri /r/i/items/:id                request GET /r/i/items/&lt;0..999&gt;
 * i % 4 == 3  host-bound  host h&lt;i&gt;.example.test, uri /r/i   request GET /r/i with that Host
 * </pre>
 *
 * Every row sets {@code kind} (the request name, so the report has a line per kind), {@code path} and {@code host}
 * (host-less rows send {@code plain.example.test}, which no route is bound to).
 */
final class RouteFeeder implements Iterator<Map<String, Object>> {
    static final String[] KINDS = {"exact", "prefix", "param", "host"};

    private final int routes;

    RouteFeeder(int routes) {
        this.routes = routes;
    }

    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public Map<String, Object> next() {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        return row(rnd.nextInt(routes), rnd.nextInt(1000));
    }

    static Map<String, Object> row(int i, int id) {
        String kind = KINDS[i & 3];
        String path = switch (i & 3) {
            case 0, 3 -> "/r/" + i;
            case 1 -> "/r/" + i + "/x";
            default -> "/r/" + i + "/items/" + id;
        };
        String host = (i & 3) == 3 ? "h" + i + ".example.test" : "plain.example.test";
        return Map.of("kind", kind, "path", path, "host", host);
    }
}
