//! The Docker sandbox: Berth's agent-server image in a container, through bollard (the
//! maintained async Docker API client for Rust).
//!
//! Each container runs as a non-root user, publishes the agent-server port on 127.0.0.1 only,
//! gets a fresh session key in a keys file copied into it before it starts (its agent-server
//! reads and deletes it; nothing in the container's environment, which `/proc/1/environ` shows
//! every process in it), has `host.docker.internal` mapped to the host, drops every capability,
//! and never sees the Docker socket. The workspace is bind-mounted at `/workspace/project` and
//! the conversation's own folder (and no other) at `/home/agent/conversations`, so a
//! conversation outlives its container and no container sees another's.
//! Containers carry labels, so a restarted app finds them even without its database.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bollard::Docker;
use bollard::models::ContainerStateStatusEnum;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures::StreamExt;
use tokio::sync::broadcast;

use super::container_config;
pub use super::container_user::share_with_container;
use super::container_user::{CONTAINER_KEYS_PARENT, chown, container_ids, keys_archive, user_of};
pub use super::docker_options::DockerOptions;
use super::keys::SandboxKeys;
use super::logs::SandboxLogs;
use super::network;
use super::{
    HostAddress, Sandbox, SandboxError, SandboxKind, SandboxRecords, SandboxService, SandboxSpec,
    SandboxStatus,
};
use berth_store::paths::Paths;
use berth_store::store::Store;
use berth_store::time::now;

pub const LABEL_SANDBOX: &str = "berth.sandbox";
pub const LABEL_WORKSPACE: &str = "berth.workspace";
/// Which Berth home a container belongs to: an app adopts only its own home's containers, never
/// those of another Berth on the same engine (another user's, a test's) — it would pause them.
pub const LABEL_HOME: &str = "berth.home";
pub use super::container_config::{CONTAINER_CONVERSATIONS, CONTAINER_WORKSPACE};

use super::engine::candidate_sockets;
pub use super::engine::{connect, connect_to};

pub struct DockerSandboxService {
    pub(super) docker: Docker,
    paths: Paths,
    records: SandboxRecords,
    keys: SandboxKeys,
    pub options: DockerOptions,
    logs: SandboxLogs,
    pub(super) progress: broadcast::Sender<String>,
    http: reqwest::Client,
    /// Held while the image is checked or built; the digest of the binary it was built from.
    pub(super) build_lock: tokio::sync::Mutex<Option<String>>,
}

fn docker_err(e: bollard::errors::Error) -> SandboxError {
    SandboxError::Other(format!("Docker: {e}"))
}

