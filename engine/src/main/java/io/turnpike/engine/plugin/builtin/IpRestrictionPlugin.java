package io.turnpike.engine.plugin.builtin;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.turnpike.engine.plugin.LocalReply;
import io.turnpike.engine.plugin.PluginContext;
import io.turnpike.engine.plugin.PluginFactory;
import io.turnpike.engine.plugin.PluginSpec;
import io.turnpike.engine.router.AddressList;

import java.util.List;
import java.util.Set;

/**
 * APISIX {@code ip-restriction}: {@code whitelist} (only these addresses/CIDRs) or {@code blacklist} (all but these),
 * IPv4 and IPv6, answered with {@code response_code} (403) and {@code {"message": message}} in the access phase.
 */
public final class IpRestrictionPlugin extends PluginSpec {
    static final String NAME = "ip-restriction";
    private final AddressList whitelist;
    private final AddressList blacklist;
    private final LocalReply denied;

    IpRestrictionPlugin(AddressList whitelist, AddressList blacklist, LocalReply denied) {
        super(NAME, 3000);
        this.whitelist = whitelist;
        this.blacklist = blacklist;
        this.denied = denied;
    }

    @Override
    public int phases() {
        return PHASE_ACCESS;
    }

    @Override
    public int access(PluginContext x) {
        if (whitelist != null && !whitelist.contains(x.match())) {
            return x.reply(denied);
        }
        if (blacklist != null && blacklist.contains(x.match())) {
            return x.reply(denied);
        }
        return CONTINUE;
    }

    public static final class Factory implements PluginFactory {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 3000;
        }

        @Override
        public PluginSpec compile(ObjectNode c) {
            Conf.only(NAME, c, Set.of("whitelist", "blacklist", "message", "response_code", "_meta"));
            List<String> w = c.has("whitelist") ? Conf.strings(c, "whitelist") : null;
            List<String> b = c.has("blacklist") ? Conf.strings(c, "blacklist") : null;
            if ((w == null) == (b == null)) {
                throw new IllegalArgumentException(NAME + ": exactly one of whitelist and blacklist is required");
            }
            return new IpRestrictionPlugin(w == null ? null : AddressList.compile(w),
                    b == null ? null : AddressList.compile(b),
                    LocalReply.message(Conf.integer(c, "response_code", 403),
                            Conf.str(c, "message", "Your IP address is not allowed")));
        }
    }
}
