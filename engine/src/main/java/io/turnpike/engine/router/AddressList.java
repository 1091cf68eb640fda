package io.turnpike.engine.router;

import java.util.List;

/**
 * A list of IPv4/IPv6 addresses and CIDRs matched against the client address of a request (the route's
 * {@code remote_addrs} matcher, exposed for plugins such as ip-restriction). Immutable; no allocation per match.
 */
public final class AddressList {
    private final IpMatcher matcher;

    private AddressList(IpMatcher matcher) {
        this.matcher = matcher;
    }

    /** @throws IllegalArgumentException for an entry that is not an address or CIDR */
    public static AddressList compile(List<String> entries) {
        return new AddressList(IpMatcher.compile(entries));
    }

    /** True when the request's client address ({@link MatchScratch#remoteAddress}) is in the list. */
    public boolean contains(MatchScratch request) {
        return matcher != null && matcher.matches(request);
    }
}
