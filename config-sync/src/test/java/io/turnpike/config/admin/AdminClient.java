package io.turnpike.config.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A small JDK HttpClient wrapper for the Admin API tests (HTTP/1.1, real sockets on loopback). */
final class AdminClient {
    static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, String text, JsonNode json) {
        String errorMsg() {
            return json == null ? null : json.path("error_msg").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + text;
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    volatile String key;

    AdminClient(InetSocketAddress addr, String key) {
        this.base = "http://127.0.0.1:" + addr.getPort();
        this.key = key;
    }

    Reply get(String path) {
        return send("GET", path, null);
    }

    Reply put(String path, String body) {
        return send("PUT", path, body);
    }

    Reply post(String path, String body) {
        return send("POST", path, body);
    }

    Reply patch(String path, String body) {
        return send("PATCH", path, body);
    }

    Reply delete(String path) {
        return send("DELETE", path, null);
    }

    Reply send(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (key != null) {
            b.header("X-API-KEY", key);
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode n = null;
            if (!r.body().isEmpty()) {
                try {
                    n = JSON.readTree(r.body());
                } catch (IOException e) {
                    n = null;
                }
            }
            return new Reply(r.statusCode(), r.body(), n);
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
