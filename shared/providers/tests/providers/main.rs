//! Integration tests of the provider layer, one module per topic.

mod cloudflare;
mod conformance;
mod digitalocean;
mod failures;
mod hostile;
mod http;
mod linode;
mod secrets;
mod spec;
mod support;
mod vercel;
mod vultr;
