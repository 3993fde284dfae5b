//! The event mirror at scale: how fast events are stored (each in its own transaction, as the
//! bridge stores them, with their full-text entry) and how long a full-text search takes over
//! 100 000 events. Figures, not a pass/fail test. Run: `cargo bench -p berth-app --bench mirror`.
//!
//! Events are the real captured OpenHands 1.58.2 messages, commands and outputs, with new ids
//! and text drawn from a vocabulary, spread over 100 conversations.
//! A broken set-up stops the run loudly, as in the tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use berth_app::conversations::{ConversationRecords, NewRecord, search};
use berth_app::mirror::EventMirror;
use berth_app::store::Store;
use berth_protocol::Event;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::Value;

const EVENTS: usize = 100_000;
const CONVERSATIONS: usize = 100;
const QUERIES: usize = 200;

const WORDS: &[&str] = &[
    "cargo",
    "test",
    "failing",
    "parser",
    "tokio",
    "runtime",
    "index",
    "migration",
    "schema",
    "refactor",
    "button",
    "render",
    "import",
    "module",
    "lint",
    "docker",
    "build",
    "cache",
    "branch",
    "commit",
    "merge",
    "review",
    "deploy",
    "config",
    "timeout",
    "retry",
    "socket",
    "thread",
    "memory",
    "leak",
    "profile",
    "benchmark",
    "assert",
    "fixture",
    "snapshot",
    "token",
    "session",
    "sqlite",
    "query",
    "latency",
    "python",
    "pytest",
    "npm",
    "webpack",
    "vite",
    "react",
    "hook",
    "state",
    "effect",
    "router",
];

fn templates() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../agent-server/protocol/tests/samples/conversation-1.58.2.json");
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
        .unwrap_or_default();
    let wanted = ["MessageEvent", "ActionEvent", "ObservationEvent"];
    sample["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"].as_str().is_some_and(|k| wanted.contains(&k)))
        .cloned()
        .collect()
}

fn sentence(rng: &mut impl Rng, n: usize) -> String {
    (0..n)
        .filter_map(|_| WORDS.choose(rng).copied())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A template with a new id and new words where users search.
fn event(template: &Value, i: usize, rng: &mut impl Rng) -> Event {
    let mut e = template.clone();
    e["id"] = Value::String(format!("{:08x}-bench-{i:010}", i));
    let n = rng.random_range(5..40);
    let words = sentence(rng, n);
    match e["kind"].as_str() {
        Some("MessageEvent") => e["llm_message"]["content"][0]["text"] = Value::String(words),
        Some("ActionEvent") => {
            let cmd = format!("grep -rn {} src/", sentence(rng, 2));
            e["action"]["command"] = Value::String(cmd.clone());
            e["tool_call"]["arguments"] =
                Value::String(serde_json::json!({ "command": cmd }).to_string());
            e["summary"] = Value::String(words);
        }
        _ => e["observation"]["content"][0]["text"] = Value::String(words),
    }
    serde_json::from_value(e).expect("bad template")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("berth.db")).unwrap();
    let mirror = EventMirror::new(store.clone());
    let records = ConversationRecords::new(store.clone());
    let templates = templates();
    assert!(
        templates.len() >= 3,
        "the captured sample has no events to copy"
    );
    let mut rng = rand::rng();
    for c in 0..CONVERSATIONS {
        let id = format!("conv-{c:03}");
        let title = sentence(&mut rng, 4);
        records
            .put(&NewRecord {
                id: &id,
                title: Some(&title),
                ..NewRecord::default()
            })
            .unwrap();
    }
    let events: Vec<(String, Event)> = (0..EVENTS)
        .map(|i| {
            let t = &templates[i % templates.len()];
            (
                format!("conv-{:03}", i % CONVERSATIONS),
                event(t, i, &mut rng),
            )
        })
        .collect();

    let started = Instant::now();
    for (conv, e) in &events {
        mirror.insert(conv, e).unwrap();
    }
    let took = started.elapsed();
    let size = std::fs::metadata(dir.path().join("berth.db"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.path().join("berth.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "mirror ingest: {EVENTS} events in {:.1} s = {:.0} events/s (one transaction each, FTS included); database {:.0} MB",
        took.as_secs_f64(),
        EVENTS as f64 / took.as_secs_f64(),
        size as f64 / 1e6
    );

    let mut times = Vec::with_capacity(QUERIES);
    let mut hits = 0;
    for q in 0..QUERIES {
        let query = if q % 4 == 0 {
            sentence(&mut rng, 1)
        } else {
            sentence(&mut rng, 2)
        };
        let t = Instant::now();
        hits += search(&records, &mirror, &query, 20).unwrap().len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "full-text search over {EVENTS} events (titles + events, top 20): p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} hits in {QUERIES} queries)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        hits
    );
}
