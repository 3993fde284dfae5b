//! Helpers for the REST tests: an authenticated client and a server with a scripted LLM.

use std::time::Duration;

use berth_scripted_llm::{ScriptedLlm, Step};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use super::{KEY, Server};

pub fn agent(llm: &ScriptedLlm) -> Value {
    json!({"kind": "Agent", "llm": {"model": "openai/scripted", "base_url": llm.openai_base_url(), "api_key": "sk-llm-key-123", "usage_id": "agent", "num_retries": 0},
           "tools": [{"name": "terminal"}, {"name": "file_editor"}]})
}

pub struct Api {
    pub http: Client,
    pub base: String,
}

impl Api {
    pub fn new(server: &Server) -> Self {
        Self {
            http: Client::new(),
            base: server.url.clone(),
        }
    }
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Session-API-Key", KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    pub async fn create(&self, llm: &ScriptedLlm, ws: &std::path::Path) -> String {
        let (s, v) = self
            .call(
                Method::POST,
                "/api/conversations",
                Some(json!({"agent": agent(llm), "workspace": {"working_dir": ws}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_str().unwrap().to_string()
    }
    pub async fn wait_status(&self, id: &str, want: &str) -> Value {
        for _ in 0..200 {
            let (_, v) = self
                .call(Method::GET, &format!("/api/conversations/{id}"), None)
                .await;
            if v["execution_status"] == want {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("conversation {id} never reached {want}");
    }
}

pub async fn setup(
    script: Vec<Step>,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, ScriptedLlm, Server, Api) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("ws")).unwrap();
    let llm = ScriptedLlm::start(script).await.unwrap();
    let server = Server::start(tmp.path(), env).await;
    let api = Api::new(&server);
    (tmp, llm, server, api)
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}
