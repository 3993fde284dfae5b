//! Time from "start a conversation" to READY, for the process sandbox and the Docker sandbox
//! with its image present (goals: process under 300 ms, Docker under 2 s), and the image's size.
//! Figures, not a pass/fail test. Run: `cargo bench -p berth-app --bench sandbox_start`
//! (the Docker part needs an engine and the `berth-base:bookworm` or Debian base image).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_app::llm_gateway::LlmGateway;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::SandboxService;
use berth_app::sandbox::docker::{DockerOptions, DockerSandboxService};
use berth_app::sandbox::process::ProcessSandboxService;
use berth_app::start::{StartRequest, StartStatus, StartTaskService};
use berth_app::store::Store;
use berth_protocol::LlmConfig;

const RUNS: usize = 5;

/// The release agent-server when it was built (it is what ships), else the debug one.
fn server_binary() -> PathBuf {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let release = target.join("release/berth-agent-server");
    if release.is_file() {
        release
    } else {
        target.join("debug/berth-agent-server")
    }
}

fn request(ws: &Path) -> StartRequest {
    let mut llm = LlmConfig::new("openai/unused");
    llm.base_url = Some("http://127.0.0.1:9/v1".into());
    StartRequest {
        repository: Repository::LocalFolder {
            path: ws.to_path_buf(),
        },
        task: None,
        llm,
        llm_profile: None,
        confirmation_policy: Default::default(),
        max_iterations: 10,
        condense_after: None,
        setup_timeout: 60,
        git_token: None,
        sealing_key: None,
        secrets: Vec::new(),
        continue_conversation: None,
        setup_script: Default::default(),
        confinement: Default::default(),
        git_identity: Default::default(),
        mcp_config: None,
    }
}

async fn time_to_ready(
    service: Arc<dyn SandboxService>,
    store: Store,
    paths: Paths,
    ws: &Path,
) -> anyhow::Result<Vec<Duration>> {
    let starts = StartTaskService::new(
        store.clone(),
        paths,
        service.clone(),
        LlmGateway::new(store)?,
    );
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let task = starts.start(request(ws)).await?;
        times.push(t.elapsed());
        anyhow::ensure!(
            task.status == StartStatus::Ready,
            "start task ended in {:?}: {:?}",
            task.status,
            task.detail
        );
        service
            .delete(task.sandbox_id.as_deref().unwrap_or_default())
            .await?;
    }
    times.sort();
    Ok(times)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let tmp = tempfile::tempdir()?;
        let paths = Paths::at(tmp.path().join("home"));
        let store = Store::open(&paths.database())?;
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(&ws)?;
        // As root (CI), a user's project is theirs: Berth runs a container as the folder's owner
        // and refuses a root-owned folder.
        if nix::unistd::getuid().is_root() {
            std::os::unix::fs::chown(&ws, Some(1000), Some(1000))?;
        }
        let bin = server_binary();
        println!("agent-server binary: {} ({:.1} MB)", bin.display(), std::fs::metadata(&bin)?.len() as f64 / 1e6);

        let process = Arc::new(ProcessSandboxService::new(paths.clone(), store.clone(), Some(bin.clone()))?);
        let p = time_to_ready(process, store.clone(), paths.clone(), &ws).await?;
        println!("process sandbox, request → READY over {RUNS} runs: median {}, min {}, max {} (goal < 300 ms)", ms(p[RUNS / 2]), ms(p[0]), ms(p[RUNS - 1]));

        let options = DockerOptions { image: "berth-sandbox:bench".into(), agent_server_binary: Some(bin), ..DockerOptions::default() };
        match DockerSandboxService::new(paths.clone(), store.clone(), options).await {
            Err(e) => println!("docker sandbox: not measured ({e})"),
            Ok(docker) => {
                let _ = docker.docker().remove_image("berth-sandbox:bench", None::<bollard::query_parameters::RemoveImageOptions>, None).await;
                let t = Instant::now();
                docker.ensure_image().await?;
                let build = t.elapsed();
                let size = docker.docker().inspect_image("berth-sandbox:bench").await?.size.unwrap_or(0);
                println!("sandbox image: built in {} ; size {:.0} MB (goal well under 300 MB)", ms(build), size as f64 / 1e6);
                let docker = Arc::new(docker);
                let d = time_to_ready(docker, store, paths, &ws).await?;
                println!("docker sandbox, request → READY over {RUNS} runs (image present): median {}, min {}, max {} (goal < 2 s)", ms(d[RUNS / 2]), ms(d[0]), ms(d[RUNS - 1]));
            }
        }
        anyhow::Ok(())
    })
}
