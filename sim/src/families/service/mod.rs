//! The no-broker service: requests served directly, refused when its backlog is full.
