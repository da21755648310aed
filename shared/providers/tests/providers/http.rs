//! HTTP plumbing against a scripted local server.
