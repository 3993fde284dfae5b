//! The app's client for an agent-server (Berth's or OpenHands'): the same wire protocol the
//! Python client speaks, over loopback HTTP with the sandbox's session key.

use std::time::Duration;

use berth_protocol::{ConversationInfo, Event, GitChange};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the agent-server at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    #[error("the agent-server answered {status}: {detail}")]
    Http { status: u16, detail: String },
    #[error("the agent-server's answer was not understood: {0}")]
    BadResponse(String),
}

#[derive(Clone)]
pub struct AgentClient {
    base: String,
    key: String,
    http: reqwest::Client,
}

/// The merged result of a command run through `/api/bash/execute_bash_command`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i64,
}

impl AgentClient {
    pub fn new(base: impl Into<String>, key: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            base: base.into().trim_end_matches('/').to_string(),
            key: key.into(),
            http,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        let resp = req
            .header("X-Session-API-Key", &self.key)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable {
                url: self.base.clone(),
                message: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| ClientError::BadResponse(e.to_string()))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !(200..300).contains(&status) {
            let detail = match &value["detail"] {
                Value::String(s) => s.clone(),
                Value::Null => value.to_string(),
                other => other.to_string(),
            };
            return Err(ClientError::Http { status, detail });
        }
        Ok(value)
    }

    pub async fn alive(&self) -> bool {
        self.http
            .get(format!("{}/alive", self.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    pub async fn create_conversation(&self, body: &Value) -> Result<ConversationInfo, ClientError> {
        let v = self
            .send(
                self.http
                    .post(format!("{}/api/conversations", self.base))
                    .json(body),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| ClientError::BadResponse(e.to_string()))
    }

    pub async fn conversation(&self, id: &str) -> Result<ConversationInfo, ClientError> {
        let v = self
            .send(
                self.http
                    .get(format!("{}/api/conversations/{id}", self.base)),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| ClientError::BadResponse(e.to_string()))
    }

    pub async fn send_message(&self, id: &str, text: &str, run: bool) -> Result<(), ClientError> {
        let body = json!({"role": "user", "content": [{"type": "text", "text": text}], "run": run});
        self.send(
            self.http
                .post(format!("{}/api/conversations/{id}/events", self.base))
                .json(&body),
        )
        .await
        .map(|_| ())
    }

    /// Adds or replaces secrets of a conversation: `{name: {"kind": "StaticSecret", "value": …}}`.
    pub async fn set_secrets(&self, id: &str, secrets: &Value) -> Result<(), ClientError> {
        self.post(
            &format!("conversations/{id}/secrets"),
            &json!({"secrets": secrets}),
        )
        .await
        .map(|_| ())
    }

    pub async fn run(&self, id: &str) -> Result<(), ClientError> {
        self.post(&format!("conversations/{id}/run"), &json!({}))
            .await
            .map(|_| ())
    }

    pub async fn pause(&self, id: &str) -> Result<(), ClientError> {
        self.post(&format!("conversations/{id}/pause"), &json!({}))
            .await
            .map(|_| ())
    }

    /// Accepts the pending actions (the run goes on) or rejects them with a reason.
    pub async fn respond_to_confirmation(
        &self,
        id: &str,
        accept: bool,
        reason: Option<&str>,
    ) -> Result<(), ClientError> {
        let mut body = json!({"accept": accept});
        if let Some(r) = reason {
            body["reason"] = json!(r);
        }
        self.post(
            &format!("conversations/{id}/events/respond_to_confirmation"),
            &body,
        )
        .await
        .map(|_| ())
    }

    /// A side question answered from the conversation's context, outside its history.
    pub async fn ask(&self, id: &str, question: &str) -> Result<String, ClientError> {
        let v = self
            .post(
                &format!("conversations/{id}/ask_agent"),
                &json!({"question": question}),
            )
            .await?;
        Ok(v["response"].as_str().unwrap_or_default().to_string())
    }

    pub async fn delete_conversation(&self, id: &str) -> Result<(), ClientError> {
        self.send(
            self.http
                .delete(format!("{}/api/conversations/{id}", self.base)),
        )
        .await
        .map(|_| ())
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.send(
            self.http
                .post(format!("{}/api/{path}", self.base))
                .json(body),
        )
        .await
    }

    /// Every event, following the pages.
    pub async fn events(&self, id: &str) -> Result<Vec<Event>, ClientError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut url = format!(
                "{}/api/conversations/{id}/events/search?limit=100",
                self.base
            );
            if let Some(p) = &page {
                url.push_str(&format!("&page_id={p}"));
            }
            let v = self.send(self.http.get(url)).await?;
            for item in v["items"].as_array().into_iter().flatten() {
                out.push(
                    serde_json::from_value(item.clone())
                        .map_err(|e| ClientError::BadResponse(e.to_string()))?,
                );
            }
            match v["next_page_id"].as_str() {
                Some(p) => page = Some(p.to_string()),
                None => return Ok(out),
            }
        }
    }

    /// The changed files of the repository at `path` (a path in the sandbox), as the sandbox's git
    /// sees them: git runs there, never on the host.
    pub async fn git_changes(&self, path: &str) -> Result<Vec<GitChange>, ClientError> {
        let v = self
            .send(
                self.http
                    .get(format!("{}/api/git/changes", self.base))
                    .query(&[("path", path)]),
            )
            .await?;
        serde_json::from_value(v).map_err(|e| ClientError::BadResponse(e.to_string()))
    }

    /// Runs a command in the sandbox and waits for it (the request waits up to `timeout` + 30 s).
    pub async fn execute(
        &self,
        command: &str,
        cwd: &str,
        timeout: Duration,
    ) -> Result<CommandOutput, ClientError> {
        let body = json!({"command": command, "cwd": cwd, "timeout": timeout.as_secs_f64()});
        let req = self
            .http
            .post(format!("{}/api/bash/execute_bash_command", self.base))
            .timeout(timeout + Duration::from_secs(30))
            .json(&body);
        let v = self.send(req).await?;
        Ok(CommandOutput {
            stdout: v["stdout"].as_str().unwrap_or_default().to_string(),
            stderr: v["stderr"].as_str().unwrap_or_default().to_string(),
            exit_code: v["exit_code"].as_i64().unwrap_or(-1),
        })
    }
}
