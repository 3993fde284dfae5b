//! The app's client for an agent-server (Berth's or OpenHands'): the same wire protocol the
//! Python client speaks, over loopback HTTP with the sandbox's session key.
//!
//! The agent-server lives in the sandbox, with the agent: what it answers is untrusted, and a
//! paused or stopped sandbox still accepts connections. So every request has a time limit,
//! every answer a size limit, and following pages of events a page limit.

use std::collections::HashSet;
use std::time::Duration;

use berth_protocol::api::{
    AskRequest, AskResponse, BashOutput, ConfirmationResponse, ExecuteBashRequest, Page,
    SendMessageRequest, StartConversationRequest,
};
use berth_protocol::{ConversationInfo, Event, GitChange};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the agent-server at {url} cannot be reached: {message}")]
    Unreachable { url: String, message: String },
    #[error("the agent-server answered {status}: {detail}")]
    Http { status: u16, detail: String },
    #[error(
        "the agent-server at {url} did not answer within {} s: the sandbox may be paused, stopped or overloaded. Resume it, or start it again from the sandbox list",
        after.as_secs()
    )]
    TimedOut { url: String, after: Duration },
    #[error("the agent-server's answer was not understood: {0}")]
    BadResponse(String),
}

/// How long a request may take. Generous for loopback; `execute` and `ask` set their own.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A side question is an LLM call: as long as the LLM's own default timeout.
const ASK_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest answer read: a page of 100 events, each capped by the agent-server, fits well.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Pages of 100 events followed in one read of a conversation's events.
pub const MAX_PAGES: usize = 10_000;

#[derive(Clone)]
pub struct AgentClient {
    base: String,
    key: String,
    http: reqwest::Client,
    timeout: Duration,
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
            timeout: REQUEST_TIMEOUT,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, ClientError> {
        self.send_within(req, self.timeout).await
    }

    /// Sends `req`; the whole exchange, answer body included, must end within `limit`.
    async fn send_within(
        &self,
        req: reqwest::RequestBuilder,
        limit: Duration,
    ) -> Result<Value, ClientError> {
        let exchange = async {
            let mut resp = req
                .header("X-Session-API-Key", &self.key)
                .send()
                .await
                .map_err(|e| ClientError::Unreachable {
                    url: self.base.clone(),
                    message: e.to_string(),
                })?;
            let status = resp.status().as_u16();
            if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
                return Err(too_large());
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| ClientError::BadResponse(e.to_string()))?
            {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body))
        };
        let (status, body) =
            tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| ClientError::TimedOut {
                    url: self.base.clone(),
                    after: limit,
                })??;
        let value: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
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
            .timeout(self.timeout)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    pub async fn create_conversation(
        &self,
        req: &StartConversationRequest,
    ) -> Result<ConversationInfo, ClientError> {
        decode(self.post("conversations", req).await?)
    }

    pub async fn conversation(&self, id: &str) -> Result<ConversationInfo, ClientError> {
        let v = self
            .send(
                self.http
                    .get(format!("{}/api/conversations/{id}", self.base)),
            )
            .await?;
        decode(v)
    }

    pub async fn send_message(&self, id: &str, text: &str, run: bool) -> Result<(), ClientError> {
        let body = SendMessageRequest::user_text(text, run);
        self.post(&format!("conversations/{id}/events"), &body)
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
        let body = ConfirmationResponse {
            accept,
            reason: reason.map(str::to_string),
        };
        self.post(
            &format!("conversations/{id}/events/respond_to_confirmation"),
            &body,
        )
        .await
        .map(|_| ())
    }

    /// A side question answered from the conversation's context, outside its history.
    pub async fn ask(&self, id: &str, question: &str) -> Result<String, ClientError> {
        let req = self
            .http
            .post(format!("{}/api/conversations/{id}/ask_agent", self.base))
            .json(&AskRequest {
                question: question.to_string(),
            });
        let answer: AskResponse = decode(self.send_within(req, ASK_TIMEOUT).await?)?;
        Ok(answer.response)
    }

    /// The conversation's MCP servers, their health and tools.
    pub async fn mcp_servers(
        &self,
        id: &str,
    ) -> Result<Vec<berth_protocol::McpServerState>, ClientError> {
        let v = self
            .send(
                self.http
                    .get(format!("{}/api/conversations/{id}/mcp", self.base)),
            )
            .await?;
        decode(v)
    }

    pub async fn delete_conversation(&self, id: &str) -> Result<(), ClientError> {
        self.send(
            self.http
                .delete(format!("{}/api/conversations/{id}", self.base)),
        )
        .await
        .map(|_| ())
    }

    async fn post(&self, path: &str, body: &impl Serialize) -> Result<Value, ClientError> {
        self.send(
            self.http
                .post(format!("{}/api/{path}", self.base))
                .json(body),
        )
        .await
    }

    /// Every event, following the pages (at most `MAX_PAGES`, none twice).
    pub async fn events(&self, id: &str) -> Result<Vec<Event>, ClientError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        let mut seen = HashSet::new();
        loop {
            if seen.len() >= MAX_PAGES {
                return Err(ClientError::BadResponse(format!(
                    "the events of conversation {id} run past {MAX_PAGES} pages"
                )));
            }
            let mut url = format!(
                "{}/api/conversations/{id}/events/search?limit=100",
                self.base
            );
            if let Some(p) = &page {
                url.push_str(&format!("&page_id={p}"));
            }
            let v: Page<Value> = decode(self.send(self.http.get(url)).await?)?;
            // One event this app cannot read (a newer server's, or a broken one) must not stop
            // the conversation's mirroring for good: it is left out and said.
            for item in v.items {
                let event_id = item["id"].as_str().unwrap_or_default().to_string();
                match serde_json::from_value(item) {
                    Ok(event) => out.push(event),
                    Err(e) => {
                        tracing::warn!(conversation = %id, event = %event_id, error = %e, "left out an event the app cannot read")
                    }
                }
            }
            match v.next_page_id.as_deref() {
                Some(p) if !seen.insert(p.to_string()) => {
                    return Err(ClientError::BadResponse(format!(
                        "the events of conversation {id} lead back to page {p}"
                    )));
                }
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
        decode(v)
    }

    /// Runs a command in the sandbox and waits for it (the request waits up to `timeout` + 30 s).
    pub async fn execute(
        &self,
        command: &str,
        cwd: &str,
        timeout: Duration,
    ) -> Result<CommandOutput, ClientError> {
        let body = ExecuteBashRequest {
            command: command.to_string(),
            cwd: Some(cwd.to_string()),
            timeout: timeout.as_secs_f64(),
        };
        let req = self
            .http
            .post(format!("{}/api/bash/execute_bash_command", self.base))
            .json(&body);
        let out: BashOutput = decode(self.send_within(req, timeout + self.timeout).await?)?;
        Ok(CommandOutput {
            stdout: out.stdout.unwrap_or_default(),
            stderr: out.stderr.unwrap_or_default(),
            // No exit code: the command did not end on its own (killed at its timeout).
            exit_code: out.exit_code.unwrap_or(-1),
        })
    }
}

