package io.turnpike.config.plugin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The auth plugins' schema checks: APISIX 3.x wording (t/plugin/*.t) and Turnpike's fail-closed refusals. */
class AuthPluginSchemasTest {
    static final ObjectMapper M = new ObjectMapper();

    static ObjectNode o(String json) throws Exception {
        return (ObjectNode) M.readTree(json.replace('\'', '"'));
    }

    @Test
    void basicAuthConsumer() throws Exception {
        assertNull(AuthPluginSchemas.basicAuth(o("{'username':'foo','password':'bar'}"), true));
        assertNull(AuthPluginSchemas.basicAuth(o("{'username':'foo','password':''}"), true));
        assertEquals("property \"password\" is required",
                AuthPluginSchemas.basicAuth(o("{'username':'foo'}"), true));
        assertEquals("property \"username\" is required", AuthPluginSchemas.basicAuth(o("{}"), true));
        assertEquals("property \"username\" validation failed: wrong type: expected string, got number",
                AuthPluginSchemas.basicAuth(o("{'username':123,'password':'bar'}"), true));
        assertEquals("additional properties forbidden, found key",
                AuthPluginSchemas.basicAuth(o("{'username':'a','password':'b','key':'c'}"), true));
        assertEquals("property \"password\": secret references ($secret://, $env://) are not supported by Turnpike"
                + " yet", AuthPluginSchemas.basicAuth(o("{'username':'a','password':'$secret://vault/1/a/pw'}"), true));
    }

    @Test
    void basicAuthRoute() throws Exception {
        assertNull(AuthPluginSchemas.basicAuth(o("{}"), false));
        assertNull(AuthPluginSchemas.basicAuth(o("{'hide_credentials':true,'realm':'my realm','_meta':{}}"), false));
        assertEquals("property \"hide_credentials\" validation failed: wrong type: expected boolean, got string",
                AuthPluginSchemas.basicAuth(o("{'hide_credentials':'yes'}"), false));
        assertEquals("property \"realm\" validation failed: string too short, expected at least 1, got 0",
                AuthPluginSchemas.basicAuth(o("{'realm':''}"), false));
        assertEquals("property \"realm\" validation failed: failed to match pattern "
                        + "\"^[\\x20-\\x21\\x23-\\x5B\\]-\\x7E]+$\" with \"a\"b\"",
                AuthPluginSchemas.basicAuth(o("{'realm':'a\\'b'}"), false));
        assertEquals("anonymous_consumer is not supported by Turnpike yet",
                AuthPluginSchemas.basicAuth(o("{'anonymous_consumer':'anon'}"), false));
        assertEquals("additional properties forbidden, found username",
                AuthPluginSchemas.basicAuth(o("{'username':'x'}"), false));
    }

    @Test
    void consumerRestriction() throws Exception {
        assertNull(AuthPluginSchemas.consumerRestriction(o("{'whitelist':['jack1','jack2']}")));
        assertNull(AuthPluginSchemas.consumerRestriction(o("{'blacklist':['a'],'rejected_code':401,"
                + "'rejected_msg':'no','type':'consumer_group_id'}")));
        // APISIX TEST 2: all three, allowed_by_methods empty.
        assertNull(AuthPluginSchemas.consumerRestriction(o("{'whitelist':['jack1'],'blacklist':['jack2'],"
                + "'allowed_by_methods':[]}")));
        assertNull(AuthPluginSchemas.consumerRestriction(o("{'allowed_by_methods':[{'user':'jack',"
                + "'methods':['POST','PURGE']}]}")));
        assertEquals("object matches none of the required: [\"blacklist\"] or [\"whitelist\"] or "
                + "[\"allowed_by_methods\"]", AuthPluginSchemas.consumerRestriction(o("{'type':'consumer_name'}")));
        assertEquals("property \"whitelist\" validation failed: expect array to have at least 1 items",
                AuthPluginSchemas.consumerRestriction(o("{'whitelist':[]}")));
        assertEquals("property \"whitelist\" validation failed: failed to validate item 2: wrong type: expected "
                + "string, got number", AuthPluginSchemas.consumerRestriction(o("{'whitelist':['a',1]}")));
        assertEquals("property \"type\" validation failed: matches none of the enum values",
                AuthPluginSchemas.consumerRestriction(o("{'type':'ip','whitelist':['a']}")));
        assertEquals("property \"rejected_code\" validation failed: expected 100 to be at least 200",
                AuthPluginSchemas.consumerRestriction(o("{'whitelist':['a'],'rejected_code':100}")));
        assertEquals("property \"allowed_by_methods\" validation failed: failed to validate item 1: property "
                        + "\"methods\" validation failed: failed to validate item 1: matches none of the enum values",
                AuthPluginSchemas.consumerRestriction(o("{'allowed_by_methods':[{'user':'a','methods':['FETCH']}]}")));
        assertEquals("property \"allowed_by_methods\" validation failed: failed to validate item 1: property "
                        + "\"methods\" validation failed: expect array to have at least 1 items",
                AuthPluginSchemas.consumerRestriction(o("{'allowed_by_methods':[{'user':'a','methods':[]}]}")));
        assertEquals("type route_id is not supported by Turnpike yet (it restricts a consumer's routes; consumer"
                        + " plugins are not merged into routes)",
                AuthPluginSchemas.consumerRestriction(o("{'type':'route_id','whitelist':['1']}")));
        assertEquals("additional properties forbidden, found title",
                AuthPluginSchemas.consumerRestriction(o("{'title':'whitelist','whitelist':['a']}")));
    }

