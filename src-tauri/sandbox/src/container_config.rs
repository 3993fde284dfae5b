//! What a sandbox container is made of: its mounts, limits, user, environment and the
//! privileges it gives up. Kept apart from the Docker calls so the boundary can be read in one
//! place.

use std::collections::HashMap;
use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, PortBinding};

use super::GitIdentity;
use super::container_user::{CONTAINER_KEYS_DIR, CONTAINER_KEYS_PARENT};
use super::docker_options::DockerOptions;

pub const CONTAINER_WORKSPACE: &str = "/workspace/project";
pub const CONTAINER_CONVERSATIONS: &str = "/home/agent/conversations";

fn bind(source: &Path, target: &str) -> Mount {
    Mount {
        source: Some(source.display().to_string()),
        target: Some(target.to_string()),
        typ: Some(MountType::BIND),
        read_only: Some(false),
        ..Default::default()
    }
}

/// The container for one sandbox: the workspace and its conversation folder (and nothing else)
/// mounted, the agent-server port published on loopback only, no capabilities, no new
/// privileges, bounded CPU, memory and processes, running as `ids` (user, group).
pub(super) fn body(
    options: &DockerOptions,
    network: String,
    host_workspace: &Path,
    conversations: &Path,
    ids: (u32, u32),
    labels: HashMap<String, String>,
    git_identity: &GitIdentity,
) -> ContainerCreateBody {
    let host_config = HostConfig {
        network_mode: Some(network),
        port_bindings: Some(HashMap::from([(
            "8000/tcp".to_string(),
            Some(vec![PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            }]),
        )])),
        // Mount structs, not "src:dst" strings, so a ':' in a host path cannot change them.
        mounts: Some(vec![
            bind(host_workspace, CONTAINER_WORKSPACE),
            bind(conversations, CONTAINER_CONVERSATIONS),
        ]),
        nano_cpus: options.cpus.map(|c| (c * 1e9) as i64),
        memory: options.memory_mb.map(|m| (m * 1024 * 1024) as i64),
        extra_hosts: Some(vec!["host.docker.internal:host-gateway".into()]),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        pids_limit: Some(4096),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(options.image.clone()),
        env: Some(
            [
                format!(
                    "{}={CONTAINER_KEYS_PARENT}/{CONTAINER_KEYS_DIR}/keys.json",
                    berth_protocol::KEYS_FILE_ENV
                ),
                format!("OH_CONVERSATIONS_PATH={CONTAINER_CONVERSATIONS}"),
            ]
            .into_iter()
            .chain(
                git_identity
                    .environment()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}")),
            )
            .collect(),
        ),
        labels: Some(labels),
        exposed_ports: Some(vec!["8000/tcp".into()]),
        user: Some(format!("{}:{}", ids.0, ids.1)),
        working_dir: Some(CONTAINER_WORKSPACE.into()),
        host_config: Some(host_config),
        ..Default::default()
    }
}
