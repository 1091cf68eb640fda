package io.turnpike.engine.endpoint;

import io.turnpike.engine.upstream.Balancer;
import io.turnpike.engine.upstream.BalancerSpec;
import io.turnpike.engine.upstream.Balancers;
import io.turnpike.engine.upstream.NodeAddress;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * One upstream's members as the loops use them: every node (configured and discovered), which of them are up, and the
 * balancer specs of the available nodes grouped by {@code priority}, highest first. Immutable; built off the loops by
 * {@link EndpointSlot} whenever membership or health changes, and read by the loops through the slot's volatile
 * reference.
 *
 * <p>Availability follows APISIX ({@code fetch_health_nodes}): the healthy nodes; when none is healthy, every node (the
 * checker may be wrong, or the whole upstream is down and the answer will say so). Priority follows APISIX's priority
 * balancer: a request goes to the highest priority with an available node; a retry moves to the next priority once
 * every node of the current one was tried ({@link PriorityBalancer}).
 */
public final class Endpoints {
    /** Increases with every change of the slot. */
    public final long generation;
    /** Every member, in configuration order (discovered nodes after configured ones). */
    public final NodeAddress[] nodes;
    private final boolean[] up;
    /** Balancer specs of the available nodes by priority, highest first; empty when there is no node. */
    final BalancerSpec[] groups;
    /** The priority of each group. */
    final int[] priorities;
    /** True when no node is up and every node is used (APISIX's fallback). */
    public final boolean allDown;

    Endpoints(long generation, NodeAddress[] nodes, boolean[] up, String type, String hashOn, String key) {
        this(generation, nodes, up, type, hashOn, key, null);
    }

    /** @param prebuilt the spec compiled over exactly {@code nodes}, used when they form one available group */
    Endpoints(long generation, NodeAddress[] nodes, boolean[] up, String type, String hashOn, String key,
              BalancerSpec prebuilt) {
        this.generation = generation;
        this.nodes = nodes;
        this.up = up;
        boolean anyUp = false;
        for (boolean u : up) {
            anyUp |= u;
        }
        this.allDown = !anyUp && nodes.length > 0;
        TreeSet<Integer> prios = new TreeSet<>(java.util.Comparator.reverseOrder());
        for (int i = 0; i < nodes.length; i++) {
            if (up[i] || !anyUp) {
                prios.add(nodes[i].priority);
            }
        }
        groups = new BalancerSpec[prios.size()];
        priorities = new int[prios.size()];
        int g = 0;
        for (int p : prios) {
            List<NodeAddress> members = new ArrayList<>();
            for (int i = 0; i < nodes.length; i++) {
                if ((up[i] || !anyUp) && nodes[i].priority == p) {
                    members.add(nodes[i]);
                }
            }
            NodeAddress[] arr = members.size() == nodes.length ? nodes : members.toArray(new NodeAddress[0]);
            BalancerSpec spec;
            if (prebuilt != null && arr == nodes && prebuilt.nodes == nodes) {
                spec = prebuilt;
            } else try {
                spec = Balancers.compile(type, arr, hashOn, key, null);
            } catch (IllegalArgumentException e) {
                spec = Balancers.compile(Balancers.ROUNDROBIN, arr, null, null, null);
            }
            groups[g] = spec;
            priorities[g] = p;
            g++;
        }
    }

    /** Endpoints of a fixed node set, every node up (tests, tools, and targets compiled without a slot). */
    public static Endpoints of(NodeAddress[] nodes, String type, String hashOn, String key) {
        boolean[] up = new boolean[nodes.length];
        Arrays.fill(up, true);
        return new Endpoints(0, nodes, up, type, hashOn, key);
    }

    /** Whether the node at {@code position} of {@link #nodes} is up (healthy, or not checked). */
    public boolean isUp(int position) {
        return up[position];
    }

    /** Available nodes (all of them when {@link #allDown}). */
    public int available() {
        int n = 0;
        for (BalancerSpec s : groups) {
            n += s.nodes.length;
        }
        return n;
    }

    /** A balancer for one loop (call on that loop): the group's own for one priority, else a {@link PriorityBalancer}. */
    public Balancer newBalancer() {
        if (groups.length == 0) {
            return Balancers.create(Balancers.ROUNDROBIN, new NodeAddress[0], null, null);
        }
        if (groups.length == 1) {
            return groups[0].newBalancer();
        }
        Balancer[] b = new Balancer[groups.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = groups[i].newBalancer();
        }
        return new PriorityBalancer(b);
    }

    /** The priorities in use, highest first (status, tests). */
    public int[] priorities() {
        return priorities.clone();
    }
}
