//! Each Docker sandbox gets a bridge network of its own. On Docker's default bridge every
//! container can open connections to every other one, so one conversation's agent could reach
//! another sandbox's agent-server (its key still guards it) and whatever that agent started.
//! Containers on different bridge networks cannot reach each other (Docker isolates them),
//! and inter-container traffic is off within the network too, should anything else join it.
//!
//! The network carries the sandbox's labels, so a home's leftover networks can be found.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::NetworkCreateRequest;

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
