//! Headless runner: runs a scenario and reports, and carries topologies to and from real brokers.
//!
//! ```text
//! broker-sim run FILE.json [--seed N] [--until 60s] [--trace] [--summary] [--max-work N] [--format json|csv]
//! broker-sim import-definitions FILE [--vhost V] [--approximate] > scenario.json
//! broker-sim export FILE.json --to definitions|kafka|compose [--vhost V] [--bootstrap-server H:P]
//! ```
//!
//! Events are streamed, never collected, so memory stays flat over any run length. A run has a
//! work budget: one that would clearly exceed it is refused before it starts, and one that
//! spends it (or loops without the clock moving) stops with a partial report and exit code 3.

use broker_sim::clients::rates::check_work_budget;
use broker_sim::guard::RUNNER_WORK_BUDGET;
use broker_sim::interop::{self, ImportOptions};
use broker_sim::report::EventTally;
use broker_sim::{Event, EventSink, Scenario, SimTime, Simulation};
use std::process::ExitCode;

const USAGE: &str = "usage: broker-sim run FILE.json [--seed N] [--until DURATION] [--trace] \
[--summary] [--max-work N] [--format json|csv]
       broker-sim import-definitions FILE [--vhost V] [--approximate]
       broker-sim export FILE.json --to definitions|kafka|compose [--vhost V] [--bootstrap-server HOST:PORT]
  DURATION:    a number with a unit, e.g. 500ms, 60s, 10m (default 60s)
  --trace      print one line per event to stderr
  --summary    leave out the lists with an entry per message (received, contents, partitions)
  --max-work   the work budget in work items (default 50000000, about 5 s)
  --format     json (default): the full report; csv: one row per summary figure
  import-definitions   a RabbitMQ definitions export to a scenario on stdout; notes on stderr
  --vhost      the virtual host to import, or to export into (default: picked / \"/\")
  --approximate        leave out, with a note, features Broker Lab does not model
  export       the scenario's RabbitMQ part as definitions, its Kafka part as kafka-topics.sh
               commands (--bootstrap-server, default localhost:9092), or a docker-compose.yml";

/// Exit code of a run that stopped early (work budget, zero-time loop); the report is partial.
const EXIT_HALTED: u8 = 3;

/// Tallies for the report and, with `--trace`, prints each event as it happens.
struct RunnerSink {
    tally: EventTally,
    trace: bool,
}

impl EventSink for RunnerSink {
    fn accept(&mut self, event: Event) {
        if self.trace {
            eprintln!("{event}");
        }
        self.tally.accept(event);
    }
}

fn parse_duration(s: &str) -> Result<SimTime, String> {
    let (num, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let us_per = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => {
            return Err(format!(
                "bad duration unit in {s:?} (use us, ms, s, m or h)"
            ))
        }
    };
    let us = n * us_per;
    if !us.is_finite() || !(0.0..=365.0 * 24.0 * 3600e6).contains(&us) {
        return Err(format!("duration {s:?} is out of range (0 to 1 year)"));
    }
    Ok(SimTime(us as u64))
}

/// What a finished run says: complete, or stopped early with a reason.
enum Outcome {
    Complete,
    Halted(String),
}

fn main_command(args: &[String]) -> Result<Outcome, String> {
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("import-definitions") => import_definitions(&args[1..]),
        Some("export") => export(&args[1..]),
        _ => Err(USAGE.to_string()),
    }
}

/// How the report is written.
enum Format {
    Json,
    Csv,
}

fn run(args: &[String]) -> Result<Outcome, String> {
    let mut it = args.iter();
    let file = it.next().ok_or(USAGE)?;
    let mut seed = 1u64;
    let mut until = SimTime::from_secs(60);
    let mut trace = false;
    let mut summary = false;
    let mut max_work = RUNNER_WORK_BUDGET;
    let mut format = Format::Json;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => {
                let v = it.next().ok_or("--seed needs a value")?;
                seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "--until" => until = parse_duration(it.next().ok_or("--until needs a value")?)?,
            "--trace" => trace = true,
            "--summary" => summary = true,
            "--max-work" => {
                let v = it.next().ok_or("--max-work needs a value")?;
                max_work = v.parse().map_err(|_| format!("bad --max-work {v:?}"))?;
            }
            "--format" => {
                format = match it.next().map(String::as_str) {
                    Some("json") => Format::Json,
                    Some("csv") => Format::Csv,
                    _ => return Err("--format takes json or csv".into()),
                }
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    let scenario = Scenario::from_bytes(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let mut sim = Simulation::new(&scenario, seed).map_err(|e| format!("{file}: {e}"))?;
    // Refused at once rather than after seconds of work.
    check_work_budget(&scenario, until, max_work).map_err(|e| format!("{file}: {e}"))?;
    sim.set_work_budget(max_work);
    // Nothing is drawn: skip the moving-message list.
    sim.set_track_transits(false);
    let mut sink = RunnerSink {
        tally: EventTally::default(),
        trace,
    };
    sim.advance_into(until, usize::MAX, &mut sink);
    match format {
        Format::Json => {
            let report = sim.report_from(seed, &sink.tally, !summary);
            println!(
                "{}",
                serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
            );
        }
        Format::Csv => print!("{}", sim.summary_csv(seed, &sink.tally)),
    }
    Ok(match sim.halted() {
        Some(halt) => Outcome::Halted(format!("{file}: stopped early: {halt}")),
        None => Outcome::Complete,
    })
}

fn read(file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("{file}: {e}"))
}

fn import_definitions(args: &[String]) -> Result<Outcome, String> {
    let mut it = args.iter();
    let file = it.next().ok_or(USAGE)?;
    let mut options = ImportOptions::default();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--vhost" => options.vhost = Some(it.next().ok_or("--vhost needs a value")?.clone()),
            "--approximate" => options.approximate = true,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let bytes = read(file)?;
    let text = broker_sim::scenario::text_from_bytes(&bytes).map_err(|e| format!("{file}: {e}"))?;
    let imported =
        interop::import_definitions(text, &options).map_err(|e| format!("{file}: {e}"))?;
    eprintln!("{file}: imported virtual host {:?}", imported.vhost);
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    println!("{}", imported.scenario.to_json_pretty());
    Ok(Outcome::Complete)
}

fn export(args: &[String]) -> Result<Outcome, String> {
    let mut it = args.iter();
    let file = it.next().ok_or(USAGE)?;
    let mut to = None;
    let mut vhost = "/".to_string();
    let mut bootstrap = "localhost:9092".to_string();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--to" => to = Some(it.next().ok_or("--to needs a value")?.clone()),
            "--vhost" => vhost = it.next().ok_or("--vhost needs a value")?.clone(),
            "--bootstrap-server" => {
                bootstrap = it.next().ok_or("--bootstrap-server needs a value")?.clone()
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let scenario = Scenario::from_bytes(&read(file)?).map_err(|e| format!("{file}: {e}"))?;
    let text = match to.as_deref() {
        Some("definitions") => interop::export_definitions(&scenario, &vhost),
        Some("kafka") => interop::kafka_script(&scenario, &bootstrap),
        Some("compose") => interop::docker_compose(&scenario),
        _ => return Err(format!("--to takes definitions, kafka or compose\n{USAGE}")),
    };
    print!("{}", text.map_err(|e| format!("{file}: {e}"))?);
    Ok(Outcome::Complete)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match main_command(&args) {
        Ok(Outcome::Complete) => ExitCode::SUCCESS,
        Ok(Outcome::Halted(why)) => {
            eprintln!("error: {why}");
            ExitCode::from(EXIT_HALTED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
