//! Integration tests of the provider layer, one module per topic.

mod hostile;
mod http;
mod vultr;
mod digitalocean;
mod linode;
mod secrets;
