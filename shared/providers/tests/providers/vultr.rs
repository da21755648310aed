//! The vultr adapter against the provider sandbox.
