package io.turnpike.config.process;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The access log's line format: nginx/APISIX {@code access_log_format} syntax, text with {@code $name} or
 * {@code ${name}} variables. Parsed and checked when config.yaml is read (an unknown variable is an error naming it);
 * rendered by the engine's log writer thread. Immutable.
 */
public final class AccessLogFormat {
    /** APISIX's default {@code access_log_format}, without its last field (see docs/logging.md). */
    public static final String DEFAULT = "$remote_addr - $remote_user [$time_local] $http_host \"$request\" $status"
            + " $body_bytes_sent $request_time \"$http_referer\" \"$http_user_agent\" $upstream_addr $upstream_status"
            + " $upstream_response_time";
    /** {@code format: json}: one JSON object per line (rendered with JSON escaping). */
    public static final String JSON = "{\"time\":\"$time_iso8601\",\"remote_addr\":\"$remote_addr\","
            + "\"remote_user\":\"$remote_user\",\"host\":\"$host\",\"request_method\":\"$request_method\","
            + "\"request_uri\":\"$request_uri\",\"server_protocol\":\"$server_protocol\",\"status\":$status,"
            + "\"body_bytes_sent\":$body_bytes_sent,\"bytes_sent\":$bytes_sent,\"request_length\":$request_length,"
            + "\"request_time\":$request_time,\"upstream_addr\":\"$upstream_addr\","
            + "\"upstream_status\":\"$upstream_status\",\"upstream_response_time\":\"$upstream_response_time\","
            + "\"route_id\":\"$route_id\",\"consumer_name\":\"$consumer_name\",\"trace_id\":\"$trace_id\","
            + "\"http_referer\":\"$http_referer\",\"http_user_agent\":\"$http_user_agent\",\"scheme\":\"$scheme\"}";

    /** Every variable Turnpike renders; plus {@code http_<header name>} (any request header, '_' for '-'). */
    public static final Set<String> VARIABLES = Set.of("remote_addr", "remote_user", "time_local", "time_iso8601",
            "msec", "request", "request_method", "request_uri", "uri", "args", "query_string", "server_protocol",
            "scheme", "host", "server_port", "status", "body_bytes_sent", "bytes_sent", "request_length", "request_time",
            "upstream_addr", "upstream_status", "upstream_response_time", "route_id", "consumer_name", "trace_id",
            "apisix_latency");

    /** One piece of a format: literal text, or a variable's name (without '$'). */
    public record Part(boolean variable, String text) {
    }

    private final String source;
    private final List<Part> parts;

    private AccessLogFormat(String source, List<Part> parts) {
        this.source = source;
        this.parts = List.copyOf(parts);
    }

    public String source() {
        return source;
    }

    public List<Part> parts() {
        return parts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AccessLogFormat f && f.source.equals(source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    @Override
    public String toString() {
        return source;
    }

    /** Parses {@code format}; throws IllegalArgumentException naming the first unknown or malformed variable. */
    public static AccessLogFormat parse(String format) {
        List<Part> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        int i = 0;
        int n = format.length();
        while (i < n) {
            char c = format.charAt(i);
            if (c != '$') {
                lit.append(c);
                i++;
                continue;
            }
            int start;
            int end;
            int next;
            if (i + 1 < n && format.charAt(i + 1) == '{') {
                start = i + 2;
                end = format.indexOf('}', start);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated variable \"${\" at character " + (i + 1));
                }
                next = end + 1;
            } else {
                start = i + 1;
                end = start;
                while (end < n && isNameChar(format.charAt(end))) {
                    end++;
                }
                next = end;
            }
            String name = format.substring(start, end);
            if (name.isEmpty()) {
                lit.append('$'); // a lone '$' is text, as nginx writes it
                i++;
                continue;
            }
            for (int k = 0; k < name.length(); k++) {
                if (!isNameChar(name.charAt(k))) {
                    throw new IllegalArgumentException("invalid variable name \"" + name + "\"");
                }
            }
            if (!known(name)) {
                throw new IllegalArgumentException("unknown variable \"$" + name + "\" (known: $"
                        + String.join(", $", VARIABLES.stream().sorted().toList()) + ", $http_<header>)");
            }
            if (lit.length() > 0) {
                parts.add(new Part(false, lit.toString()));
                lit.setLength(0);
            }
            parts.add(new Part(true, name));
            i = next;
        }
        if (lit.length() > 0) {
            parts.add(new Part(false, lit.toString()));
        }
        return new AccessLogFormat(format, parts);
    }

    static boolean known(String name) {
        return VARIABLES.contains(name) || (name.startsWith("http_") && name.length() > 5);
    }

    private static boolean isNameChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }
}
