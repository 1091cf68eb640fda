/**
 * The configuration store (etcd) as the rest of Turnpike sees it: {@link io.turnpike.config.store.ConfigStore}.
 */
package io.turnpike.config.store;