    @Test
    void jwtAuthConsumer() throws Exception {
        assertNull(AuthPluginSchemas.jwtAuth(o("{'key':'user-key','secret':'s'}"), true));
        assertNull(AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'s','algorithm':'HS512','exp':1,"
                + "'lifetime_grace_period':0,'base64_secret':false}"), true));
        assertNull(AuthPluginSchemas.jwtAuth(o("{'key':'k','algorithm':'RS256','public_key':'pem',"
                + "'private_key':'pem'}"), true));
        assertNull(AuthPluginSchemas.jwtAuth(o("{'key':'k','algorithm':'ES256','public_key':'pem'}"), true));
        assertEquals("property \"key\" is required", AuthPluginSchemas.jwtAuth(o("{'secret':'s'}"), true));
        assertEquals("property \"key\" validation failed: wrong type: expected string, got number",
                AuthPluginSchemas.jwtAuth(o("{'key':123}"), true));
        assertEquals("property \"key\" validation failed: string too short, expected at least 1, got 0",
                AuthPluginSchemas.jwtAuth(o("{'key':'','secret':'s'}"), true));
        assertEquals("property \"secret\" validation failed: string too short, expected at least 1, got 0",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':''}"), true));
        assertEquals("property \"secret\" is required when using HS based algorithms",
                AuthPluginSchemas.jwtAuth(o("{'key':'k'}"), true));
        assertEquals("property \"secret\" is required when using HS based algorithms",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','algorithm':'HS512'}"), true));
        assertEquals("failed to validate dependent schema for \"algorithm\": value should match only one schema, "
                + "but matches none", AuthPluginSchemas.jwtAuth(o("{'key':'k','algorithm':'RS256'}"), true));
        assertEquals("property \"algorithm\" validation failed: matches none of the enum values",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'s','algorithm':'none'}"), true));
        assertEquals("base64_secret required but the secret is not in base64 format",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'^^^','base64_secret':true}"), true));
        assertEquals("property \"exp\" validation failed: expected 0 to be at least 1",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'s','exp':0}"), true));
        assertEquals("property \"lifetime_grace_period\" validation failed: expected -1 to be at least 0",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'s','lifetime_grace_period':-1}"), true));
        assertEquals("algorithm PS256 is not supported by Turnpike yet (supported: HS256, HS384, HS512, RS256, RS384,"
                        + " RS512, ES256, ES384, ES512)",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','algorithm':'PS256','public_key':'pem'}"), true));
        assertEquals("property \"secret\": secret references ($secret://, $env://) are not supported by Turnpike"
                + " yet", AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'$env://JWT_SECRET'}"), true));
        assertEquals("additional properties forbidden, found password",
                AuthPluginSchemas.jwtAuth(o("{'key':'k','secret':'s','password':'x'}"), true));
    }

    @Test
    void jwtAuthRoute() throws Exception {
        assertNull(AuthPluginSchemas.jwtAuth(o("{}"), false));
        assertNull(AuthPluginSchemas.jwtAuth(o("{'header':'X-Token','query':'t','cookie':'c','hide_credentials':true,"
                + "'key_claim_name':'iss','realm':'api','claims_to_verify':['exp','nbf'],'store_in_ctx':false}"),
                false));
        assertEquals("property \"key_claim_name\" validation failed: string too short, expected at least 1, got 0",
                AuthPluginSchemas.jwtAuth(o("{'key_claim_name':''}"), false));
        assertEquals("property \"claims_to_verify\" validation failed: failed to validate item 1: matches none of "
                + "the enum values", AuthPluginSchemas.jwtAuth(o("{'claims_to_verify':['iat']}"), false));
        assertEquals("property \"claims_to_verify\" validation failed: expected unique items but items 1 and 2 are "
                + "equal", AuthPluginSchemas.jwtAuth(o("{'claims_to_verify':['exp','exp']}"), false));
        assertEquals("store_in_ctx: true is not supported by Turnpike (no plugin reads the stored payload)",
                AuthPluginSchemas.jwtAuth(o("{'store_in_ctx':true}"), false));
        assertEquals("anonymous_consumer is not supported by Turnpike yet",
                AuthPluginSchemas.jwtAuth(o("{'anonymous_consumer':'anon'}"), false));
        assertEquals("additional properties forbidden, found key",
                AuthPluginSchemas.jwtAuth(o("{'key':'k'}"), false));
        assertEquals("property \"header\" validation failed: wrong type: expected string, got boolean",
                AuthPluginSchemas.jwtAuth(o("{'header':true}"), false));
    }
}
