//! Redis Pub/Sub: channels, patterns and subscribers' output buffers.
