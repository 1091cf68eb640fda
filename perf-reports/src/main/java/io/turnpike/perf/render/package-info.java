/** Output formats for a {@link io.turnpike.perf.model.Report}. */
package io.turnpike.perf.render;
