//! A process-sandbox fixture: a Berth home with its database, the process sandbox service, the
//! start task service and a scripted LLM.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_app::llm_gateway::LlmGateway;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::process::ProcessSandboxService;
use berth_app::start::{StartRequest, StartTaskService};
use berth_app::store::Store;
use berth_protocol::LlmConfig;
use berth_scripted_llm::{ScriptedLlm, Step};

use super::server_binary;

pub struct Fx {
    pub _tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub store: Store,
    pub sandboxes: Arc<ProcessSandboxService>,
    pub starts: StartTaskService,
    pub llm: ScriptedLlm,
}

pub async fn fixture(script: Vec<Step>) -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("berth-home");
    let paths = Paths::at(&home);
    let store = Store::open(&paths.database()).unwrap();
    let sandboxes = Arc::new(
        ProcessSandboxService::new(paths.clone(), store.clone(), Some(server_binary())).unwrap(),
    );
    let starts = StartTaskService::new(
        store.clone(),
        paths,
        sandboxes.clone(),
        LlmGateway::new(store.clone()).unwrap(),
    );
    let llm = ScriptedLlm::start(script).await.unwrap();
    Fx {
        _tmp: tmp,
        home,
        store,
        sandboxes,
        starts,
        llm,
    }
}

pub fn llm(fx: &Fx) -> LlmConfig {
    let mut c = LlmConfig::new("openai/scripted");
    c.base_url = Some(fx.llm.openai_base_url());
    c.api_key = Some("sk-app-test".into());
    c.num_retries = 0;
    c
}

pub fn request(fx: &Fx, repository: Repository, task: Option<&str>) -> StartRequest {
    StartRequest {
        repository,
        task: task.map(str::to_string),
        llm: llm(fx),
        llm_profile: None,
        confirmation_policy: Default::default(),
        max_iterations: 50,
        condense_after: None,
        setup_timeout: 30,
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

pub fn folder(fx: &Fx, name: &str) -> PathBuf {
    let p = fx.home.parent().unwrap_or(Path::new("/")).join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}
