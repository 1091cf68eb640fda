/** One reader per result source; each turns a parsed input file into model objects or a precise error. */
package io.turnpike.perf.read;
