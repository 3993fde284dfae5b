//! The agent loop's behaviours with a scripted LLM: confirmation, pause and interrupt, stuck
//! detection, max iterations, condensation, secret masking, retries, skills, bad input, prompt
//! tool calling, and recovery after a crash.

mod common;

use std::time::Duration;

use berth_agent::Conversation;
use berth_agent::secrets::SecretRegistry;
use berth_protocol::{
    AgentContext, CondenserSpec, ConfirmationPolicy, Event, EventBody, ExecutionStatus, LlmConfig,
    Message, SecurityRisk, SkillSpec, SkillTrigger,
};
use berth_scripted_llm::{ScriptedLlm, Step};
use common::{Format, agent, core_kinds, new_conversation, options};
use serde_json::json;

struct Fx {
    llm: ScriptedLlm,
    conv: Conversation,
    tmp: tempfile::TempDir,
}

async fn setup(script: Vec<Step>, tweak: impl FnOnce(&mut berth_agent::NewConversation)) -> Fx {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ws = tmp.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap_or_default();
    let llm = ScriptedLlm::start(script)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut req = new_conversation(
        agent(&llm, Format::OpenAi, false),
        &ws,
        &tmp.path().join("conversations"),
    );
    tweak(&mut req);
    let conv = Conversation::create(req, options()).unwrap_or_else(|e| panic!("{e}"));
    Fx { llm, conv, tmp }
}

