package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The limit plugins' schema checks: APISIX's wording (t/plugin/limit-*.t) and Turnpike's fail-closed refusals. */
class LimitPluginSchemasTest {
    static final ObjectMapper M = new ObjectMapper();

    static ObjectNode o(String json) throws Exception {
        return (ObjectNode) M.readTree(json.replace('\'', '"'));
    }

    @Test
    void limitCount() throws Exception {
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60,'rejected_code':429,"
                + "'rejected_msg':'no','key':'http_x_user','group':'g','window_type':'sliding',"
                + "'show_limit_quota_header':false,'allow_degradation':true,'_meta':{'disable':false}}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60,'key_type':'var_combination',"
                + "'key':'$remote_addr $consumer_name'}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60,'key_type':'constant','key':'x y'}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60,'policy':'redis',"
                + "'redis_host':'127.0.0.1','redis_port':6379,'redis_timeout':1001,'redis_database':1}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':2,'time_window':60,'policy':'redis-cluster',"
                + "'redis_cluster_nodes':['127.0.0.1:5000','127.0.0.1:5001'],'redis_cluster_name':'c'}")));
        assertEquals("property \"count\" is required", LimitPluginSchemas.limitCount(o("{'time_window':60}")));
        assertEquals("property \"count\" validation failed: expected 0 to be at least 1",
                LimitPluginSchemas.limitCount(o("{'count':0,'time_window':60}")));
        assertEquals("property \"time_window\": at most 315360000 seconds (10 years) is supported",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':315360001}")));
        assertEquals("property \"count\": at most 16777215 is supported with window_type sliding",
                LimitPluginSchemas.limitCount(o("{'count':16777216,'time_window':1,'window_type':'sliding'}")));
        assertNull(LimitPluginSchemas.limitCount(o("{'count':16777216,'time_window':1}")));
        assertEquals("property \"count\": at most 4294967294 is supported",
                LimitPluginSchemas.limitCount(o("{'count':4294967295,'time_window':1}")));
        assertEquals("property \"rejected_code\" validation failed: expected 600 to be at most 599",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'rejected_code':600}")));
        assertEquals("property \"window_type\" validation failed: matches none of the enum values",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'window_type':'leaky'}")));
        assertEquals("property \"window_type\": sliding is supported with policy local only (the Redis policies"
                        + " lease quota of fixed windows)",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'window_type':'sliding','policy':'redis',"
                        + "'redis_host':'127.0.0.1'}")));
        assertEquals("then clause did not match: property \"redis_host\" is required",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'policy':'redis'}")));
        assertEquals("else clause did not match: property \"redis_cluster_nodes\" is required",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'policy':'redis-cluster'}")));
        assertEquals("additional properties forbidden, found redis_host",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'redis_host':'x'}")));
        // Fail closed: what Turnpike does not act on is refused with the reason.
        assertEquals("property \"rules\" is not supported yet: configure one limit-count per route, service or"
                + " consumer (or a group)", LimitPluginSchemas.limitCount(o("{'rules':[]}")));
        assertEquals("property \"count\": values from variables are not supported yet, give an integer",
                LimitPluginSchemas.limitCount(o("{'count':'$http_count','time_window':60}")));
        assertEquals("property \"policy\": redis-sentinel is not supported yet (use redis or redis-cluster)",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'policy':'redis-sentinel'}")));
        assertEquals("property \"sync_interval\": delayed synchronisation is not supported (Turnpike's Redis leases"
                        + " already keep Redis off the request path: leave it out or -1)",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'policy':'redis','redis_host':'h1',"
                        + "'sync_interval':5}")));
        assertEquals("property \"key\": variable \"server_name\" is not supported (supported: args, consumer_name,"
                        + " host, query_string, remote_addr, request_method, request_uri, route_id, scheme, uri,"
                        + " http_*, arg_*)",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'key':'server_name'}")));
        assertEquals("property \"key\": key_type var_combination needs at least one $variable",
                LimitPluginSchemas.limitCount(o("{'count':1,'time_window':60,'key_type':'var_combination',"
                        + "'key':'plain'}")));
    }

    @Test
    void limitReq() throws Exception {
        assertNull(LimitPluginSchemas.limitReq(o("{'rate':1,'burst':0,'key':'remote_addr'}")));
        assertNull(LimitPluginSchemas.limitReq(o("{'rate':0.5,'burst':2.5,'key':'remote_addr','nodelay':true,"
                + "'rejected_code':429}")));
        assertEquals("property \"rate\" is required", LimitPluginSchemas.limitReq(o("{'burst':0,'key':'remote_addr'}")));
        assertEquals("property \"key\" is required", LimitPluginSchemas.limitReq(o("{'rate':1,'burst':0}")));
        assertEquals("property \"rate\" validation failed: expected 0 to be greater than 0",
                LimitPluginSchemas.limitReq(o("{'rate':0,'burst':0,'key':'remote_addr'}")));
        assertEquals("property \"burst\" validation failed: expected -1 to be at least 0",
                LimitPluginSchemas.limitReq(o("{'rate':1,'burst':-1,'key':'remote_addr'}")));
        assertEquals("property \"burst\": at most 67000 is supported with policy local",
                LimitPluginSchemas.limitReq(o("{'rate':1,'burst':67001,'key':'remote_addr'}")));
        assertNull(LimitPluginSchemas.limitReq(o("{'rate':1,'burst':67001,'key':'remote_addr','policy':'redis',"
                + "'redis_host':'127.0.0.1'}")));
        assertEquals("property \"key_type\" validation failed: matches none of the enum values",
                LimitPluginSchemas.limitReq(o("{'rate':1,'burst':0,'key':'x','key_type':'constant'}")));
    }

    @Test
    void limitConn() throws Exception {
        assertNull(LimitPluginSchemas.limitConn(o("{'conn':1,'burst':0,'default_conn_delay':0.1,"
                + "'key':'remote_addr'}")));
        assertEquals("property \"default_conn_delay\" is required",
                LimitPluginSchemas.limitConn(o("{'conn':1,'burst':0,'key':'remote_addr'}")));
        assertEquals("property \"conn\" validation failed: expected 0 to be at least 1",
                LimitPluginSchemas.limitConn(o("{'conn':0,'burst':0,'default_conn_delay':0.1,'key':'remote_addr'}")));
        assertEquals("additional properties forbidden, found key_ttl",
                LimitPluginSchemas.limitConn(o("{'conn':1,'burst':0,'default_conn_delay':0.1,'key':'remote_addr',"
                        + "'key_ttl':10}")));
    }

    @Test
    void registeredForRoutesAndConsumersNotMetadata() throws Exception {
        PluginRegistry r = PluginRegistry.builtin();
        assertNull(r.check(o("{'limit-count':{'count':1,'time_window':1}}"), PluginRegistry.SchemaType.ROUTE));
        assertNull(r.check(o("{'limit-count':{'count':1,'time_window':1}}"), PluginRegistry.SchemaType.CONSUMER));
        assertEquals("failed to check the configuration of plugin limit-req err: plugin metadata is not supported"
                        + " for this plugin", r.check(o("{'limit-req':{'rate':1,'burst':1,'key':'remote_addr'}}"),
                        PluginRegistry.SchemaType.METADATA).message());
    }
}