fn not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl DockerSandboxService {
    pub async fn new(
        paths: Paths,
        store: Store,
        options: DockerOptions,
    ) -> Result<Self, SandboxError> {
        let docker = connect_to(
            options
                .engine_addresses
                .clone()
                .unwrap_or_else(candidate_sockets),
        )
        .await?;
        let (progress, _) = broadcast::channel(1024);
        Ok(Self {
            docker,
            keys: SandboxKeys::new(paths.clone()),
            paths,
            records: SandboxRecords::new(store),
            options,
            logs: SandboxLogs::default(),
            progress,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| SandboxError::Other(e.to_string()))?,
            build_lock: tokio::sync::Mutex::new(None),
        })
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    async fn container_port(&self, container: &str) -> Result<u16, SandboxError> {
        let info = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(docker_err)?;
        info.network_settings
            .and_then(|n| n.ports)
            .and_then(|p| p.get("8000/tcp").cloned().flatten())
            .and_then(|b| {
                b.into_iter()
                    .find_map(|b| b.host_port.and_then(|p| p.parse().ok()))
            })
            .ok_or_else(|| {
                SandboxError::Start("the container's agent-server port is not published".into())
            })
    }

    async fn wait_healthy(&self, id: &str, container: &str, url: &str) -> Result<(), SandboxError> {
        let started = Instant::now();
        loop {
            if self
                .http
                .get(format!("{url}/alive"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            let state = self
                .docker
                .inspect_container(container, None)
                .await
                .ok()
                .and_then(|i| i.state);
            if let Some(s) = state.filter(|s| {
                matches!(
                    s.status,
                    Some(ContainerStateStatusEnum::EXITED) | Some(ContainerStateStatusEnum::DEAD)
                )
            }) {
                return Err(SandboxError::Start(format!(
                    "the sandbox container stopped (exit code {}) before its agent-server answered:\n{}",
                    s.exit_code.unwrap_or(-1),
                    self.container_logs(container, 20).await
                )));
            }
            if started.elapsed() > self.options.health_timeout {
                return Err(SandboxError::Unhealthy {
                    timeout: self.options.health_timeout,
                    logs: self.logs(id).join("\n"),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn container_logs(&self, container: &str, tail: usize) -> String {
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&tail.to_string())
            .build();
        let mut out = String::new();
        let mut stream = self.docker.logs(container, Some(opts));
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&chunk.to_string());
        }
        out
    }

    /// Follows a container's output into a bounded ring.
    fn follow_logs(&self, id: &str, container: &str) {
        let ring = self.logs.start(id);
        let docker = self.docker.clone();
        let container = container.to_string();
        tokio::spawn(async move {
            let opts = LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .follow(true)
                .build();
            let mut stream = docker.logs(&container, Some(opts));
            while let Some(Ok(chunk)) = stream.next().await {
                for line in chunk.to_string().lines() {
                    ring.push(line);
                }
            }
        });
    }

    /// Pauses the least recently used running sandboxes until fewer than `max_running` run.
    async fn make_room(&self) -> Result<(), SandboxError> {
        let mut running: Vec<Sandbox> = self
            .list()
            .await?
            .into_iter()
            .filter(|s| s.status == SandboxStatus::Running)
            .collect();
        running.sort_by(|a, b| a.last_used_at.cmp(&b.last_used_at));
        while running.len() >= self.options.max_running.max(1) {
            let oldest = running.remove(0);
            tracing::info!(sandbox = %oldest.id, "pausing the least recently used sandbox to stay within the running limit");
            self.pause(&oldest.id).await?;
        }
        Ok(())
    }

    fn record(&self, id: &str) -> Result<Sandbox, SandboxError> {
        self.records.of_kind(id, SandboxKind::Docker)
    }

    /// Containers carrying Berth's label that the database does not know (it was reset).
    async fn adopt_labelled(&self) -> Result<(), SandboxError> {
        let home = format!("{LABEL_HOME}={}", self.home_label());
        let filters: HashMap<&str, Vec<&str>> =
            HashMap::from([("label", vec![LABEL_SANDBOX, home.as_str()])]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        for c in self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(docker_err)?
        {
            let labels = c.labels.unwrap_or_default();
            let (Some(id), Some(cid)) = (labels.get(LABEL_SANDBOX), c.id) else {
                continue;
            };
            if self.records.get(id)?.is_some() {
                continue;
            }
            let host_ws = labels.get(LABEL_WORKSPACE).cloned().unwrap_or_default();
            let port = self.container_port(&cid).await.unwrap_or(0);
            let stamp = now();
            self.records.put(&Sandbox {
                id: id.clone(),
                kind: SandboxKind::Docker,
                status: SandboxStatus::Starting,
                agent_url: format!("http://127.0.0.1:{port}"),
                workspace: CONTAINER_WORKSPACE.into(),
                host_workspace: host_ws.into(),
                pid: None,
                container_id: Some(cid),
                confinement: Some(berth_protocol::ConfinementState::Container),
                created_at: stamp.clone(),
                last_used_at: stamp,
                error: None,
            })?;
        }
        Ok(())
    }

    /// This home, as its containers are labelled: a digest of its path.
    /// Starts a sandbox's container, off link-local addresses before anything uses it, and
    /// follows its logs.
    async fn start_container(&self, id: &str, cid: &str) -> Result<(), SandboxError> {
        self.docker.start_container(cid, None).await.map_err(|e| {
            SandboxError::Start(format!("Docker could not start the container: {e}"))
        })?;
        network::keep_off_link_local(
            &self.docker,
            &self.options.image,
            cid,
            &self.helper_labels(),
        )
        .await?;
        self.follow_logs(id, cid);
        Ok(())
    }

    /// Labels of a helper container: this home's, never a sandbox's (so it is never adopted).
    fn helper_labels(&self) -> HashMap<String, String> {
        HashMap::from([(LABEL_HOME.to_string(), self.home_label())])
    }

    fn home_label(&self) -> String {
        use sha2::{Digest, Sha256};
        let home =
            std::fs::canonicalize(&self.paths.home).unwrap_or_else(|_| self.paths.home.clone());
        let digest = Sha256::digest(home.display().to_string().as_bytes());
        format!("{digest:x}").chars().take(24).collect()
    }

    /// Copies the keys file into a created or stopped container, for its agent-server to read.
    async fn hand_keys(&self, cid: &str, file: &str, user: (u32, u32)) -> Result<(), SandboxError> {
        let archive = keys_archive(file, user)
            .map_err(|e| SandboxError::Start(format!("cannot pack the keys: {e}")))?;
        self.docker
            .upload_to_container(
                cid,
                Some(
                    UploadToContainerOptionsBuilder::default()
                        .path(CONTAINER_KEYS_PARENT)
                        .build(),
                ),
                bollard::body_full(archive.into()),
            )
            .await
            .map_err(|e| SandboxError::Start(format!("Docker could not copy the keys in: {e}")))
    }

    /// Removes the network of a sandbox that failed to start; the start's own error is what
    /// the user needs, so this one is only logged.
    /// Creates the container; its network goes again when that fails.
    async fn create_container(
        &self,
        id: &str,
        body: bollard::models::ContainerCreateBody,
    ) -> Result<String, SandboxError> {
        let options = CreateContainerOptionsBuilder::default()
            .name(&format!("berth-{id}"))
            .build();
        match self.docker.create_container(Some(options), body).await {
            Ok(created) => Ok(created.id),
            Err(e) => {
                self.forget_network(id).await;
                Err(SandboxError::Start(format!(
                    "Docker could not create the container: {e}"
                )))
            }
        }
    }

    /// Removes a container whose start failed. The start's own error is what the user needs; a
    /// failed clean-up is only logged.
    async fn discard(&self, id: &str, cid: &str) {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        if let Err(gone) = self.docker.remove_container(cid, Some(options)).await {
            tracing::warn!(sandbox = %id, error = %gone, "could not remove a failed sandbox's container");
        }
    }

    async fn forget_network(&self, id: &str) {
        if let Err(e) = network::remove(&self.docker, id).await {
            tracing::warn!(sandbox = %id, error = %e, "could not remove a failed sandbox's network");
        }
    }

    async fn refresh(&self, mut s: Sandbox) -> Result<Sandbox, SandboxError> {
        let Some(cid) = s.container_id.clone() else {
            return Ok(s);
        };
        let status = match self.docker.inspect_container(&cid, None).await {
            Err(e) if not_found(&e) => SandboxStatus::Missing,
            Err(e) => return Err(docker_err(e)),
            Ok(info) => match info.state.and_then(|st| st.status) {
                Some(ContainerStateStatusEnum::RUNNING) => SandboxStatus::Running,
                Some(ContainerStateStatusEnum::PAUSED) => SandboxStatus::Paused,
                // A stopped container resumes with `docker start`.
                Some(ContainerStateStatusEnum::EXITED)
                | Some(ContainerStateStatusEnum::CREATED) => SandboxStatus::Paused,
                Some(ContainerStateStatusEnum::DEAD) => SandboxStatus::Missing,
                _ => s.status,
            },
        };
        if status != s.status {
            let why = (status == SandboxStatus::Missing).then_some("the sandbox container is gone");
            self.records.set_status(&s.id, status, why)?;
            s.status = status;
            s.error = why.map(str::to_string).or(s.error);
        }
        Ok(s)
    }
}

#[async_trait]
impl SandboxService for DockerSandboxService {
    fn kind(&self) -> SandboxKind {
        SandboxKind::Docker
    }

    async fn create(&self, spec: &SandboxSpec) -> Result<Sandbox, SandboxError> {
        spec.check()?;
        self.ensure_image().await?;
        self.make_room().await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let keys = self.keys.create(&id, spec.sealing_key.as_deref())?;
        let conversations = spec.conversations_root(&self.paths, &id)?;
        let ids = container_ids(&spec.workspace, &self.paths.home)?;
        if nix::unistd::getuid().is_root() {
            // Berth's own folder, for the container's user to write.
            chown(&conversations, ids)?;
        }
        let host_ws =
            std::fs::canonicalize(&spec.workspace).unwrap_or_else(|_| spec.workspace.clone());
        let labels = HashMap::from([
            (LABEL_SANDBOX.to_string(), id.clone()),
            (LABEL_WORKSPACE.to_string(), host_ws.display().to_string()),
            (LABEL_HOME.to_string(), self.home_label()),
        ]);
        let network = network::create(&self.docker, &id, &labels).await?;
        let body = container_config::body(
            &self.options,
            network,
            &host_ws,
            &conversations,
            ids,
            labels,
            &spec.git_identity,
        );
        let cid = self.create_container(&id, body).await?;
        let stamp = now();
        let mut sandbox = Sandbox {
            id: id.clone(),
            kind: SandboxKind::Docker,
            status: SandboxStatus::Starting,
            agent_url: String::new(),
            workspace: CONTAINER_WORKSPACE.into(),
            host_workspace: host_ws,
            pid: None,
            container_id: Some(cid.clone()),
            confinement: Some(berth_protocol::ConfinementState::Container),
            created_at: stamp.clone(),
            last_used_at: stamp,
            error: None,
        };
        self.records.put(&sandbox)?;
        let started = async {
            self.hand_keys(&cid, &keys, ids).await?;
            self.start_container(&id, &cid).await?;
            let port = self.container_port(&cid).await?;
            sandbox.agent_url = format!("http://127.0.0.1:{port}");
            self.wait_healthy(&id, &cid, &sandbox.agent_url).await
        };
        if let Err(e) = started.await {
            self.discard(&id, &cid).await;
            self.forget_network(&id).await;
            self.records
                .set_status(&id, SandboxStatus::Error, Some(&e.to_string()))?;
            return Err(e);
        }
        sandbox.status = SandboxStatus::Running;
        self.records.put(&sandbox)?;
        Ok(sandbox)
    }

    async fn get(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let s = self.record(id)?;
        self.refresh(s).await
    }

    async fn list(&self) -> Result<Vec<Sandbox>, SandboxError> {
        self.adopt_labelled().await?;
        let mut out = Vec::new();
        for s in self.records.list(SandboxKind::Docker)? {
            out.push(self.refresh(s).await?);
        }
        Ok(out)
    }

    async fn pause(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let s = self.get(id).await?;
        if !s.needs_pause()? {
            return Ok(s);
        }
        let cid = s.container_id.clone().unwrap_or_default();
        self.docker
            .pause_container(&cid)
            .await
            .map_err(docker_err)?;
        self.records.set_status(id, SandboxStatus::Paused, None)?;
        self.get(id).await
    }

    async fn resume(&self, id: &str) -> Result<Sandbox, SandboxError> {
        let mut s = self.get(id).await?;
        if !s.needs_resume()? {
            return Ok(s);
        }
        self.make_room().await?;
        let cid = s.container_id.clone().unwrap_or_default();
        let info = self
            .docker
            .inspect_container(&cid, None)
            .await
            .map_err(docker_err)?;
        let state = info.state.and_then(|st| st.status);
        if state == Some(ContainerStateStatusEnum::PAUSED) {
            self.docker
                .unpause_container(&cid)
                .await
                .map_err(docker_err)?;
        } else {
            // Its agent-server deleted the keys file when it first started.
            let user = info.config.and_then(|c| c.user);
            self.hand_keys(&cid, &self.keys.file(id)?, user_of(user.as_deref()))
                .await?;
            self.start_container(id, &cid).await?;
        }
        // A restarted container may have a new host port.
        s.agent_url = format!("http://127.0.0.1:{}", self.container_port(&cid).await?);
        s.status = SandboxStatus::Running;
        s.last_used_at = now();
        self.records.put(&s)?;
        self.wait_healthy(id, &cid, &s.agent_url).await?;
        Ok(s)
    }

    async fn delete(&self, id: &str) -> Result<(), SandboxError> {
        let s = self.record(id)?;
        if let Some(cid) = &s.container_id {
            // A stop that fails (stopped or gone already) leaves the forced removal to do it.
            if let Err(e) = self
                .docker
                .stop_container(
                    cid,
                    Some(StopContainerOptionsBuilder::default().t(2).build()),
                )
                .await
                && !not_found(&e)
            {
                tracing::debug!(sandbox = %id, error = %e, "the container did not stop; removing it by force");
            }
            match self
                .docker
                .remove_container(
                    cid,
                    Some(
                        RemoveContainerOptionsBuilder::default()
                            .force(true)
                            .v(true)
                            .build(),
                    ),
                )
                .await
            {
                Ok(()) => {}
                Err(e) if not_found(&e) => {}
                Err(e) => return Err(docker_err(e)),
            }
        }
        network::remove(&self.docker, id).await?;
        self.records.delete(id)?;
        super::remove_sandbox_dir(&self.paths.sandbox_dir(id));
        self.logs.forget(id);
        Ok(())
    }

    async fn session_key(&self, id: &str) -> Result<String, SandboxError> {
        self.record(id)?;
        self.keys.session_key(id)
    }

    async fn host_address(&self, id: &str) -> Result<HostAddress, SandboxError> {
        self.record(id)?;
        network::host_address(&self.docker, id).await
    }

    fn touch(&self, id: &str) -> Result<(), SandboxError> {
        self.records.touch(id, SandboxKind::Docker)
    }

    fn progress(&self) -> Option<broadcast::Receiver<String>> {
        Some(self.progress.subscribe())
    }

    fn logs(&self, id: &str) -> Vec<String> {
        self.logs.lines(id)
    }
}
