//! Sandboxes of both kinds behind one service: new sandboxes are of the chosen kind, and every
//! other call goes to the service of the sandbox's recorded kind. So conversations started with
//! Docker stay reachable after the user switches to process sandboxes (and the other way), and
//! an app without a Docker engine still lists, resumes and deletes its process sandboxes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{
    HostAddress, Sandbox, SandboxError, SandboxKind, SandboxRecords, SandboxService, SandboxSpec,
};

pub struct RoutedSandboxes {
    records: SandboxRecords,
    process: Option<Arc<dyn SandboxService>>,
    docker: Option<Arc<dyn SandboxService>>,
    /// The kind of new sandboxes.
    create_kind: SandboxKind,
    /// Why new sandboxes cannot be of `create_kind` (no engine, no agent-server program).
    unavailable: Option<String>,
}

impl RoutedSandboxes {
    pub fn new(
        records: SandboxRecords,
        process: Option<Arc<dyn SandboxService>>,
        docker: Option<Arc<dyn SandboxService>>,
        create_kind: SandboxKind,
        unavailable: Option<String>,
    ) -> Self {
        Self {
            records,
            process,
            docker,
            create_kind,
            unavailable,
        }
    }

    fn of(&self, kind: SandboxKind) -> Result<&Arc<dyn SandboxService>, SandboxError> {
        let service = match kind {
            SandboxKind::Docker => self.docker.as_ref(),
            SandboxKind::Process => self.process.as_ref(),
        };
        service.ok_or_else(|| match kind {
            SandboxKind::Docker => SandboxError::NoEngine(
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "the usual places".into()),
            ),
            SandboxKind::Process => SandboxError::ServerBinaryMissing(
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "berth-agent-server beside the app".into()),
            ),
        })
    }

    fn route(&self, id: &str) -> Result<&Arc<dyn SandboxService>, SandboxError> {
        let record = self
            .records
            .get(id)?
            .ok_or_else(|| SandboxError::NotFound(id.to_string()))?;
        self.of(record.kind)
    }

    fn available(&self) -> impl Iterator<Item = &Arc<dyn SandboxService>> {
        self.process.iter().chain(self.docker.iter())
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

    async fn pause_idle(&self, idle: Duration) -> Result<Vec<String>, SandboxError> {
        let mut paused = Vec::new();
        for service in self.available() {
            paused.extend(service.pause_idle(idle).await?);
        }
        Ok(paused)
    }
}
