//! The broker-or-brokerless view: the same jobs go through RabbitMQ (a broker: one more hop,
//! acks, a durable queue with persistent messages) and straight from a ZeroMQ PUSH to a PULL
//! (no broker: the pipes are memory inside the two processes). Beside the canvas, one card a
//! side with the figures that tell them apart (done, waiting, lost with the ledger's reason)
//! and its failure button — crash or restart the broker, crash or restart the reading peer —
//! and, between them, one button that slows both workers the same way.

use crate::compare::{on_click, refusal};
use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::kinds::{rabbitmq, zeromq};
use crate::lab::{use_frame_model, use_lab};
use crate::model::format_count;
use broker_sim::{Command, ConsumerStatus, DropReason, Snapshot};
use yew::prelude::*;

/// How much slower the slow button makes each worker (the failure toolbar's factor).
pub const SLOW_FACTOR: f64 = 5.0;

/// One side's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Side {
    /// Messages its consumers finished.
    pub done: u64,
    /// Messages still kept: in the queue (RabbitMQ) or in the pipes (ZeroMQ).
    pub kept: u64,
    /// Deliveries that came again after a crash or restart (RabbitMQ only).
    pub redelivered: u64,
    /// Each loss reason the ledger counted, as its code, and how many.
    pub lost: Vec<(String, u64)>,
    /// The failure button's state: the broker, or the reading peer, is down.
    pub down: bool,
}

/// What the view shows; `None` unless the run has a RabbitMQ queue and a ZeroMQ reader.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BrokerlessModel {
    pub broker: Side,
    pub brokerless: Side,
    /// The process whose socket the ZeroMQ consumer reads: the peer the button crashes.
    pub peer: String,
    /// Every live consumer of either side, which the slow button slows.
    pub workers: Vec<String>,
    pub slowed: bool,
}

