//! The gateway over real HTTP on loopback, a real SQLite file and the scripted LLM: what the
//! sandbox gets, what the LLM receives, and what a caller holding a credential cannot do.

use berth_protocol::LlmConfig;
use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::{Value, json};

use super::LlmGateway;
use crate::sandbox::{HostAddress, Sandbox, SandboxKind, SandboxRecords, SandboxStatus};
use crate::store::Store;
use crate::time::now;

struct Fx {
    _dir: tempfile::TempDir,
    store: Store,
    gateway: LlmGateway,
    http: reqwest::Client,
}

fn fixture() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("berth.db")).unwrap();
    let gateway = LlmGateway::new(store.clone()).unwrap();
    Fx {
        _dir: dir,
        store,
        gateway,
        http: reqwest::Client::new(),
    }
}

fn sandbox(fx: &Fx, id: &str) {
    SandboxRecords::new(fx.store.clone())
        .put(&Sandbox {
            id: id.into(),
            kind: SandboxKind::Process,
            status: SandboxStatus::Running,
            agent_url: "http://127.0.0.1:9".into(),
            workspace: "/w".into(),
            host_workspace: "/w".into(),
            pid: None,
            container_id: None,
            confinement: None,
            created_at: now(),
            last_used_at: now(),
            error: None,
        })
        .unwrap();
}

async fn admit(fx: &Fx, sandbox_id: &str, model: &str, base_url: &str) -> LlmConfig {
    sandbox(fx, sandbox_id);
    let mut llm = LlmConfig::new(model);
    llm.base_url = Some(base_url.into());
    llm.api_key = Some("sk-the-real-key".into());
    fx.gateway
        .admit(sandbox_id, &HostAddress::loopback(), &llm, None)
        .await
        .unwrap()
}

async fn post(fx: &Fx, url: &str, credential: &str) -> (u16, Value) {
    let r = fx
        .http
        .post(url)
        .bearer_auth(credential)
        .json(&json!({"model": "scripted", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_sandbox_gets_a_credential_and_the_llm_gets_the_key() {
    let fx = fixture();
    let llm = ScriptedLlm::start(vec![Step::text("hello from the LLM")])
        .await
        .unwrap();
    let given = admit(&fx, "s1", "openai/scripted", &llm.openai_base_url()).await;
    let credential = given.api_key.clone().unwrap_or_default();
    assert!(credential.starts_with("berth-llm-") && !credential.contains("sk-the-real-key"));
    let base = given.base_url.clone().unwrap_or_default();
    assert_eq!(base, format!("http://127.0.0.1:{}", fx.gateway.port()));

    let (status, answer) = post(&fx, &format!("{base}/chat/completions"), &credential).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "hello from the LLM"
    );
    let seen = llm.requests();
    assert_eq!(seen.len(), 1);
    let auth = seen[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    assert_eq!(auth, Some("Bearer sk-the-real-key"));
}

#[tokio::test]
async fn anthropic_calls_carry_the_key_in_its_header() {
    let fx = fixture();
    let llm = ScriptedLlm::start(vec![Step::text("hi")]).await.unwrap();
    let given = admit(&fx, "s1", "anthropic/claude-x", &llm.anthropic_base_url()).await;
    let r = fx
        .http
        .post(format!("{}/v1/messages", given.base_url.unwrap_or_default()))
        .header("x-api-key", given.api_key.unwrap_or_default())
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let seen = llm.requests();
    let header = |name: &str| {
        seen[0]
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(header("x-api-key").as_deref(), Some("sk-the-real-key"));
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
}

/// A prompt-injected agent holding its credential tries the provider's other APIs, a guessed
/// credential, and its credential after its sandbox is gone.
#[tokio::test]
async fn a_credential_opens_only_its_sandboxs_completions() {
    let fx = fixture();
    let llm = ScriptedLlm::start(vec![Step::text("one")]).await.unwrap();
    let given = admit(&fx, "s1", "openai/scripted", &llm.openai_base_url()).await;
    let base = given.base_url.clone().unwrap_or_default();
    let credential = given.api_key.clone().unwrap_or_default();

    for path in [
        "/files",
        "/fine_tuning/jobs",
        "/v1/messages",
        "/chat/completions/../files",
    ] {
        let (status, body) = post(&fx, &format!("{base}{path}"), &credential).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let listed = fx
        .http
        .get(format!("{base}/models"))
        .bearer_auth(&credential)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 404);

    let (status, body) = post(&fx, &format!("{base}/chat/completions"), "berth-llm-guess").await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("does not know")
    );
    let (status, _) = post(&fx, &format!("{base}/chat/completions"), "sk-the-real-key").await;
    assert_eq!(status, 401);

    SandboxRecords::new(fx.store.clone()).delete("s1").unwrap();
    let (status, body) = post(&fx, &format!("{base}/chat/completions"), &credential).await;
    assert_eq!(status, 401, "{body}");
    assert!(llm.requests().is_empty(), "a refused call reached the LLM");
}

#[tokio::test]
async fn an_llm_that_is_not_running_is_named_in_the_error() {
    let fx = fixture();
    let given = admit(&fx, "s1", "ollama/qwen3-coder", "http://127.0.0.1:9/v1").await;
    let (status, body) = post(
        &fx,
        &format!("{}/chat/completions", given.base_url.unwrap_or_default()),
        &given.api_key.unwrap_or_default(),
    )
    .await;
    assert_eq!(status, 502);
    let message = body["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("could not reach the LLM at http://127.0.0.1:9/v1"),
        "{message}"
    );
}

/// The port is the home's: a gateway opened again (a restarted app) listens where the sandboxes
/// of the last run call, and still knows their credentials.
#[tokio::test]
async fn a_restarted_gateway_serves_the_last_runs_sandboxes() {
    let fx = fixture();
    let llm = ScriptedLlm::start(vec![Step::text("after the restart")])
        .await
        .unwrap();
    sandbox(&fx, "s1");
    let mut config = LlmConfig::new("openai/scripted");
    config.base_url = Some(llm.openai_base_url());
    let given = fx
        .gateway
        .admit("s1", &HostAddress::loopback(), &config, Some("local"))
        .await
        .unwrap();
    let port = fx.gateway.port();
    let Fx {
        _dir,
        store,
        gateway,
        http,
    } = fx;
    drop(gateway);
    // The old listener's task lets go of the port when the runtime next polls it.
    for _ in 0..100 {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let again = LlmGateway::new(store.clone()).unwrap();
    assert_eq!(again.port(), port);
    again.serve_recorded().await.unwrap();
    let fx = Fx {
        _dir,
        store,
        gateway: again,
        http,
    };
    // The profile "local" has no key (as a local model's): the call goes without one.
    let (status, answer) = post(
        &fx,
        &format!("{}/chat/completions", given.base_url.unwrap_or_default()),
        &given.api_key.unwrap_or_default(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(llm.requests()[0].headers.get("authorization").is_none());
}
