//! Integration tests of the provider layer, one module per topic.

mod http;
