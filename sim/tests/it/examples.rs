#[test]
fn explore() {
    for f in ["buffering-no-broker.json"] {
        let path = format!("{}/../scenarios/{f}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let sc = broker_sim::Scenario::from_json(&text).unwrap();
        let mut s = broker_sim::Simulation::new(&sc, 1).unwrap();
        for t in [1003u64, 1010, 1500, 3000, 6010, 7000] {
            let ev = s.advance_to(broker_sim::SimTime::from_millis(t));
            let r = s.audit_deep();
            let snap = s.snapshot();
            println!(
                "{f} t={t} events={} audit={:?} ledger={:?}",
                ev.len(),
                r,
                snap.ledger
            );
            for sv in &snap.services {
                println!("  s {:?}", sv);
            }
        }
    }
}
