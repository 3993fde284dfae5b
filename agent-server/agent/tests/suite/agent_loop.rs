//! The agent loop's control flow with a scripted LLM: confirmation, pause and interrupt, one run
//! at a time, max iterations, condensation, and recovery after a crash.

use crate::common;

use std::time::Duration;

use berth_agent::Conversation;
use berth_agent::secrets::SecretRegistry;
use berth_protocol::{
    CondenserSpec, ConfirmationPolicy, Event, EventBody, ExecutionStatus, LlmConfig, Message,
    SecurityRisk,
};
use berth_scripted_llm::Step;
use berth_test_support::wait_until;
use common::fixture::{count, finish, setup, statuses};
use common::{core_kinds, options};
use serde_json::json;

#[tokio::test]
async fn confirmation_waits_for_risky_actions_then_reject_and_accept() {
    let fx = setup(
        vec![
            Step::tool(
                "terminal",
                json!({"command": "echo low > low.txt", "security_risk": "LOW"}),
            ),
            Step::tool(
                "terminal",
                json!({"command": "rm -rf data", "security_risk": "HIGH"}),
            ),
            Step::text("Understood, I will not delete it."),
            Step::tool(
                "terminal",
                json!({"command": "echo ok > accepted.txt", "security_risk": "HIGH"}),
            ),
            finish("done"),
        ],
        |r| {
            r.confirmation_policy = ConfirmationPolicy::ConfirmRisky {
                threshold: SecurityRisk::High,
                confirm_unknown: true,
            };
            r.security_analyzer = Some(json!({"kind": "LLMSecurityAnalyzer"}));
        },
    )
    .await;
    let ws = fx.tmp.path().join("ws");
    std::fs::create_dir_all(ws.join("data")).unwrap();
    fx.conv.send_message(Message::user("clean up"));
    let status = fx.conv.run().await.unwrap();
    assert_eq!(status, ExecutionStatus::WaitingForConfirmation);
    assert!(
        ws.join("low.txt").exists(),
        "the LOW action runs without asking"
    );
    assert!(ws.join("data").exists(), "the HIGH action must wait");
    let pending = fx.conv.pending_actions();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].security_risk, SecurityRisk::High);

    fx.conv.reject_pending(Some("Do not delete data".into()));
    assert_eq!(fx.conv.status(), ExecutionStatus::Idle);
    let events = fx.conv.events();
    let rejection = events.iter().find_map(|e| match &e.body {
        EventBody::UserRejectObservation {
            rejection_reason,
            action_id,
            ..
        } => Some((rejection_reason.clone(), action_id.clone())),
        _ => None,
    });
    assert_eq!(
        rejection.map(|r| r.0),
        Some("Do not delete data".to_string())
    );
    assert!(ws.join("data").exists());

    // The rejection reaches the LLM as the tool result.
    fx.conv.run().await.unwrap();
    let req = &fx.llm.requests()[2].body;
    let tool_msg = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "tool"))
        .cloned()
        .unwrap();
    assert_eq!(
        tool_msg["content"][0]["text"],
        "Action rejected: Do not delete data"
    );
    assert_eq!(fx.conv.status(), ExecutionStatus::Finished);

    // Accepting: run() executes the waiting action.
    fx.conv
        .send_message(Message::user("now write accepted.txt"));
    assert_eq!(
        fx.conv.run().await.ok(),
        Some(ExecutionStatus::WaitingForConfirmation)
    );
    assert!(!ws.join("accepted.txt").exists());
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    assert!(ws.join("accepted.txt").exists());
    let s = statuses(&fx.conv.events());
    assert_eq!(
        s,
        [
            "running",
            "waiting_for_confirmation",
            "idle",
            "running",
            "finished",
            "idle",
            "running",
            "waiting_for_confirmation",
            "running",
            "finished"
        ]
    );
}

