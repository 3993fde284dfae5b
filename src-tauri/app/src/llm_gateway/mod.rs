//! The LLM gateway: a sandbox's agent-server reaches its LLM through the app, so no LLM key
//! enters a sandbox. At a start the sandbox is given a credential of its own in place of the key
//! and the gateway's address as its base URL; the gateway checks the credential, puts the real
//! key on (read from the keychain at each call, so a key fixed in Settings applies to running
//! conversations) and forwards to the real URL. A credential dies with its sandbox.
//!
//! Forwarding from the host also reaches an LLM that listens on the host's loopback only
//! (Ollama's and LM Studio's defaults), which a container cannot reach itself.
//!
//! Where it listens: on loopback for process sandboxes; for a Docker sandbox on Linux, on its
//! network's bridge address (the host's own on that network, not reachable from the LAN). The
//! port is one per home, recorded, so the base URL stored in a sandbox holds after a restart.
//! Two Berth processes on one home (the window and the `berth` command line) share the routes
//! through the database; whichever binds an address first serves it.

mod forward;
mod routes;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_protocol::LlmConfig;

use crate::sandbox::HostAddress;
use crate::secrets::{SecretError, SecretKind, SecretStore};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretError),
    #[error("{0}")]
    Config(String),
    #[error(
        "Berth cannot listen for the sandbox's LLM calls on {addr}: {source}. Another program may hold the port; quit it or delete the `llm_gateway_port` setting."
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct LlmGateway {
    shared: Arc<Shared>,
    listeners: Arc<Listeners>,
}

/// What a call needs; the listeners' tasks hold it, not the listeners (no cycle, so dropping the
/// gateway stops them).
struct Shared {
    store: Store,
    secrets: SecretStore,
    http: reqwest::Client,
    /// Keys given with a start request rather than kept in a profile, by credential hash; they
    /// are never written down, so such routes lose their key when the app stops.
    keys: Mutex<HashMap<String, String>>,
}

struct Listeners {
    port: u16,
    tasks: Mutex<HashMap<IpAddr, tokio::task::AbortHandle>>,
}

impl Drop for Listeners {
    fn drop(&mut self) {
        for task in self
            .tasks
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            task.abort();
        }
    }
}

impl LlmGateway {
    pub fn new(store: Store) -> Result<Self, GatewayError> {
        let candidate = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|source| GatewayError::Listen {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                source,
            })?
            .port();
        let port = routes::port(&store, candidate)?;
        // Redirects are not followed: a POST does not survive one, and the key must not follow
        // it to another host.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GatewayError::Config(e.to_string()))?;
        Ok(Self {
            shared: Arc::new(Shared {
                secrets: SecretStore::new(store.clone())?,
                store,
                http,
                keys: Mutex::default(),
            }),
            listeners: Arc::new(Listeners {
                port,
                tasks: Mutex::default(),
            }),
        })
    }

    pub fn port(&self) -> u16 {
        self.listeners.port
    }

    /// Lets a sandbox call the LLM of `llm`, whose key is the profile's (`None`: the config's
    /// own). Returns the config to give the sandbox: the gateway's URL and a credential of the
    /// sandbox's own in place of the real URL and key.
    pub async fn admit(
        &self,
        sandbox_id: &str,
        at: &HostAddress,
        llm: &LlmConfig,
        profile: Option<&str>,
    ) -> Result<LlmConfig, GatewayError> {
        let upstream =
            berth_agent::llm::base_url(llm).map_err(|e| GatewayError::Config(e.to_string()))?;
        let credential = format!("berth-llm-{}", crate::token::random_token());
        let route = routes::Route {
            sandbox_id: sandbox_id.to_string(),
            model: llm.model.clone(),
            upstream,
            profile: profile.map(str::to_string),
            bind: at.bind,
        };
        routes::insert(&self.shared.store, &credential, &route)?;
        if let (None, Some(key)) = (profile, &llm.api_key) {
            self.shared
                .keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(routes::hash(&credential), key.clone());
        }
        self.serve(at.bind).await?;
        let mut given = llm.clone();
        given.base_url = Some(format!("http://{}:{}", at.host, self.port()));
        given.api_key = Some(credential);
        Ok(given)
    }

    /// Listens on every address a live route was given (what a starting app does).
    pub async fn serve_recorded(&self) -> Result<(), GatewayError> {
        for ip in routes::binds(&self.shared.store)? {
            self.serve(ip).await?;
        }
        Ok(())
    }

    /// Listens where this sandbox calls (a sandbox another Berth process started).
    pub async fn serve_sandbox(&self, sandbox_id: &str) -> Result<(), GatewayError> {
        for ip in routes::binds_of(&self.shared.store, sandbox_id)? {
            self.serve(ip).await?;
        }
        Ok(())
    }

    async fn serve(&self, ip: IpAddr) -> Result<(), GatewayError> {
        if self.is_serving(ip) {
            return Ok(());
        }
        let addr = SocketAddr::new(ip, self.port());
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                tracing::info!(%addr, "the LLM gateway's address is taken; another Berth process on this home serves it");
                return Ok(());
            }
            Err(source) => return Err(GatewayError::Listen { addr, source }),
        };
        let router = axum::Router::new()
            .fallback(forward::handle)
            .layer(axum::extract::DefaultBodyLimit::max(
                forward::MAX_REQUEST_BYTES,
            ))
            .with_state(self.shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(%addr, error = %e, "the LLM gateway stopped listening");
            }
        });
        tracing::info!(%addr, "the LLM gateway listens");
        self.listeners
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ip, task.abort_handle());
        Ok(())
    }

    fn is_serving(&self, ip: IpAddr) -> bool {
        self.listeners
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .is_some_and(|t| !t.is_finished())
    }
}

impl Shared {
    fn route(&self, credential: &str) -> Result<Option<routes::Route>, StoreError> {
        routes::find(&self.store, credential)
    }

    /// The real key for a call: the profile's, read now, or the one held for the route.
    async fn key(
        &self,
        credential: &str,
        route: &routes::Route,
    ) -> Result<Option<String>, SecretError> {
        match &route.profile {
            Some(profile) => {
                let secrets = self.secrets.clone();
                let profile = profile.clone();
                tokio::task::spawn_blocking(move || secrets.get(SecretKind::Llm, &profile))
                    .await
                    .map_err(|e| SecretError::NoKeychain(e.to_string()))?
            }
            None => Ok(self
                .keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&routes::hash(credential))
                .cloned()),
        }
    }

    fn http(&self) -> &reqwest::Client {
        &self.http
    }
}
