/**
 * Turnpike's configuration: the APISIX v3 model ({@code model}), its JSON codec and validation ({@code codec}),
 * the standalone {@code apisix.yaml} ({@code standalone}), the process {@code config.yaml} ({@code process}) and
 * the sources that deliver {@link io.turnpike.config.model.ConfigSet}s to the engine ({@code source}).
 * {@link io.turnpike.config.ConfigProblem} is the one error type every layer reports.
 */
package io.turnpike.config;
