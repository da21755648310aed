//! stackdock-functions' integration tests: one binary, one module per handler. Every test runs
//! the real adapters against its own provider sandbox and a DynamoDB store on its own moto server
//! (`scripts/setup-tools.sh` installs moto), with events from `fixtures/events/`.

mod api;
mod apply;
mod applymachine;
mod asl;
mod catalog;
mod credentials;
mod events;
mod failed;
mod fanout;
mod notify;
mod observability;
mod pages;
mod statemachine;
mod support;
mod sync;
