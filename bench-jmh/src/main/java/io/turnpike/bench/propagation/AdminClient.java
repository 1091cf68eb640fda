package io.turnpike.bench.propagation;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** PUTs routes through the APISIX v3 Admin API ({@code PUT /apisix/admin/routes/{id}} with {@code X-API-KEY}). */
final class AdminClient {
    private final HttpClient http;
    private final String base;
    private final String key;
    private final Duration timeout;

    AdminClient(String baseUrl, String key, Duration timeout) {
        this.base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.key = key;
        this.timeout = timeout;
        // HTTP/1.1 with keep-alive: the client pools one connection per concurrent caller.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    /** The answer to one write: status and (for a failure) the body. */
    record Result(int status, String body) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    Result put(String resource, String id, String json) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/apisix/admin/" + resource + "/" + id))
                .timeout(timeout)
                .header("X-API-KEY", key)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        return new Result(resp.statusCode(), resp.body());
    }
    /** {@code PUT /apisix/admin/{resource}} (consumers: the username is in the body). */
    Result putCollection(String resource, String json) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/apisix/admin/" + resource))
                .timeout(timeout)
                .header("X-API-KEY", key)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json))
                .build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        return new Result(resp.statusCode(), resp.body());
    }

    Result get(String path) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .header("X-API-KEY", key).GET().build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        return new Result(resp.statusCode(), resp.body());
    }
}
