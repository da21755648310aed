//! The digitalocean adapter against the provider sandbox.
