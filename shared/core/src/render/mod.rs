//! Renderers: one `Plan` value, three outputs (terminal text, JSON, pull-request Markdown).