fn statuses(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ConversationStateUpdateEvent { key, value } if key == "execution_status" => {
                value.as_str().map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

fn count(events: &[Event], kind: &str) -> usize {
    events.iter().filter(|e| e.kind() == kind).count()
}

fn finish(msg: &str) -> Step {
    Step::tool("finish", json!({"message": msg}))
}

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
    std::fs::create_dir_all(ws.join("data")).unwrap_or_default();
    fx.conv.send_message(Message::user("clean up"));
    let status = fx.conv.run().await.unwrap_or_else(|e| panic!("{e}"));
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
    fx.conv.run().await.unwrap_or_else(|e| panic!("{e}"));
    let req = &fx.llm.requests()[2].body;
    let tool_msg = req["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "tool"))
        .cloned()
        .unwrap_or_default();
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
    tokio::time::sleep(Duration::from_millis(200)).await;
    fx.conv.pause();
    let status = runner
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    fx.conv.interrupt();
    let status = runner
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
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
    tokio::time::sleep(Duration::from_millis(100)).await;
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
async fn repeating_the_same_action_and_result_gets_stuck() {
    let same = || Step::tool("terminal", json!({"command": "echo same"}));
    let fx = setup(
        vec![same(), same(), same(), same(), finish("never")],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("loop"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Stuck));
    assert_eq!(count(&fx.conv.events(), "ActionEvent"), 4);
    let err = fx.conv.events().iter().find_map(|e| match &e.body {
        EventBody::ConversationErrorEvent { code, .. } => Some(code.clone()),
        _ => None,
    });
    assert_eq!(err.as_deref(), Some("AgentStuckInLoopError"));
    // A new message gets the conversation going again.
    fx.conv.send_message(Message::user("try something else"));
    assert_eq!(fx.conv.status(), ExecutionStatus::Idle);
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
}

#[tokio::test]
async fn the_same_error_gets_a_nudge_then_stuck() {
    let bad = || {
        Step::tool(
            "file_editor",
            json!({"command": "view", "path": "/definitely/not/here"}),
        )
    };
    let fx = setup(vec![bad(), bad(), bad(), bad(), finish("never")], |_| {}).await;
    fx.conv.send_message(Message::user("look"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Stuck));
    let events = fx.conv.events();
    let nudges = events
        .iter()
        .filter(|e| e.source == berth_protocol::Source::Environment && e.kind() == "MessageEvent")
        .count();
    assert_eq!(nudges, 1);
    assert_eq!(count(&events, "ActionEvent"), 4);
}

#[tokio::test]
async fn alternating_between_two_actions_gets_stuck() {
    let a = || Step::tool("terminal", json!({"command": "echo a"}));
    let b = || Step::tool("terminal", json!({"command": "echo b"}));
    let fx = setup(vec![a(), b(), a(), b(), a(), b(), finish("never")], |_| {}).await;
    fx.conv.send_message(Message::user("alternate"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Stuck));
    assert_eq!(count(&fx.conv.events(), "ActionEvent"), 6);
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
            .unwrap_or_default()
            .contains("step1")
    );
    let last = &requests[5].body["messages"];
    let texts = last.to_string();
    assert!(texts.contains("SUMMARY: the first three steps printed their numbers"));
    assert!(!texts.contains("echo step1"), "{texts}");
    assert!(fx.conv.metrics().usage_to_metrics.contains_key("condenser"));
}

#[tokio::test]
async fn secrets_never_appear_in_events_or_llm_requests() {
    let secret = "sup3r-s3cret-value-991";
    let fx = setup(
        vec![
            Step::tool(
                "terminal",
                json!({"command": "echo the key is $DEPLOY_KEY && echo $DEPLOY_KEY > key.txt"}),
            ),
            Step::tool("terminal", json!({"command": "cat key.txt"})),
            Step::text(format!("I printed {secret} for you.")),
        ],
        |r| {
            r.secrets = vec![(
                "DEPLOY_KEY".into(),
                secret.into(),
                Some("deploy key".into()),
            )]
        },
    )
    .await;
    fx.conv.send_message(Message::user("deploy"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let ws_file = std::fs::read_to_string(fx.tmp.path().join("ws/key.txt")).unwrap_or_default();
    assert_eq!(
        ws_file.trim(),
        secret,
        "the command itself had the real value"
    );
    let events_json = serde_json::to_string(&fx.conv.events()).unwrap_or_default();
    assert!(!events_json.contains(secret));
    assert!(events_json.contains("the key is <secret-hidden>"));
    assert!(events_json.contains("I printed <secret-hidden> for you."));
    for r in fx.llm.requests() {
        assert!(!r.body.to_string().contains(secret));
    }
    // The system prompt names the secret, not its value.
    let system = fx.llm.requests()[0].body["messages"][0].to_string();
    assert!(system.contains("$DEPLOY_KEY: deploy key"));
    let state = fx.conv.full_state_event();
    assert!(
        !serde_json::to_string(&state)
            .unwrap_or_default()
            .contains(secret)
    );
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let fx = setup(
        vec![
            Step::rate_limited(1),
            Step::error(500, "boom"),
            Step::Garbage("not json".into()),
            finish("made it"),
        ],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    let started = std::time::Instant::now();
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    assert_eq!(fx.llm.requests().len(), 4);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured"
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_an_error_the_user_can_act_on() {
    let fx = setup(
        vec![
            Step::error(401, r#"{"error":{"message":"Incorrect API key provided"}}"#),
            finish("x"),
        ],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Error));
    assert_eq!(
        fx.llm.requests().len(),
        1,
        "authentication errors are not retried"
    );
    let err = fx.conv.events().iter().find_map(|e| match &e.body {
        EventBody::ConversationErrorEvent {
            code,
            detail,
            classification,
        } => Some((code.clone(), detail.clone(), classification.clone())),
        _ => None,
    });
    let (code, detail, class) = err.unwrap_or_else(|| panic!("no error event"));
    assert_eq!(code, "LLMAuthenticationError");
    assert!(detail.contains("rejected the API key"), "{detail}");
    assert_eq!(
        class.map(|c| c.user_action),
        Some(berth_protocol::FailureAction::Settings)
    );
}

#[tokio::test]
async fn bad_tool_calls_become_errors_the_agent_recovers_from() {
    let fx = setup(
        vec![
            Step::tool("no_such_tool", json!({})),
            Step::tool("terminal", json!({"cmd": "ls"})),
            Step::Reply {
                text: None,
                tool_calls: vec![("terminal".into(), json!("{not json"))],
                delay: Duration::ZERO,
            },
            Step::tools(vec![
                ("terminal", json!({"command": "echo fine"})),
                ("finish", json!({"message": "recovered"})),
            ]),
        ],
        |_| {},
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let errors: Vec<String> = fx
        .conv
        .events()
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::AgentErrorEvent { error, .. } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 3);
    assert!(
        errors[2].contains("arguments must be a JSON object"),
        "{}",
        errors[2]
    );
    assert!(
        errors[0].starts_with("Tool 'no_such_tool' not found. Available: ["),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("unknown parameter 'cmd'"),
        "{}",
        errors[1]
    );
    // Each error reached the LLM as the result of its call.
    let req = &fx.llm.requests()[3].body;
    let tool_results: Vec<&serde_json::Value> = req["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["role"] == "tool").collect())
        .unwrap_or_default();
    assert_eq!(tool_results.len(), 3);
    assert!(tool_results.iter().all(|r| {
        r["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("[An error occurred during execution.]")
    }));
    // Both calls of the last response ran, in order.
    let ran: Vec<String> = fx
        .conv
        .events()
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ObservationEvent { tool_name, .. } => Some(tool_name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ran, ["terminal", "finish"]);
    assert_eq!(fx.conv.final_response(), "recovered");
}

#[tokio::test]
async fn keyword_skills_are_added_once_and_repo_instructions_reach_the_prompt() {
    let fx = setup(vec![Step::text("ok"), Step::text("ok again")], |r| {
        r.agent.agent_context = Some(AgentContext {
            skills: vec![SkillSpec {
                name: "git".into(),
                content: "Always write conventional commit messages.".into(),
                trigger: Some(SkillTrigger::Keyword {
                    keywords: vec!["git".into(), "commit".into()],
                }),
                source: None,
                description: None,
                extra: Default::default(),
            }],
            ..AgentContext::default()
        });
    })
    .await;
    std::fs::write(
        fx.tmp.path().join("ws/AGENTS.md"),
        "Run `make check` before finishing.",
    )
    .unwrap_or_default();
    // Repo skills are read when the conversation is built: make a new one on the same workspace.
    let ws = fx.tmp.path().join("ws");
    let mut req = new_conversation(
        agent(&fx.llm, Format::OpenAi, false),
        &ws,
        &fx.tmp.path().join("c2"),
    );
    req.agent.agent_context = fx.conv.state().agent.agent_context.clone();
    let conv = Conversation::create(req, options()).unwrap_or_else(|e| panic!("{e}"));
    let first = conv.send_message(Message::user("Please commit this with Git"));
    let EventBody::MessageEvent {
        activated_skills,
        extended_content,
        ..
    } = &first.body
    else {
        panic!()
    };
    assert_eq!(activated_skills, &["git"]);
    assert!(
        extended_content[0]
            .text
            .contains("conventional commit messages")
    );
    conv.run().await.unwrap_or_else(|e| panic!("{e}"));
    let second = conv.send_message(Message::user("and git push"));
    let EventBody::MessageEvent {
        activated_skills, ..
    } = &second.body
    else {
        panic!()
    };
    assert!(
        activated_skills.is_empty(),
        "a skill fires once per conversation"
    );
    conv.run().await.unwrap_or_else(|e| panic!("{e}"));
    let body = fx.llm.requests()[0].body.to_string();
    assert!(body.contains("conventional commit messages"));
    assert!(body.contains("Run `make check` before finishing."));
    assert!(body.contains("REPO_CONTEXT"));
    assert!(!conv.events().iter().any(|e| matches!(&e.body, EventBody::MessageEvent { llm_message, .. } if llm_message.text().contains("github"))));
}

#[tokio::test]
async fn models_without_native_tools_call_them_through_the_prompt() {
    let fx = setup(
        vec![
            Step::text("I'll check.\n<function=terminal>\n<parameter=command>echo via-prompt</parameter>\n</function>"),
            Step::text("<function=finish>\n<parameter=message>done through the prompt</parameter>\n</function>"),
        ],
        |r| r.agent.llm.native_tool_calling = false,
    )
    .await;
    fx.conv.send_message(Message::user("go"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let events = fx.conv.events();
    let out = events.iter().find_map(|e| match &e.body {
        EventBody::ObservationEvent {
            observation: berth_protocol::Observation::TerminalObservation(o),
            ..
        } => Some(berth_protocol::content_text(&o.content)),
        _ => None,
    });
    assert_eq!(out.as_deref(), Some("via-prompt"));
    let requests = fx.llm.requests();
    assert!(requests[0].body.get("tools").is_none());
    assert!(
        requests[0].body["messages"][0]
            .to_string()
            .contains("BEGIN FUNCTION #1: terminal")
    );
    assert_eq!(requests[0].body["stop"][0], "</function");
    assert!(
        requests[1].body["messages"]
            .to_string()
            .contains("EXECUTION RESULT of [terminal]:\\nvia-prompt")
    );
    assert_eq!(fx.conv.final_response(), "done through the prompt");
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
    let dir = fx.conv.persistence_dir().unwrap_or_default();
    // Simulate a process killed after the ActionEvent was written and before its observation.
    fx.conv.send_message(Message::user("go"));
    let mut state = fx.conv.state();
    state.execution_status = ExecutionStatus::Running;
    berth_agent::conversation::Store::new(dir.clone())
        .save_state(&state)
        .unwrap_or_else(|e| panic!("{e}"));
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
        .unwrap_or_else(|e| panic!("{e}"));
    events.push(action);
    drop(fx.conv);

    let conv = Conversation::load(
        &dir,
        Some("sk-test-key".into()),
        SecretRegistry::default(),
        options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
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
    assert!(recovered.unwrap_or_default().contains("restart occurred"));
    // The conversation goes on from where it was.
    conv.send_message(Message::user("continue"));
    assert_eq!(conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let after_reload = Conversation::load(
        &dir,
        Some("sk-test-key".into()),
        SecretRegistry::default(),
        options(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after_reload.events(), conv.events());
    assert_eq!(after_reload.final_response(), "after restart");
}

#[tokio::test]
async fn built_in_skills_load_and_trigger() {
    let dir = berth_agent::skills::builtin_skills_dir()
        .unwrap_or_else(|| panic!("no built-in skills dir"));
    let skills = berth_agent::skills::load_dir(&dir);
    let names: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
    for expected in ["git", "github-pr", "python-tests", "node-tests", "docker"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        skills
            .iter()
            .all(|s| s.trigger.is_some() && !s.content.is_empty())
    );
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let llm = ScriptedLlm::start(vec![])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut opts = options();
    opts.builtin_skills = true;
    let conv = Conversation::create(
        new_conversation(
            agent(&llm, Format::OpenAi, false),
            tmp.path(),
            &tmp.path().join("c"),
        ),
        opts,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = conv.send_message(Message::user(
        "Run the pytest suite and open a pull request",
    ));
    let EventBody::MessageEvent {
        activated_skills, ..
    } = &e.body
    else {
        panic!()
    };
    assert_eq!(activated_skills, &["github-pr", "python-tests"]);
}