/// An answer read into its wire type; one that does not fit is the server's fault, said so.
fn decode<T: DeserializeOwned>(v: Value) -> Result<T, ClientError> {
    serde_json::from_value(v).map_err(|e| ClientError::BadResponse(e.to_string()))
}

fn too_large() -> ClientError {
    ClientError::BadResponse(format!(
        "the answer is larger than {} MiB",
        MAX_BODY / (1024 * 1024)
    ))
}

#[cfg(test)]
mod tests {
    //! A compromised or stopped sandbox, played by loopback servers that misbehave.

    use std::collections::HashMap;
    use std::time::Instant;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;

    use super::*;

    async fn serve(router: Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        url
    }

    #[tokio::test]
    async fn a_sandbox_that_accepts_but_never_answers_is_a_clear_error() {
        // A stopped process still has its socket: the kernel accepts, nobody answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", silent.local_addr().unwrap());
        let mut client = AgentClient::new(&url, "key");
        client.timeout = Duration::from_millis(500);
        let started = Instant::now();
        let err = client.conversation("c").await.err();
        assert!(matches!(err, Some(ClientError::TimedOut { .. })), "{err:?}");
        let shown = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains("did not answer within 0 s"), "{shown}");
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[tokio::test]
    async fn an_endless_answer_is_cut_off() {
        let chunk = vec![b'x'; 1024 * 1024];
        let router = Router::new().route(
            "/api/conversations/c",
            get(move || {
                let chunk = chunk.clone();
                async move {
                    // No content length: the answer streams until the reader stops.
                    let body = futures::stream::repeat_with(move || {
                        Ok::<_, std::io::Error>(bytes::Bytes::from(chunk.clone()))
                    });
                    Body::from_stream(body)
                }
            }),
        );
        let client = AgentClient::new(serve(router).await, "key");
        let shown = client
            .conversation("c")
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(shown.contains("larger than 32 MiB"), "{shown}");
    }

    #[tokio::test]
    async fn an_event_the_app_cannot_read_is_left_out_and_the_rest_kept() {
        let event = |id: &str| {
            json!({"id": id, "timestamp": "2026-12-01T10:00:00", "source": "agent", "kind": "MessageEvent",
                "llm_message": {"role": "assistant", "content": [{"type": "text", "text": id}]}})
        };
        let page = json!({"items": [event("first"), {"id": "odd", "kind": "FromTheFuture"}, 7, event("last")], "next_page_id": null});
        let router = Router::new().route(
            "/api/conversations/c/events/search",
            get(move || {
                let page = page.clone();
                async move { axum::Json(page) }
            }),
        );
        let client = AgentClient::new(serve(router).await, "key");
        let ids: Vec<String> = client
            .events("c")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["first", "last"]);
    }

    #[tokio::test]
    async fn pages_that_lead_back_or_never_end_are_refused() {
        let router = Router::new()
            .route(
                "/api/conversations/loop/events/search",
                get(|| async { axum::Json(json!({"items": [], "next_page_id": "p1"})) }),
            )
            .route(
                "/api/conversations/endless/events/search",
                get(
                    |q: axum::extract::Query<HashMap<String, String>>| async move {
                        let next = q
                            .get("page_id")
                            .map_or(0, |p| p.parse::<u64>().unwrap_or(0))
                            + 1;
                        axum::Json(json!({"items": [], "next_page_id": next.to_string()}))
                    },
                ),
            );
        let client = AgentClient::new(serve(router).await, "key");
        let shown =
            |r: Result<Vec<Event>, ClientError>| r.err().map(|e| e.to_string()).unwrap_or_default();
        let looped = shown(client.events("loop").await);
        assert!(looped.contains("lead back to page p1"), "{looped}");
        let endless = shown(client.events("endless").await);
        assert!(endless.contains("run past 10000 pages"), "{endless}");
    }
}
