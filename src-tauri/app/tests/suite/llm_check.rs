//! "Test connection" against a scripted LLM speaking the OpenAI API (a good key, a refused key,
//! nothing listening), and local servers found by their APIs (Ollama's `/api/tags`, LM Studio's
//! `/v1/models`) on loopback.

use axum::Json;
use axum::routing::get;
use berth_app::llm_check::{LocalKind, detect_local, test_connection};
use berth_app::settings::LlmProfile;
use berth_scripted_llm::{ScriptedLlm, Step};
use serde_json::json;

fn profile(base_url: String) -> LlmProfile {
    LlmProfile {
        name: "work".into(),
        model: "openai/gpt-test".into(),
        base_url: Some(base_url),
    }
}

#[tokio::test]
async fn test_connection_says_what_is_wrong() {
    let llm = ScriptedLlm::start(vec![
        Step::text("OK"),
        Step::error(
            401,
            r#"{"error": {"message": "Incorrect API key provided"}}"#,
        ),
    ])
    .await
    .unwrap();
    let good = test_connection(&profile(llm.openai_base_url()), Some("sk-good".into())).await;
    assert!(good.ok, "{good:?}");
    assert!(
        good.message.contains("openai/gpt-test answered in"),
        "{good:?}"
    );
    assert_eq!(
        llm.requests()[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer sk-good")
    );

    let refused = test_connection(&profile(llm.openai_base_url()), Some("sk-bad".into())).await;
    assert!(!refused.ok);
    assert!(
        refused.message.contains("The API key was refused"),
        "{refused:?}"
    );

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().map(|a| a.port()).unwrap()
    };
    let nothing = test_connection(&profile(format!("http://127.0.0.1:{port}/v1")), None).await;
    assert!(!nothing.ok);
    assert!(
        nothing.message.contains("Nothing answers at"),
        "{nothing:?}"
    );
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}",
        listener.local_addr().map(|a| a.to_string()).unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn local_ollama_and_lm_studio_are_found_with_their_models() {
    let ollama = serve(axum::Router::new().route(
        "/api/tags",
        get(|| async {
            Json(json!({"models": [{"name": "qwen3-coder:30b"}, {"name": "llama3.2"}]}))
        }),
    ))
    .await;
    let lm_studio = serve(axum::Router::new().route(
        "/v1/models",
        get(|| async {
            Json(json!({"object": "list", "data": [{"id": "devstral-small", "object": "model"}]}))
        }),
    ))
    .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().map(|a| a.to_string()).unwrap())
    };
    let found = detect_local(&[
        (LocalKind::Ollama, ollama.as_str()),
        (LocalKind::LmStudio, lm_studio.as_str()),
        (LocalKind::Ollama, closed.as_str()),
    ])
    .await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].kind, LocalKind::Ollama);
    assert_eq!(found[0].base_url, format!("{ollama}/v1"));
    assert_eq!(
        found[0].models,
        vec!["ollama/qwen3-coder:30b", "ollama/llama3.2"]
    );
    assert_eq!(found[1].kind, LocalKind::LmStudio);
    assert_eq!(found[1].models, vec!["lm_studio/devstral-small"]);
}