#[tokio::test]
async fn always_confirm_asks_for_everything_but_a_lone_finish() {
    let fx = setup(
        vec![
            Step::tool("think", json!({"thought": "hmm"})),
            finish("bye"),
        ],
        |r| {
            r.confirmation_policy = ConfirmationPolicy::AlwaysConfirm;
        },
    )
    .await;
    fx.conv.send_message(Message::user("think"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    // A lone think or finish never asks.
    assert_eq!(count(&fx.conv.events(), "ObservationEvent"), 2);
}

/// Waits until the agent's first LLM call is in flight (the scripted LLM got it).
async fn llm_called(fx: &common::fixture::Fx) {
    wait_until("the LLM call", Duration::from_secs(10), || async {
        (!fx.llm.requests().is_empty()).then_some(())
    })
    .await;
}

#[tokio::test]
async fn pause_stops_between_steps_and_run_resumes() {
    let fx = setup(
        vec![
            Step::tool("terminal", json!({"command": "echo one"}))
                .delayed(Duration::from_millis(600)),
            Step::tool("terminal", json!({"command": "echo two"})),
            finish("done"),
        ],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    let conv = fx.conv.clone();
    let runner = tokio::spawn(async move { conv.run().await });
    llm_called(&fx).await;
    fx.conv.pause();
    let status = runner.await.unwrap().unwrap();
    assert_eq!(status, ExecutionStatus::Paused);
    let events = fx.conv.events();
    assert_eq!(count(&events, "PauseEvent"), 1);
    // The step in flight completed; no further step ran.
    assert_eq!(count(&events, "ObservationEvent"), 1);
    assert_eq!(fx.llm.remaining(), 2);
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    assert_eq!(count(&fx.conv.events(), "ObservationEvent"), 3);
    assert_eq!(
        statuses(&fx.conv.events()),
        ["running", "paused", "running", "finished"]
    );
}

#[tokio::test]
async fn interrupt_cancels_the_llm_call() {
    let fx = setup(
        vec![finish("slow").delayed(Duration::from_secs(20))],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    let conv = fx.conv.clone();
    let started = std::time::Instant::now();
    let runner = tokio::spawn(async move { conv.run().await });
    llm_called(&fx).await;
    fx.conv.interrupt();
    let status = runner.await.unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status, ExecutionStatus::Paused);
    assert_eq!(count(&fx.conv.events(), "InterruptEvent"), 1);
    assert_eq!(count(&fx.conv.events(), "ActionEvent"), 0);
}

#[tokio::test]
async fn a_second_run_while_running_is_refused() {
    let fx = setup(
        vec![finish("x").delayed(Duration::from_millis(500))],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    let conv = fx.conv.clone();
    let runner = tokio::spawn(async move { conv.run().await });
    wait_until("the run to start", Duration::from_secs(10), || async {
        (fx.conv.status() == ExecutionStatus::Running).then_some(())
    })
    .await;
    assert!(matches!(
        fx.conv.run().await,
        Err(berth_agent::ConversationError::AlreadyRunning)
    ));
    assert_eq!(
        runner.await.ok().and_then(Result::ok),
        Some(ExecutionStatus::Finished)
    );
}

#[tokio::test]
async fn max_iterations_ends_the_run_with_an_error() {
    let think = |t: &str| Step::tool("think", json!({"thought": t}));
    let fx = setup(
        vec![think("1"), think("2"), think("3"), finish("late")],
        |r| r.max_iterations = 3,
    )
    .await;
    fx.conv.send_message(Message::user("think a lot"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Error));
    let err = fx.conv.events().iter().find_map(|e| match &e.body {
        EventBody::ConversationErrorEvent { code, detail, .. } => {
            Some((code.clone(), detail.clone()))
        }
        _ => None,
    });
    assert_eq!(
        err,
        Some((
            "MaxIterationsReached".into(),
            "Agent reached maximum iterations limit (3).".into()
        ))
    );
    // The limit counts per run: running again continues.
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
}

#[tokio::test]
async fn the_condenser_summarizes_the_middle_of_a_long_history() {
    let echo = |i: u32| Step::tool("terminal", json!({"command": format!("echo step{i}")}));
    let mut script: Vec<Step> = (1..=4).map(echo).collect();
    script.push(Step::text(
        "SUMMARY: the first three steps printed their numbers",
    ));
    script.push(finish("done"));
    let fx = setup(script, |r| {
        let mut c = LlmConfig::new("openai/scripted");
        c.base_url = r.agent.llm.base_url.clone();
        c.num_retries = 0;
        r.agent.condenser = Some(CondenserSpec::LLMSummarizingCondenser {
            llm: Box::new(c),
            max_size: 8,
            max_tokens: None,
            keep_first: 2,
        });
    })
    .await;
    fx.conv.send_message(Message::user("echo a few times"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let events = fx.conv.events();
    let condensation = events.iter().find_map(|e| match &e.body {
        EventBody::Condensation {
            forgotten_event_ids,
            summary,
            summary_offset,
            ..
        } => Some((
            forgotten_event_ids.clone(),
            summary.clone(),
            *summary_offset,
        )),
        _ => None,
    });
    let (forgotten, summary, offset) =
        condensation.unwrap_or_else(|| panic!("no Condensation in {:?}", core_kinds(&events)));
    assert_eq!(
        summary.as_deref(),
        Some("SUMMARY: the first three steps printed their numbers")
    );
    assert_eq!(offset, Some(2));
    assert!(!forgotten.is_empty());
    // Results are never separated from their calls: every forgotten observation's action is forgotten too.
    for e in events.iter().filter(|e| forgotten.contains(&e.id)) {
        if let EventBody::ObservationEvent { action_id, .. } = &e.body {
            assert!(forgotten.contains(action_id));
        }
    }
    // The next LLM call sees the summary instead of the forgotten events.
    let requests = fx.llm.requests();
    let summary_req = &requests[4].body;
    assert!(
        summary_req["messages"][1]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("step1")
    );
    let last = &requests[5].body["messages"];
    let texts = last.to_string();
    assert!(texts.contains("SUMMARY: the first three steps printed their numbers"));
    assert!(!texts.contains("echo step1"), "{texts}");
    assert!(fx.conv.metrics().usage_to_metrics.contains_key("condenser"));
}

#[tokio::test]
async fn a_crash_mid_run_is_recovered_on_load() {
    let fx = setup(
        vec![
            Step::tool("terminal", json!({"command": "echo hi"})),
            finish("after restart"),
        ],
        |_| {},
    )
    .await;
    let dir = fx.conv.persistence_dir().unwrap();
    // Simulate a process killed after the ActionEvent was written and before its observation.
    fx.conv.send_message(Message::user("go"));
    let mut state = fx.conv.state();
    state.execution_status = ExecutionStatus::Running;
    berth_agent::conversation::Store::new(dir.clone())
        .save_state(&state)
        .unwrap();
    let mut events = fx.conv.events();
    let action = Event::new(
        berth_protocol::Source::Agent,
        events.last().map(|e| e.id.clone()),
        EventBody::ActionEvent {
            thought: vec![],
            reasoning_content: None,
            thinking_blocks: vec![],
            responses_reasoning_item: None,
            action: Some(berth_protocol::Action::TerminalAction(
                berth_protocol::TerminalAction {
                    command: "sleep 100".into(),
                    is_input: false,
                    timeout: None,
                    reset: false,
                },
            )),
            tool_name: "terminal".into(),
            tool_call_id: "call_lost".into(),
            tool_call: berth_protocol::MessageToolCall {
                id: "call_lost".into(),
                name: "terminal".into(),
                arguments: "{\"command\":\"sleep 100\"}".into(),
                origin: Default::default(),
                responses_item_id: None,
            },
            llm_response_id: "resp-lost".into(),
            security_risk: SecurityRisk::Unknown,
            critic_result: None,
            summary: None,
        },
    );
    berth_agent::conversation::Store::new(dir.clone())
        .append(events.len(), &action)
        .unwrap();
    events.push(action);
    drop(fx.conv);

    let conv = Conversation::load(
        &dir,
        Some("sk-test-key".into()),
        SecretRegistry::default(),
        options(),
    )
    .unwrap();
    assert_eq!(conv.status(), ExecutionStatus::Error);
    let loaded = conv.events();
    assert_eq!(&loaded[..events.len()], &events[..]);
    let recovered = loaded.iter().find_map(|e| match &e.body {
        EventBody::AgentErrorEvent {
            tool_call_id,
            error,
            ..
        } if tool_call_id == "call_lost" => Some(error.clone()),
        _ => None,
    });
    assert!(recovered.unwrap().contains("restart occurred"));
    // The conversation goes on from where it was.
    conv.send_message(Message::user("continue"));
    assert_eq!(conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let after_reload = Conversation::load(
        &dir,
        Some("sk-test-key".into()),
        SecretRegistry::default(),
        options(),
    )
    .unwrap();
    assert_eq!(after_reload.events(), conv.events());
    assert_eq!(after_reload.final_response(), "after restart");
}
