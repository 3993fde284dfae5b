//! Finding a Docker engine: `DOCKER_HOST`, the Linux socket, Docker Desktop's sockets on macOS,
//! Podman's — the first that answers a ping — or an error saying what to do.

use std::path::Path;
use std::time::Duration;

use bollard::Docker;

use super::SandboxError;

/// Where a Docker engine may answer, in the order tried.
pub(super) fn candidate_sockets() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(h) = std::env::var("DOCKER_HOST")
        && !h.is_empty()
    {
        out.push(h);
    }
    out.push("unix:///var/run/docker.sock".into());
    if let Some(home) = dirs::home_dir() {
        out.push(format!("unix://{}/.docker/run/docker.sock", home.display()));
        out.push(format!(
            "unix://{}/.docker/desktop/docker.sock",
            home.display()
        ));
    }
    if let Ok(rt) = std::env::var("XDG_RUNTIME_DIR") {
        out.push(format!("unix://{rt}/podman/podman.sock"));
    }
    out.push("unix:///run/podman/podman.sock".into());
    out
}

/// The first Docker engine that answers, or what to do about it.
pub async fn connect() -> Result<Docker, SandboxError> {
    connect_to(candidate_sockets()).await
}

/// The first of these engine addresses (`unix://…`, `tcp://…`) that answers.
pub async fn connect_to(candidates: Vec<String>) -> Result<Docker, SandboxError> {
    let mut tried = Vec::new();
    for addr in candidates {
        let docker = if let Some(path) = addr.strip_prefix("unix://") {
            if !Path::new(path).exists() {
                tried.push(format!("{addr} (absent)"));
                continue;
            }
            Docker::connect_with_unix(path, 120, bollard::API_DEFAULT_VERSION)
        } else {
            Docker::connect_with_http(&addr, 120, bollard::API_DEFAULT_VERSION)
        };
        let Ok(docker) = docker else {
            tried.push(format!("{addr} (unusable)"));
            continue;
        };
        match tokio::time::timeout(Duration::from_secs(5), docker.ping()).await {
            Ok(Ok(_)) => {
                let fallback = docker.clone();
                return Ok(docker.negotiate_version().await.unwrap_or(fallback));
            }
            Ok(Err(e)) => tried.push(format!("{addr} ({e})")),
            Err(_) => tried.push(format!("{addr} (no answer)")),
        }
    }
    Err(SandboxError::NoEngine(tried.join("; ")))
}
