//! Sandboxes of both kinds behind one service: new sandboxes are of the chosen kind, and every
//! other call goes to the service of the sandbox's recorded kind. So conversations started with
//! Docker stay reachable after the user switches to process sandboxes (and the other way), and
//! an app without a Docker engine still lists, resumes and deletes its process sandboxes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use berth_store::paths::Paths;
use berth_store::store::Store;

use super::docker::{DockerOptions, DockerSandboxService};
use super::process::ProcessSandboxService;
use super::{
    HostAddress, Sandbox, SandboxError, SandboxKind, SandboxRecords, SandboxService, SandboxSpec,
};

/// A kind of sandbox this machine can or cannot run.
pub enum Availability {
    Ready(Arc<dyn SandboxService>),
    /// Why not (no engine, no agent-server program): the error a user sees when they ask for it.
    Unavailable(String),
}

pub struct RoutedSandboxes {
    records: SandboxRecords,
    /// Every kind, as a map so that a new kind is one more entry.
    kinds: BTreeMap<SandboxKind, Availability>,
    /// The kind of new sandboxes.
    create_kind: SandboxKind,
}

impl RoutedSandboxes {
    pub fn new(
        records: SandboxRecords,
        kinds: BTreeMap<SandboxKind, Availability>,
        create_kind: SandboxKind,
    ) -> Self {
        Self {
            records,
            kinds,
            create_kind,
        }
    }

    /// Both kinds, whichever can run here. New sandboxes are of the `preferred` kind; `None`
    /// means Docker when an engine answers, else processes, with a note for the user (a process
    /// sandbox does not isolate the agent).
    pub async fn discover(
        paths: Paths,
        store: Store,
        docker: DockerOptions,
        preferred: Option<SandboxKind>,
    ) -> (Self, Option<String>) {
        let binary = docker.agent_server_binary.clone();
        let (docker, docker_problem) =
            match DockerSandboxService::new(paths.clone(), store.clone(), docker).await {
                Ok(d) => (Availability::Ready(Arc::new(d)), None),
                Err(e) => {
                    let problem = match &e {
                        SandboxError::NoEngine(tried) => {
                            format!("No Docker engine answers ({tried})")
                        }
                        other => format!("Docker cannot be used ({other})"),
                    };
                    (Availability::Unavailable(e.to_string()), Some(problem))
                }
            };
        let process = match ProcessSandboxService::new(paths, store.clone(), binary) {
            Ok(p) => Availability::Ready(Arc::new(p)),
            Err(e) => Availability::Unavailable(e.to_string()),
        };
        let (kind, note) = match (preferred, docker_problem) {
            (Some(kind), _) => (kind, None),
            (None, None) => (SandboxKind::Docker, None),
            (None, Some(problem)) => (
                SandboxKind::Process,
                Some(format!(
                    "{problem}, so agents run as local processes: they can read and change anything your user account can. Start Docker to run them in containers."
                )),
            ),
        };
        let kinds = BTreeMap::from([
            (SandboxKind::Docker, docker),
            (SandboxKind::Process, process),
        ]);
        (Self::new(SandboxRecords::new(store), kinds, kind), note)
    }

    fn of(&self, kind: SandboxKind) -> Result<&Arc<dyn SandboxService>, SandboxError> {
        match self.kinds.get(&kind) {
            Some(Availability::Ready(service)) => Ok(service),
            Some(Availability::Unavailable(why)) => Err(SandboxError::Unavailable(why.clone())),
            None => Err(SandboxError::Unavailable(format!(
                "{} sandboxes are not offered by this app",
                kind.as_str()
            ))),
        }
    }

    fn route(&self, id: &str) -> Result<&Arc<dyn SandboxService>, SandboxError> {
        let record = self
            .records
            .get(id)?
            .ok_or_else(|| SandboxError::NotFound(id.to_string()))?;
        self.of(record.kind)
    }

    fn available(&self) -> impl Iterator<Item = &Arc<dyn SandboxService>> {
        self.kinds.values().filter_map(|a| match a {
            Availability::Ready(service) => Some(service),
            Availability::Unavailable(_) => None,
        })
    }
}

#[async_trait]
impl SandboxService for RoutedSandboxes {
    fn kind(&self) -> SandboxKind {
        self.create_kind
    }

    async fn create(&self, spec: &SandboxSpec) -> Result<Sandbox, SandboxError> {
        self.of(self.create_kind)?.create(spec).await
    }

    async fn get(&self, id: &str) -> Result<Sandbox, SandboxError> {
        self.route(id)?.get(id).await
    }

    async fn list(&self) -> Result<Vec<Sandbox>, SandboxError> {
        let mut all = Vec::new();
        for service in self.available() {
            all.extend(service.list().await?);
        }
        all.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(all)
    }

    async fn pause(&self, id: &str) -> Result<Sandbox, SandboxError> {
        self.route(id)?.pause(id).await
    }

    async fn resume(&self, id: &str) -> Result<Sandbox, SandboxError> {
        self.route(id)?.resume(id).await
    }

    async fn delete(&self, id: &str) -> Result<(), SandboxError> {
        self.route(id)?.delete(id).await
    }

    async fn session_key(&self, id: &str) -> Result<String, SandboxError> {
        self.route(id)?.session_key(id).await
    }

    async fn host_address(&self, id: &str) -> Result<HostAddress, SandboxError> {
        self.route(id)?.host_address(id).await
    }

    fn logs(&self, id: &str) -> Vec<String> {
        self.route(id).map(|s| s.logs(id)).unwrap_or_default()
    }

    fn touch(&self, id: &str) -> Result<(), SandboxError> {
        self.route(id)?.touch(id)
    }

    fn progress(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        self.of(self.create_kind).ok()?.progress()
    }

    async fn pause_idle(&self, idle: Duration) -> Result<Vec<String>, SandboxError> {
        let mut paused = Vec::new();
        for service in self.available() {
            paused.extend(service.pause_idle(idle).await?);
        }
        Ok(paused)
    }
}
