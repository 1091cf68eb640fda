package io.turnpike.engine.router;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.turnpike.engine.router.RouterFixture.match;
import static io.turnpike.engine.router.RouterFixture.req;
import static io.turnpike.engine.router.RouterFixture.route;
import static io.turnpike.engine.router.RouterFixture.table;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Cases taken from APISIX's documented matching rules: docs/en/latest/router-radixtree.md ("1. Full match",
 * "2. Prefix matching", "3. Match priority" table, "4. Different routes have the same uri", "5. Parameter match",
 * "How to filter route by Nginx builtin variable") and lua-resty-radixtree's README ("Parameters in path", priority).
 * Expected "-" means 404.
 */
class ApisixDocumentedCasesTest {
    private static RouteTable t;

    @BeforeAll
    static void build() {
        t = table(""
                // 1. Full match / 3. Match priority
                + route("blog-foo", "    uri: /blog/foo\n")
                + route("blog-foo-star", "    uri: /blog/foo/*\n")
                + route("blog-foo-a-star", "    uri: /blog/foo/a/*\n")
                + route("blog-foo-c-star", "    uri: /blog/foo/c/*\n")
                + route("blog-foo-bar", "    uri: /blog/foo/bar\n")
                // 2. Prefix matching
                + route("blog-bar-star", "    uri: /blog/bar*\n")
                // 4.1 same uri, priority 3 beats 2
                + route("hello-p2", "    uri: /hello\n    priority: 2\n")
                + route("hello-p3", "    uri: /hello\n    priority: 3\n")
                // 4.2 same uri, different hosts; no host-less route for it
                + route("hi-localhost", "    uri: /hi\n    hosts: [localhost.com]\n")
                + route("hi-test", "    uri: /hi\n    hosts: [test.com]\n")
                // 5. Parameter match; radixtree README: /name/:name/id/:id, /user/:user/*action
                + route("blog-param", "    uri: /param/:name\n")
                + route("name-id-params", "    uri: /name/:name/id/:id\n")
                + route("user-param-rest", "    uri: /user/:user/*action\n")
                // filter by builtin variables (the doc's example; host as a header var)
                + route("vars", "    uri: /index.html\n    vars: [[\"http_host\", \"==\", \"iresty.com\"],"
                + " [\"cookie_device_id\", \"==\", \"a66f0cdc4ba2df8c096f74c9110163a9\"], [\"arg_name\", \"==\", \"json\"],"
                + " [\"arg_age\", \">\", \"18\"], [\"arg_address\", \"~~\", \"China.*\"]]\n"));
    }

    @ParameterizedTest(name = "{0} {1} host={2} -> {3}")
    @CsvSource(delimiter = '|', value = {
            "full match              | /blog/foo         | h             | blog-foo",
            "priority table          | /blog/foo/bar     | h             | blog-foo-bar",
            "priority table          | /blog/foo/a/b/c   | h             | blog-foo-a-star",
            "priority table          | /blog/foo/c/d     | h             | blog-foo-c-star",
            "priority table          | /blog/foo/gloo    | h             | blog-foo-star",
            "prefix matching         | /blog/bar         | h             | blog-bar-star",
            "prefix matching         | /blog/bar/a       | h             | blog-bar-star",
            "prefix matching         | /blog/bar/c/d/e   | h             | blog-bar-star",
            "not a prefix            | /blog/ba          | h             | -",
            "same uri, priority      | /hello            | h             | hello-p3",
            "same uri, hosts         | /hi               | localhost.com | hi-localhost",
            "same uri, hosts         | /hi               | test.com      | hi-test",
            "same uri, no host match | /hi               | other.com     | -",
            "parameter               | /param/dog        | h             | blog-param",
            "parameter               | /param/cat        | h             | blog-param",
            "parameter, one segment  | /param/cat/x      | h             | -",
            "two parameters          | /name/json/id/1   | h             | name-id-params",
            "two parameters          | /name/json/id/    | h             | -",
            "param and rest          | /user/1/a/b       | h             | user-param-rest",
            "param and rest, empty   | /user/1/          | h             | user-param-rest",
            "param and rest, missing | /user/1           | h             | -",
    })
    void documentedPathAndHostCases(String rule, String path, String host, String expected) {
        assertEquals("-".equals(expected) ? null : expected, match(t, path, host), rule);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "/index.html?name=json&age=19&address=China%20Beijing | iresty.com | device_id=a66f0cdc4ba2df8c096f74c9110163a9 | vars",
            "/index.html?name=json&age=18&address=China%20Beijing | iresty.com | device_id=a66f0cdc4ba2df8c096f74c9110163a9 | -",
            "/index.html?name=json&age=19&address=USA             | iresty.com | device_id=a66f0cdc4ba2df8c096f74c9110163a9 | -",
            "/index.html?name=json&age=19&address=China           | other.com  | device_id=a66f0cdc4ba2df8c096f74c9110163a9 | -",
            "/index.html?name=json&age=19&address=China           | iresty.com | device_id=x                                | -",
    })
    void documentedVarsExample(String target, String host, String cookie, String expected) {
        assertEquals("-".equals(expected) ? null : expected,
                match(t, req(target).host(host).header("Cookie: " + cookie)));
    }
}
