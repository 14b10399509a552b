//! RabbitMQ: exchanges, bindings, queues, dispatch, acks, dead-lettering, TTL and limits.

pub mod queue;
