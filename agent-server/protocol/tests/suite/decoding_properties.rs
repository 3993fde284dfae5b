//! Every protocol type decodes hostile JSON without panicking, and what it accepts it encodes
//! into a form that decodes back to itself. The JSON starts from real samples (OpenHands'
//! captured events, the create response, the agent spec) and is mutated: leaves replaced by
//! odd values (huge and negative numbers, long and non-ASCII strings, wrong types), keys dropped
//! and unknown keys added. Cases: proptest's default (256), `PROPTEST_CASES` for a longer run.

use berth_protocol::{AgentSpec, ConversationInfo, Event, GitChange, LlmConfig, ServerKeys};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The seeds: one value per (type, sample).
fn seeds() -> Vec<(&'static str, Value)> {
    let captured = load("conversation-1.58.2.json");
    let mut seeds: Vec<(&'static str, Value)> = Vec::new();
    for e in captured["events"].as_array().into_iter().flatten() {
        seeds.push(("Event", e.clone()));
    }
    for e in load("reference-shaped-events.json")
        .as_array()
        .into_iter()
        .flatten()
    {
        seeds.push(("Event", e.clone()));
    }
    seeds.push(("ConversationInfo", captured["create_response"].clone()));
    seeds.push(("AgentSpec", captured["request"]["agent"].clone()));
    seeds.push(("LlmConfig", captured["request"]["agent"]["llm"].clone()));
    seeds.push((
        "ServerKeys",
        json!({"session_api_keys": ["k1", "k2"], "secret_key": "s"}),
    ));
    seeds.push((
        "GitChange",
        json!({"status": "UPDATED", "path": "src/main.rs"}),
    ));
    seeds
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(Value),
    Remove,
    AddKey(String, Value),
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(1e308)),
        Just(json!(-1)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String("x".repeat(100_000))),
        Just(json!([])),
        Just(json!({})),
        Just(json!({"kind": "FromTheFuture"})),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        odd_value().prop_map(Mutation::Replace),
        Just(Mutation::Remove),
        ("[a-z_]{1,12}", odd_value()).prop_map(|(k, v)| Mutation::AddKey(k, v)),
    ]
}

/// Every JSON pointer in `v`, the root included.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let key = k.replace('~', "~0").replace('/', "~1");
                pointers(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn apply(v: &mut Value, pointer: &str, m: &Mutation) {
    match m {
        Mutation::Replace(new) => {
            if let Some(slot) = v.pointer_mut(pointer) {
                *slot = new.clone();
            }
        }
        Mutation::Remove => {
            let Some((parent, last)) = pointer.rsplit_once('/') else {
                return;
            };
            let key = last.replace("~1", "/").replace("~0", "~");
            match v.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(&key);
                }
                Some(Value::Array(a)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < a.len()
                    {
                        a.remove(i);
                    }
                }
                _ => {}
            }
        }
        Mutation::AddKey(k, new) => {
            if let Some(Value::Object(m)) = v.pointer_mut(pointer) {
                m.insert(k.clone(), new.clone());
            }
        }
    }
}

/// Decodes `v` as `T`; if accepted, its encoding must decode to the same encoding again.
fn check<T: DeserializeOwned + Serialize>(v: Value) -> Result<(), TestCaseError> {
    if let Ok(decoded) = serde_json::from_value::<T>(v) {
        let once =
            serde_json::to_value(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let again: T = serde_json::from_value(once.clone()).map_err(|e| {
            TestCaseError::fail(format!("its own encoding does not decode: {e}\n{once}"))
        })?;
        let twice = serde_json::to_value(&again).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(once, twice);
    }
    Ok(())
}

fn check_as(kind: &str, v: Value) -> Result<(), TestCaseError> {
    match kind {
        "Event" => check::<Event>(v),
        "ConversationInfo" => check::<ConversationInfo>(v),
        "AgentSpec" => check::<AgentSpec>(v),
        "LlmConfig" => check::<LlmConfig>(v),
        "ServerKeys" => check::<ServerKeys>(v),
        "GitChange" => check::<GitChange>(v),
        other => Err(TestCaseError::fail(format!("no check for {other}"))),
    }
}

#[test]
fn every_seed_decodes_as_its_type() {
    for (kind, v) in seeds() {
        let decodes = match kind {
            "Event" => serde_json::from_value::<Event>(v.clone()).is_ok(),
            "ConversationInfo" => serde_json::from_value::<ConversationInfo>(v.clone()).is_ok(),
            "AgentSpec" => serde_json::from_value::<AgentSpec>(v.clone()).is_ok(),
            "LlmConfig" => serde_json::from_value::<LlmConfig>(v.clone()).is_ok(),
            "ServerKeys" => serde_json::from_value::<ServerKeys>(v.clone()).is_ok(),
            "GitChange" => serde_json::from_value::<GitChange>(v.clone()).is_ok(),
            _ => false,
        };
        assert!(decodes, "{kind} seed does not decode: {v}");
    }
}

proptest! {
    #[test]
    fn mutated_protocol_json_never_panics_and_round_trips(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), mutation()), 1..5),
    ) {
        let seeds = seeds();
        let (kind, mut v) = seeds[seed.index(seeds.len())].clone();
        for (at, m) in &edits {
            let mut all = Vec::new();
            pointers(&v, String::new(), &mut all);
            apply(&mut v, &all[at.index(all.len())], m);
        }
        check_as(kind, v)?;
    }
}
