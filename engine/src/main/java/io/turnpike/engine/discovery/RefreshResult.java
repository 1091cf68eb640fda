package io.turnpike.engine.discovery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What a {@link DnsDiscovery#refresh} changed. Immutable.
 *
 * @param changed the names whose node set changed, with the nodes added and removed (already applied on every loop)
 * @param errors  the names that could not be resolved (their last good set is kept) or whose new set a listener
 *                failed to apply
 */
public record RefreshResult(List<Change> changed, List<NameError> errors) {

    public RefreshResult {
        changed = List.copyOf(changed);
        errors = List.copyOf(errors);
    }

    /** A name's change. */
    public record Change(String name, List<ResolvedNode> added, List<ResolvedNode> removed) {
        public Change {
            added = List.copyOf(added);
            removed = List.copyOf(removed);
        }
    }

    /**
     * A name that failed.
     *
     * @param applyFailed true when DNS answered but a listener did not apply the new set (the loops may disagree)
     */
    public record NameError(String name, String error, boolean applyFailed) {
    }

    /** True when a listener failed to apply a new node set. */
    public boolean applyFailed() {
        return errors.stream().anyMatch(NameError::applyFailed);
    }

    /** {@code {"changed": [{"name", "added": [node], "removed": [node]}], "errors": [{"name", "error"}]}}. */
    public ObjectNode toJson() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode o = f.objectNode();
        ArrayNode c = o.putArray("changed");
        for (Change ch : changed) {
            ObjectNode x = c.addObject().put("name", ch.name());
            nodes(x.putArray("added"), ch.added());
            nodes(x.putArray("removed"), ch.removed());
        }
        ArrayNode e = o.putArray("errors");
        for (NameError ne : errors) {
            e.addObject().put("name", ne.name()).put("error", ne.error());
        }
        return o;
    }

    static void nodes(ArrayNode a, List<ResolvedNode> nodes) {
        for (ResolvedNode n : nodes) {
            a.addObject().put("host", n.address().getAddress().getHostAddress()).put("port", n.address().getPort())
                    .put("weight", n.weight()).put("priority", n.priority()).put("name", n.host());
        }
    }
}
