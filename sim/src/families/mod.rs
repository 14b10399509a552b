//! The broker families. Each folder owns one family's rules; none imports another.

pub mod jms;
pub mod kafka;
pub mod pulsar;
pub mod rabbitmq;
pub mod redis_pubsub;
pub mod redis_streams;
pub mod service;
pub mod sqs;
pub mod zeromq;
