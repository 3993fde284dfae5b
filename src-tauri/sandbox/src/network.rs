//! Each Docker sandbox gets a bridge network of its own. On Docker's default bridge every
//! container can open connections to every other one, so one conversation's agent could reach
//! another sandbox's agent-server (its key still guards it) and whatever that agent started.
//! Containers on different bridge networks cannot reach each other (Docker isolates them),
//! and inter-container traffic is off within the network too, should anything else join it.
//!
//! The network carries the sandbox's labels, so a home's leftover networks can be found.
//!
//! Link-local addresses, where clouds answer for a machine's credentials (169.254.169.254 on
//! AWS, GCP and Azure; 100.100.100.200 on Alibaba), are made unreachable inside the container:
//! `unreachable` routes are added to its network namespace before the agent-server is used,
//! after each start, by a helper container; the sandbox holds no capability and runs with
//! `no-new-privileges`, so the agent cannot take the routes away.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, NetworkCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, WaitContainerOptions,
};
use futures::StreamExt;

use super::SandboxError;

/// The sandbox's network, named after it.
pub(super) fn name(sandbox_id: &str) -> String {
    format!("berth-{sandbox_id}")
}

/// Creates the sandbox's network; its name goes into the container's `network_mode`.
pub(super) async fn create(
    docker: &Docker,
    sandbox_id: &str,
    labels: &HashMap<String, String>,
) -> Result<String, SandboxError> {
    let name = name(sandbox_id);
    let request = NetworkCreateRequest {
        name: name.clone(),
        driver: Some("bridge".into()),
        labels: Some(labels.clone()),
        options: Some(HashMap::from([(
            "com.docker.network.bridge.enable_icc".to_string(),
            "false".to_string(),
        )])),
        ..Default::default()
    };
    docker.create_network(request).await.map_err(|e| {
        let text = e.to_string();
        let hint = if text.contains("non-overlapping") || text.contains("address pools") {
            " Docker has no address range left for another network: delete sandboxes you no longer need (Sandboxes page) or widen Docker's default-address-pools."
        } else {
            ""
        };
        SandboxError::Start(format!(
            "Docker could not create the sandbox's network: {text}.{hint}"
        ))
    })?;
    Ok(name)
}

/// Removes the sandbox's network; one already gone is fine.
pub(super) async fn remove(docker: &Docker, sandbox_id: &str) -> Result<(), SandboxError> {
    match docker.remove_network(&name(sandbox_id)).await {
        Ok(()) => Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(SandboxError::Other(format!(
            "Docker could not remove the sandbox's network: {e}"
        ))),
    }
}

/// Where the sandbox reaches the app. On Linux the engine runs on this machine and the network's
/// bridge address is the host's own: the app listens there, reachable from this sandbox and not
/// from the LAN. Docker Desktop (macOS, Windows) runs containers in a VM and forwards
/// `host.docker.internal` to the host's loopback, so the app listens on loopback.
pub(super) async fn host_address(
    docker: &Docker,
    sandbox_id: &str,
) -> Result<super::HostAddress, SandboxError> {
    if !cfg!(target_os = "linux") {
        return Ok(super::HostAddress {
            bind: std::net::Ipv4Addr::LOCALHOST.into(),
            host: "host.docker.internal".into(),
        });
    }
    let network = docker
        .inspect_network(
            &name(sandbox_id),
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
        .map_err(|e| {
            SandboxError::Other(format!(
                "Docker could not describe the sandbox's network: {e}"
            ))
        })?;
    let gateway = network
        .ipam
        .and_then(|ipam| ipam.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.gateway)
        .find_map(|g| g.parse::<std::net::Ipv4Addr>().ok())
        .ok_or_else(|| {
            SandboxError::Other(format!(
                "the sandbox's network {} has no IPv4 gateway address",
                name(sandbox_id)
            ))
        })?;
    Ok(super::HostAddress {
        bind: gateway.into(),
        host: gateway.to_string(),
    })
}

/// Destinations the agent must not reach from a Docker sandbox.
pub(super) const UNREACHABLE: &[&str] = &["169.254.0.0/16", "100.100.100.200/32"];

/// Adds the unreachable routes to a started container's network namespace (new at every
/// start, so this runs after each one). A short-lived helper container of the same image joins
/// that namespace with NET_ADMIN and adds them: the sandbox itself keeps no capability at all.
pub(super) async fn keep_off_link_local(
    docker: &Docker,
    image: &str,
    container: &str,
    labels: &HashMap<String, String>,
) -> Result<(), SandboxError> {
    let fail = |why: String| {
        SandboxError::Start(format!(
            "could not keep the sandbox off link-local and cloud metadata addresses: {why}"
        ))
    };
    let script: Vec<String> = UNREACHABLE
        .iter()
        .map(|net| format!("ip route replace unreachable {net}"))
        .collect();
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(vec!["sh".into(), "-c".into(), script.join(" && ")]),
        entrypoint: Some(vec![]),
        user: Some("0:0".into()),
        labels: Some(labels.clone()),
        host_config: Some(HostConfig {
            network_mode: Some(format!("container:{container}")),
            cap_drop: Some(vec!["ALL".into()]),
            cap_add: Some(vec!["NET_ADMIN".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let helper = docker
        .create_container(None::<CreateContainerOptions>, body)
        .await
        .map_err(|e| fail(e.to_string()))?
        .id;
    let ran = run_helper(docker, &helper).await.map_err(fail);
    let removed = docker
        .remove_container(
            &helper,
            Some(RemoveContainerOptions {
                force: true,
                ..Default::default()
            }),
        )
        .await;
    if let Err(e) = removed {
        tracing::warn!(error = %e, "could not remove the route helper container");
    }
    ran
}

/// Runs the helper to its end; `Err` with what it said when it fails.
async fn run_helper(docker: &Docker, helper: &str) -> Result<(), String> {
    docker
        .start_container(helper, None)
        .await
        .map_err(|e| e.to_string())?;
    let mut waits = docker.wait_container(helper, None::<WaitContainerOptions>);
    let code = match waits.next().await {
        Some(Ok(done)) => done.status_code,
        // bollard reports a non-zero exit as an error carrying the code.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("the helper container vanished".into()),
    };
    if code == 0 {
        return Ok(());
    }
    let mut said = String::new();
    let mut logs = docker.logs(
        helper,
        Some(LogsOptions {
            stdout: true,
            stderr: true,
            ..Default::default()
        }),
    );
    while let Some(Ok(line)) = logs.next().await {
        said.push_str(&line.to_string());
    }
    Err(format!(
        "exit {code}: {}. The sandbox image needs `ip` (iproute2)",
        said.trim()
    ))
}
