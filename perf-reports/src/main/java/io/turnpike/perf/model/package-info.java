/** Immutable report model, independent of where the numbers came from and of the output format. */
package io.turnpike.perf.model;
