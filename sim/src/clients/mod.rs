//! The client runtime: producers and consumers.