fn lost(snap: &Snapshot, reasons: &[DropReason]) -> Vec<(String, u64)> {
    (reasons.iter())
        .filter_map(|r| snap.ledger.dropped.get(r).map(|n| (r.to_string(), *n)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

pub fn brokerless_model(_: &Driver, snap: &Snapshot, _: &()) -> Option<BrokerlessModel> {
    let queue = snap.queues.first()?;
    let live = || (snap.consumers.iter()).filter(|c| c.status != ConsumerStatus::Removed);
    let readers: Vec<_> = live()
        .filter(|c| c.source == Some(rabbitmq::queue_node(queue.id)))
        .collect();
    let (zmq_readers, peers): (Vec<_>, Vec<_>) = live()
        .filter_map(|c| zeromq::reader_peer(snap, c.source).map(|p| (c, p)))
        .unzip();
    let (peer, running) = peers.first()?.clone();
    Some(BrokerlessModel {
        broker: Side {
            done: readers.iter().map(|c| c.acked).sum(),
            kept: queue.total,
            redelivered: readers.iter().map(|c| c.redelivered).sum(),
            lost: lost(snap, &rabbitmq::LOSSES),
            down: rabbitmq::node_down(snap),
        },
        brokerless: Side {
            done: zmq_readers.iter().map(|c| c.acked).sum(),
            kept: zeromq::piped(snap),
            redelivered: 0,
            lost: lost(snap, &zeromq::LOSSES),
            down: !running,
        },
        peer,
        slowed: (readers.iter().chain(&zmq_readers)).any(|c| c.slow_factor != 1.0),
        workers: (readers.iter().chain(&zmq_readers))
            .map(|c| c.name.clone())
            .collect(),
    })
}

/// Each worker slowed by `factor` (1 restores its speed).
pub fn slow_commands(workers: &[String], factor: f64) -> Vec<Command> {
    (workers.iter())
        .map(|c| Command::SlowConsumer {
            consumer: c.clone(),
            factor,
        })
        .collect()
}

/// One figure: a label and a count, with the count in `data-n` for tests.
fn figure(id: &str, label: &str, n: u64) -> Html {
    html! {
        <li data-testid={id.to_string()} data-n={n.to_string()}>
            { label }{ " " }<span class="n">{ format_count(n) }</span>
        </li>
    }
}

/// The losses by reason: `process_exit 7`; "none lost" when there are none.
fn losses(l: crate::i18n::Lang, side: &str, lost: &[(String, u64)]) -> Html {
    if lost.is_empty() {
        return html! { <li class="bl-none">{ t(l, Key::BlNoneLost) }</li> };
    }
    html! {
        { for lost.iter().map(|(reason, n)| html! {
            <li class="bl-lost" data-testid={format!("{side}-lost")} data-reason={reason.clone()}
                data-n={n.to_string()}>
                { t(l, Key::BlLost) }{ " " }<code>{ reason }</code>{ " " }
                <span class="n">{ format_count(*n) }</span>
            </li>
        }) }
    }
}

/// The two cards beside the canvas.
#[function_component(BrokerlessPanel)]
pub fn brokerless_panel() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let model = use_frame_model((), brokerless_model);
    let error = use_state(|| None::<String>);
    let Some(m) = model else {
        return html! {};
    };
    let (b, z) = (&m.broker, &m.brokerless);
    let broker_button = if b.down {
        let click = on_click(&lab, &error, |_| {
            vec![Command::RestartRabbitMqNode { node: None }]
        });
        (
            click,
            "restart-broker",
            Key::BlRestartBroker,
            Key::FxStartNodeHint,
        )
    } else {
        let click = on_click(&lab, &error, |_| {
            vec![Command::CrashRabbitMqNode { node: None }]
        });
        (
            click,
            "crash-broker",
            Key::BlCrashBroker,
            Key::FxStopNodeHint,
        )
    };
    let peer_button = {
        let peer = m.peer.clone();
        if z.down {
            let click = on_click(&lab, &error, move |_| {
                vec![Command::RestartPeer { peer: peer.clone() }]
            });
            (
                click,
                "restart-peer",
                Key::BlRestartPeer,
                Key::BlRestartPeerHint,
            )
        } else {
            let click = on_click(&lab, &error, move |_| {
                vec![Command::CrashPeer { peer: peer.clone() }]
            });
            (click, "crash-peer", Key::BlCrashPeer, Key::BlCrashPeerHint)
        }
    };
    let slow_button = {
        let (factor, id, label) = if m.slowed {
            (1.0, "normal-speed", Key::BlNormalSpeed)
        } else {
            (SLOW_FACTOR, "slow-workers", Key::BlSlowWorkers)
        };
        let workers = m.workers.clone();
        let click = on_click(&lab, &error, move |_| slow_commands(&workers, factor));
        (click, id, label, Key::BlSlowHint)
    };
    let button = |(onclick, id, label, hint): (Callback<MouseEvent>, &str, Key, Key)| {
        html! {
            <button type="button" data-testid={id.to_string()} {onclick} title={t(l, hint)}>
                { t(l, label) }
            </button>
        }
    };
    html! {
        <aside class="bl-panel" data-testid="brokerless" aria-label={t(l, Key::BlTitle)}>
            <section class={classes!("bl-side", "broker", b.down.then_some("down"))}
                data-testid="bl-broker">
                <h3>{ t(l, Key::BlBroker) }</h3>
                <p class="bl-what">{ t(l, Key::BlBrokerWhat) }</p>
                <ul>
                    { figure("rmq-done", t(l, Key::BlDone), b.done) }
                    { figure("rmq-kept", t(l, Key::BlInQueue), b.kept) }
                    { figure("rmq-redelivered", t(l, Key::BlRedelivered), b.redelivered) }
                    { losses(l, "rmq", &b.lost) }
                </ul>
                { button(broker_button) }
            </section>
            <div class="bl-both">{ button(slow_button) }</div>
            <section class={classes!("bl-side", "brokerless", z.down.then_some("down"))}
                data-testid="bl-brokerless">
                <h3>{ t(l, Key::BlBrokerless) }</h3>
                <p class="bl-what">{ t(l, Key::BlBrokerlessWhat) }</p>
                <ul>
                    { figure("zmq-done", t(l, Key::BlDone), z.done) }
                    { figure("zmq-kept", t(l, Key::BlInPipes), z.kept) }
                    { losses(l, "zmq", &z.lost) }
                </ul>
                { button(peer_button) }
            </section>
            { refusal(&error) }
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::{Scenario, SimTime};

    fn driver() -> Driver {
        let s = Scenario::from_json(include_str!("../scenarios/ui/brokerless.json"))
            .expect("the brokerless scenario is valid");
        assert!(s.script.is_empty(), "the teacher presses the buttons");
        Driver::new(&s, 1).expect("the brokerless scenario builds")
    }

    fn model(d: &Driver) -> BrokerlessModel {
        brokerless_model(d, &d.snapshot(), &()).expect("a queue and a ZeroMQ reader")
    }

    /// The three buttons' commands, as the view writes them, move the figures that tell a
    /// broker from no broker: slowed, the queue grows and the pipes stop at their HWM; the
    /// crashed peer loses its pipes (ZMQ-1); the crashed broker keeps its persistent messages
    /// in the durable queue and redelivers after the restart (RMQ-32).
    #[test]
    fn zmq_1_zmq_3_rmq_32_slow_crash_peer_and_crash_broker_move_the_figures() {
        let mut d = driver();
        d.run_to(SimTime(2_000_000));
        let m = model(&d);
        assert_eq!(m.workers, ["rmq-worker", "zmq-app"]);
        assert!(!m.slowed && m.broker.lost.is_empty() && m.brokerless.lost.is_empty());
        for c in slow_commands(&m.workers, SLOW_FACTOR) {
            d.apply(c).unwrap();
        }
        d.run_to(SimTime(6_000_000));
        let m = model(&d);
        assert!(m.slowed);
        assert!(m.broker.kept > 10, "the queue grows: {}", m.broker.kept);
        // The pipes hold at most SNDHWM 5 + RCVHWM 5, then the PUSH blocks (ZMQ-2, ZMQ-3).
        assert!((1..=10).contains(&m.brokerless.kept), "{:?}", m.brokerless);
        assert!(m.brokerless.lost.is_empty(), "PUSH never drops");

        d.apply(Command::CrashPeer {
            peer: m.peer.clone(),
        })
        .unwrap();
        d.apply(Command::CrashRabbitMqNode { node: None }).unwrap();
        let after = model(&d);
        assert!(after.broker.down && after.brokerless.down);
        assert_eq!(after.brokerless.kept, 0);
        let exits = after
            .brokerless
            .lost
            .iter()
            .find(|(r, _)| r == "process_exit");
        assert!(
            exits.is_some_and(|(_, n)| *n > m.brokerless.kept),
            "{:?}",
            after.brokerless
        );
        // Persistent and on disk: all but what arrived since the last fsync stays.
        assert!(after.broker.kept + 2 >= m.broker.kept, "{:?}", after.broker);

        d.run_to(SimTime(7_000_000));
        d.apply(Command::RestartRabbitMqNode { node: None })
            .unwrap();
        d.run_to(SimTime(8_000_000));
        let m = model(&d);
        assert!(!m.broker.down);
        assert!(m.broker.redelivered >= 1);
        assert!(m.broker.lost.iter().any(|(r, _)| r == "broker_down"));
    }
}
