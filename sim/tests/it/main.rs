//! The core's one integration-test binary. Tests are named after the rule they check
//! (`rmq_13_...` is RMQ-13 in `reference/semantics.md`).

mod examples;
mod golden;
mod graph;
mod helpers;
mod interop;
mod lessons;
mod props;
mod queueing;
mod robustness;
mod rules_dispatch;
mod rules_jms;
mod rules_kafka;
mod rules_kafka_replication;
mod rules_pipeline;
mod rules_pipeline_kafka;
mod rules_pulsar;
mod rules_queue;
mod rules_redis;
mod rules_redis_streams;
mod rules_rmq_quorum;
mod rules_rmq_restart;
mod rules_routing;
mod rules_sqs;
mod rules_zeromq;
mod scenario_errors;
mod seam;
mod sweep;
