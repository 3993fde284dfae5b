//! How the Docker sandbox service runs its containers: image, limits, how many run at once,
//! and where the engine and the agent-server binary are.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DockerOptions {
    pub image: String,
    /// CPUs per sandbox (fractions allowed); `None` = no limit.
    pub cpus: Option<f64>,
    pub memory_mb: Option<u64>,
    /// Running sandboxes allowed; starting one more pauses the least recently used.
    pub max_running: usize,
    pub health_timeout: Duration,
    /// The agent-server binary to put in an image built on demand.
    pub agent_server_binary: Option<PathBuf>,
    /// The image to build on; `None` = `berth-base:bookworm` when present, else Debian's slim image.
    pub base_image: Option<String>,
    /// Where to look for the engine (`unix://…`, `tcp://…`); `None` = the usual places.
    pub engine_addresses: Option<Vec<String>>,
}

impl Default for DockerOptions {
    fn default() -> Self {
        Self {
            image: "berth-sandbox:latest".into(),
            cpus: Some(2.0),
            memory_mb: Some(4096),
            max_running: 3,
            health_timeout: Duration::from_secs(60),
            agent_server_binary: None,
            base_image: None,
            engine_addresses: None,
        }
    }
}
