//! The linode adapter against the provider sandbox.
