package io.turnpike.bench;

/** The HTTP messages the codec and pipeline benchmarks replay. Plain ASCII, CRLF line ends. */
final class Messages {
    private Messages() {
    }

    /** What {@code curl http://api.example.com/api/v1/users/42} sends (93 bytes). */
    static final String SMALL_GET = "GET /api/v1/users/42 HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: curl/8.5.0\r\n"
            + "Accept: */*\r\n"
            + "\r\n";

    /** A browser navigation with the usual header set and a session cookie (615 bytes). */
    static final String BROWSER_GET = "GET /account/orders?page=2&sort=date HTTP/1.1\r\n"
            + "Host: shop.example.com\r\n"
            + "Connection: keep-alive\r\n"
            + "Upgrade-Insecure-Requests: 1\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            + "Chrome/124.0.0.0 Safari/537.36\r\n"
            + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
            + "Sec-Fetch-Site: same-origin\r\n"
            + "Sec-Fetch-Mode: navigate\r\n"
            + "Sec-Fetch-Dest: document\r\n"
            + "Referer: https://shop.example.com/account\r\n"
            + "Accept-Encoding: gzip, deflate, br\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\n"
            + "Cookie: session=9f86d081884c7d659a2feaa0c55ad015; csrftoken=a3f1c9e2b7d4; theme=dark\r\n"
            + "\r\n";

    /** A JSON API POST: head plus a 64-byte body. */
    static final String POST_HEAD_64 = "POST /api/v1/orders HTTP/1.1\r\n"
            + "Host: api.example.com\r\n"
            + "User-Agent: okhttp/4.12.0\r\n"
            + "Accept: application/json\r\n"
            + "Content-Type: application/json\r\n"
            + "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl\r\n"
            + "Content-Length: 64\r\n"
            + "\r\n";
    static final String BODY_64 = "{\"sku\":\"A-1001\",\"qty\":2,\"note\":\"" + Bytes.repeat('x', 64 - 34) + "\"}";

    /** A typical JSON API response head with Content-Length (the body is appended by the user). */
    static String responseHead(int contentLength) {
        return "HTTP/1.1 200 OK\r\n"
                + "Date: Mon, 06 May 2024 10:00:00 GMT\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: " + contentLength + "\r\n"
                + "Cache-Control: no-store\r\n"
                + "X-Request-Id: 7d1c2a9e-4b1f-4a8e-9c3d-2f6e8b0a1c5d\r\n"
                + "\r\n";
    }

    /** A JSON body of exactly {@code n} bytes (n >= 10). */
    static String jsonBody(int n) {
        return "{\"d\":\"" + Bytes.repeat('a', n - 8) + "\"}";
    }

    /** A chunked response: the same head with Transfer-Encoding, three data chunks and the last chunk. */
    static final String CHUNKED_RESPONSE = "HTTP/1.1 200 OK\r\n"
            + "Date: Mon, 06 May 2024 10:00:00 GMT\r\n"
            + "Content-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n"
            + "Cache-Control: no-store\r\n"
            + "X-Request-Id: 7d1c2a9e-4b1f-4a8e-9c3d-2f6e8b0a1c5d\r\n"
            + "\r\n"
            + "40\r\n" + Bytes.repeat('a', 64) + "\r\n"
            + "100\r\n" + Bytes.repeat('b', 256) + "\r\n"
            + "20;ext=1\r\n" + Bytes.repeat('c', 32) + "\r\n"
            + "0\r\n\r\n";
}
