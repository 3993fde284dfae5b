//! The sandbox image, built on demand when the engine lacks it: the Dockerfile that ships with
//! Berth (embedded), the agent-server binary and the built-in skills, sent to the engine as a tar
//! build context; the build's output is published as progress.
//!
//! The image is labelled with a digest of what it was built from, so an image built from another
//! agent-server (an older app, another build) is built again rather than used.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures::StreamExt;

use super::SandboxError;
use super::docker::DockerSandboxService;

const DOCKERFILE: &str = include_str!("../../../sandbox-images/Dockerfile");

impl DockerSandboxService {
    /// Builds the sandbox image if the engine does not have it.
    pub async fn ensure_image(&self) -> Result<(), SandboxError> {
        let mut built_from = self.build_lock.lock().await;
        let binary = self
            .options
            .agent_server_binary
            .clone()
            .or_else(super::process::find_binary);
        let digest = match (&*built_from, &binary) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(b)) => Some(source_digest(b).await?),
            (None, None) => None,
        };
        if let Ok(image) = self.docker.inspect_image(&self.options.image).await {
            let label = image
                .config
                .and_then(|c| c.labels)
                .and_then(|l| l.get(LABEL_SOURCE).cloned());
            // Without a binary to build from, the image there is the one to use.
            if digest.is_none() || label == digest {
                *built_from = digest;
                return Ok(());
            }
        }
        let binary = binary.ok_or_else(|| {
            SandboxError::ServerBinaryMissing("needed to build the sandbox image".into())
        })?;
        let digest = digest.unwrap_or_default();
        let base = match &self.options.base_image {
            Some(b) => b.clone(),
            None if self
                .docker
                .inspect_image("berth-base:bookworm")
                .await
                .is_ok() =>
            {
                "berth-base:bookworm".into()
            }
            None => "debian:bookworm-slim".into(),
        };
        let _ = self
            .progress
            .send(format!("Building {} on {base}", self.options.image));
        let context = build_context(&binary).map_err(|e| {
            SandboxError::ImageBuild(format!("cannot prepare the build context: {e}"))
        })?;
        let args: HashMap<&str, &str> = HashMap::from([("BASE", base.as_str())]);
        let labels: HashMap<&str, &str> = HashMap::from([(LABEL_SOURCE, digest.as_str())]);
        let opts = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(&self.options.image)
            .labels(&labels)
            .rm(true)
            .forcerm(true)
            .buildargs(&args)
            .build();
        let mut stream =
            self.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(err) = info.error_detail.and_then(|d| d.message) {
                        return Err(SandboxError::ImageBuild(err));
                    }
                    if let Some(line) = info
                        .stream
                        .map(|s| s.trim_end().to_string())
                        .filter(|s| !s.is_empty())
                    {
                        let _ = self.progress.send(line);
                    }
                }
                Err(e) => return Err(SandboxError::ImageBuild(e.to_string())),
            }
        }
        let _ = self.progress.send(format!("Built {}", self.options.image));
        *built_from = Some(digest);
        Ok(())
    }
}

/// The label that records what an image was built from.
const LABEL_SOURCE: &str = "berth.source";

/// SHA-256 over the Dockerfile and the agent-server binary.
async fn source_digest(binary: &Path) -> Result<String, SandboxError> {
    let binary = binary.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(DOCKERFILE.as_bytes());
        let mut file = std::fs::File::open(&binary)?;
        std::io::copy(&mut file, &mut hash)?;
        Ok::<_, std::io::Error>(format!("{:x}", hash.finalize()))
    })
    .await
    .map_err(|e| SandboxError::ImageBuild(e.to_string()))?
    .map_err(|e| SandboxError::ServerBinaryMissing(format!("cannot read it: {e}")))
}

/// The image's build context: the Dockerfile, the agent-server binary and the built-in skills.
fn build_context(binary: &Path) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    // Docker's tar reader refuses GNU sparse entries, which large binaries can turn into.
    tar.sparse(false);
    let mut header = tar::Header::new_gnu();
    header.set_size(DOCKERFILE.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "Dockerfile", DOCKERFILE.as_bytes())?;
    tar.append_path_with_name(binary, "berth-agent-server")?;
    match berth_agent::skills::builtin_skills_dir() {
        Some(dir) => tar.append_dir_all("skills", dir)?,
        None => {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            h.set_cksum();
            tar.append_data(&mut h, "skills", std::io::empty())?;
        }
    }
    tar.into_inner()
}
