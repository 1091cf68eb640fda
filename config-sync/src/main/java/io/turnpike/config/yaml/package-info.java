/**
 * YAML plumbing shared by the standalone file and process config loaders: parsing to a node tree that keeps line
 * numbers ({@link io.turnpike.config.yaml.YamlDocument}) and conversion to Jackson with a per-field line index
 * ({@link io.turnpike.config.yaml.JsonTree}).
 */
package io.turnpike.config.yaml;
