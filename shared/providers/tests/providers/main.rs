//! Integration tests of the provider layer, one module per topic.

mod http;
mod vultr;
mod digitalocean;
mod linode;
