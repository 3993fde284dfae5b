//! The sandbox image, built on demand when the engine lacks it: the Dockerfile that ships with
//! Berth (embedded), the agent-server binary and the built-in skills, sent to the engine as a tar
//! build context; the build's output is published as progress.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures::StreamExt;

use super::SandboxError;
use super::docker::DockerSandboxService;

const DOCKERFILE: &str = include_str!("../../../../sandbox-images/Dockerfile");

impl DockerSandboxService {
    /// Builds the sandbox image if the engine does not have it.
    pub async fn ensure_image(&self) -> Result<(), SandboxError> {
        let _guard = self.build_lock.lock().await;
        if self.docker.inspect_image(&self.options.image).await.is_ok() {
            return Ok(());
        }
        let binary = self
            .options
            .agent_server_binary
            .clone()
            .or_else(super::process::find_binary)
            .ok_or_else(|| {
                SandboxError::ServerBinaryMissing("needed to build the sandbox image".into())
            })?;
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
        let opts = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .t(&self.options.image)
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
        Ok(())
    }
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
