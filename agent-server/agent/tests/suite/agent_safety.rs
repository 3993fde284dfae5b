//! How the loop protects the user and recovers from bad input: stuck detection, secret masking,
//! retries and provider errors, malformed tool calls, skills, prompt-based tool calling.

use crate::common;

use std::time::Duration;

use berth_agent::Conversation;
use berth_protocol::{AgentContext, EventBody, ExecutionStatus, Message, SkillSpec, SkillTrigger};
use berth_scripted_llm::{ScriptedLlm, Step};
use common::fixture::{count, finish, setup};
use common::{Format, agent, new_conversation, options};
use serde_json::json;

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
    let ws_file = std::fs::read_to_string(fx.tmp.path().join("ws/key.txt")).unwrap();
    assert_eq!(
        ws_file.trim(),
        secret,
        "the command itself had the real value"
    );
    let events_json = serde_json::to_string(&fx.conv.events()).unwrap();
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
    assert!(!serde_json::to_string(&state).unwrap().contains(secret));
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
    let (code, detail, class) = err.expect("no error event");
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
        .unwrap();
    assert_eq!(tool_results.len(), 3);
    assert!(tool_results.iter().all(|r| {
        r["content"][0]["text"]
            .as_str()
            .unwrap()
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
    .unwrap();
    // Repo skills are read when the conversation is built: make a new one on the same workspace.
    let ws = fx.tmp.path().join("ws");
    let mut req = new_conversation(
        agent(&fx.llm, Format::OpenAi, false),
        &ws,
        &fx.tmp.path().join("c2"),
    );
    req.agent.agent_context = fx.conv.state().agent.agent_context.clone();
    let conv = Conversation::create(req, options()).unwrap();
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
    conv.run().await.unwrap();
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
    conv.run().await.unwrap();
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
async fn built_in_skills_load_and_trigger() {
    let dir = berth_agent::skills::builtin_skills_dir().expect("no built-in skills dir");
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
    let tmp = tempfile::tempdir().unwrap();
    let llm = ScriptedLlm::start(vec![]).await.unwrap();
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
    .unwrap();
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

/// A conversation that cannot be saved (a full disk, its folder gone) stops with an error
/// event the user sees, not a log line, and goes on once saving works again. The events folder
/// is swapped for a file, which fails every write, for root too.
#[tokio::test]
async fn a_failure_to_save_stops_the_run_with_an_error_and_saving_again_goes_on() {
    let fx = setup(vec![Step::text("first"), Step::text("second")], |_| {}).await;
    fx.conv.send_message(Message::user("one"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let root = fx.tmp.path().join("conversations");
    let dir = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .expect("no conversation folder");
    let events = dir.join("events");
    let saved = std::fs::read_dir(&events).map(|d| d.count()).unwrap_or(0);
    std::fs::rename(&events, dir.join("events.away")).unwrap();
    std::fs::write(&events, "not a folder").unwrap();

    fx.conv.send_message(Message::user("two"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Error));
    let errors: Vec<String> = fx
        .conv
        .events()
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::ConversationErrorEvent { code, detail, .. } => {
                Some(format!("{code}: {detail}"))
            }
            _ => None,
        })
        .collect();
    assert!(!errors.is_empty(), "no error event");
    assert!(
        errors.iter().all(|e| e.starts_with("PersistenceError: ")),
        "{errors:?}"
    );
    assert!(errors[0].contains("Free disk space"), "{errors:?}");
    assert_eq!(
        fx.llm.requests().len(),
        1,
        "the agent did not go on unsaved"
    );

    std::fs::remove_file(&events).unwrap();
    std::fs::rename(dir.join("events.away"), &events).unwrap();
    fx.conv.send_message(Message::user("three"));
    assert_eq!(fx.conv.run().await.ok(), Some(ExecutionStatus::Finished));
    let now = std::fs::read_dir(&events).map(|d| d.count()).unwrap_or(0);
    assert!(now > saved, "{now} files, {saved} before");
}
