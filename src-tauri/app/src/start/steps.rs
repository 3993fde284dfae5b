//! The steps of a start task, from checking the request to a conversation in its sandbox.

use std::time::Duration;

use std::collections::BTreeMap;

use berth_protocol::api::{
    DEFAULT_TOOLS, SecretInput, SendMessageRequest, StartConversationRequest, WorkspaceRequest,
};
use berth_protocol::{AgentSpec, CondenserSpec, ConfirmationPolicy, ConversationInfo};
use serde_json::json;

use super::{Failed, SetupScript, StartRequest, StartStatus, StartTask, StartTaskService, repo};
use crate::agent_client::AgentClient;
use crate::repository::Repository;
use crate::sandbox::{Sandbox, SandboxKind, SandboxSpec};

impl StartTaskService {
    /// Files Berth wrote in the workspace become the container user's, so the agent can change them.
    fn hand_to_sandbox(&self, workspace: &std::path::Path) -> Result<(), Failed> {
        if self.sandboxes.kind() == SandboxKind::Docker {
            crate::sandbox::docker::share_with_container(workspace, &self.paths.home)?;
        }
        Ok(())
    }

    pub(super) async fn steps(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
    ) -> Result<(), Failed> {
        let (workspace, clone_from) = self.check(task, req)?;
        task.workspace = Some(workspace.clone());
        // Chosen before its sandbox, which gets this conversation's folder and key alone.
        let conversation = match &req.continue_conversation {
            Some(id) => uuid::Uuid::parse_str(id)
                .map_err(|_| Failed(format!("{id} is not a conversation id")))?,
            None => uuid::Uuid::new_v4(),
        };
        let sandbox = self
            .start_sandbox(task, req, &workspace, conversation)
            .await?;
        let key = self.sandboxes.session_key(&sandbox.id).await?;
        let client = AgentClient::new(&sandbox.agent_url, key);
        self.prepare_repository(task, req, &workspace, clone_from)
            .await?;
        let sandbox_ws = sandbox.workspace.display().to_string();
        // `.git/` as it is before any code of the repository or the agent runs.
        let git_baseline =
            serde_json::to_string(&crate::git_tampering::GitFingerprint::of(&workspace))
                .map_err(|e| Failed(e.to_string()))?;
        self.run_setup_script(task, req, &workspace, &client, &sandbox_ws)
            .await?;
        self.describe_hooks_and_skills(task, &workspace)?;
        let info = self
            .create_conversation(task, req, &sandbox, &client, conversation)
            .await?;
        self.ready(task, req, &workspace, &sandbox, &info, &git_baseline)
    }

    /// The request names a model and a folder that can be used (or a URL to clone into a new one).
    fn check(
        &self,
        task: &StartTask,
        req: &StartRequest,
    ) -> Result<(std::path::PathBuf, Option<String>), Failed> {
        if req.llm.model.trim().is_empty() {
            return Err(Failed(
                "No LLM model is set: choose one in Settings → LLM.".into(),
            ));
        }
        let (workspace, clone_from) = match &req.repository {
            Repository::LocalFolder { path } => {
                if !path.is_dir() {
                    return Err(Failed(format!(
                        "The folder {} does not exist. Choose an existing folder.",
                        path.display()
                    )));
                }
                let folder = crate::workspace_folder::check(path, &self.paths.home)
                    .map_err(|e| Failed(e.to_string()))?;
                (folder, None)
            }
            Repository::GitUrl { url, .. } => {
                if url.trim().is_empty() {
                    return Err(Failed("The repository URL is empty.".into()));
                }
                let dir = self.paths.workspaces().join(&task.id);
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Failed(format!(
                        "cannot create the workspace {}: {e}",
                        dir.display()
                    ))
                })?;
                (dir, Some(url.clone()))
            }
        };
        Ok((workspace, clone_from))
    }

    async fn start_sandbox(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
        workspace: &std::path::Path,
        conversation: uuid::Uuid,
    ) -> Result<Sandbox, Failed> {
        self.record(
            task,
            StartStatus::WaitingForSandbox,
            Some(format!(
                "Starting a {} sandbox",
                self.sandboxes.kind().as_str()
            )),
        )?;
        let spec = SandboxSpec {
            workspace: workspace.to_path_buf(),
            sealing_key: req
                .sealing_key
                .as_deref()
                .map(|k| crate::secrets::conversation_sealing_key(k, &conversation)),
            conversation_id: Some(conversation),
            confinement: req.confinement.clone(),
            git_identity: req.git_identity.clone(),
        };
        // A first Docker start builds the image, which takes minutes: its steps are shown.
        let mut progress = self.sandboxes.progress();
        let create = self.sandboxes.create(&spec);
        tokio::pin!(create);
        let sandbox = loop {
            let line = async {
                match progress.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                created = &mut create => break created?,
                line = line => match line {
                    Ok(line) => self.note(task, format!("Building the sandbox image: {line}"))?,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => progress = None,
                },
            }
        };
        task.sandbox_id = Some(sandbox.id.clone());
        Ok(sandbox)
    }

    async fn prepare_repository(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
        workspace: &std::path::Path,
        clone_from: Option<String>,
    ) -> Result<(), Failed> {
        self.record(
            task,
            StartStatus::PreparingRepository,
            Some("Preparing the repository".into()),
        )?;
        if let (
            Some(url),
            Repository::GitUrl {
                branch,
                new_branch,
                full_clone,
                ..
            },
        ) = (clone_from, &req.repository)
        {
            repo::clone(
                &url,
                workspace,
                branch.as_deref(),
                new_branch.as_deref(),
                *full_clone,
                req.git_token.as_deref(),
            )
            .await
            .map_err(Failed)?;
            self.hand_to_sandbox(workspace)?;
        }
        Ok(())
    }

    async fn run_setup_script(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
        workspace: &std::path::Path,
        client: &AgentClient,
        sandbox_ws: &str,
    ) -> Result<(), Failed> {
        let has_setup = workspace.join(".openhands/setup.sh").is_file();
        if has_setup && req.setup_script == SetupScript::Skip {
            task.setup_output = Some(
                "Not run: you chose not to run this repository's .openhands/setup.sh. Read it, then run it from the terminal if you trust it."
                    .into(),
            );
        }
        if has_setup && req.setup_script == SetupScript::Run {
            self.record(
                task,
                StartStatus::RunningSetupScript,
                Some("Running .openhands/setup.sh".into()),
            )?;
            let timeout = Duration::from_secs(req.setup_timeout.max(1));
            let out = client
                .execute("bash .openhands/setup.sh", sandbox_ws, timeout)
                .await?;
            let mut output = out.stdout.clone();
            if !out.stderr.is_empty() {
                output.push_str(&out.stderr);
            }
            let tail: String = output
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            task.setup_output = Some(output);
            match out.exit_code {
                0 => {}
                -1 => {
                    return Err(Failed(format!(
                        "The setup script .openhands/setup.sh did not finish within {} s. Make it faster or raise the setup timeout. Last output:\n{tail}",
                        timeout.as_secs()
                    )));
                }
                code => {
                    return Err(Failed(format!(
                        "The setup script .openhands/setup.sh failed with exit code {code}. Fix the script or remove it. Last output:\n{tail}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// What the sandbox will do with the repository's hook and skills, said on the task.
    fn describe_hooks_and_skills(
        &self,
        task: &mut StartTask,
        workspace: &std::path::Path,
    ) -> Result<(), Failed> {
        // The sandbox's git runs the hook (berth_agent::agent_env); nothing is written into
        // .git/hooks, where the host's git would run it too.
        let hooks = if workspace.join(".openhands/pre-commit.sh").is_file() {
            "The sandbox runs .openhands/pre-commit.sh before each commit"
        } else {
            "No git hooks to set up"
        };
        self.record(task, StartStatus::SettingUpGitHooks, Some(hooks.into()))?;

        let skills = berth_agent::skills::load_repo_skills(workspace);
        let names: Vec<&str> = skills.iter().map(|s| s.name.as_str()).collect();
        let detail = if names.is_empty() {
            "No repository skills".to_string()
        } else {
            format!("Repository skills: {}", names.join(", "))
        };
        self.record(task, StartStatus::SettingUpSkills, Some(detail))?;
        Ok(())
    }

    async fn create_conversation(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
        sandbox: &Sandbox,
        client: &AgentClient,
        conversation: uuid::Uuid,
    ) -> Result<ConversationInfo, Failed> {
        self.record(
            task,
            StartStatus::StartingConversation,
            Some("Creating the conversation".into()),
        )?;
        // The sandbox gets the gateway's address and a credential of its own, never the key.
        let at = self.sandboxes.host_address(&sandbox.id).await?;
        let llm = self
            .gateway
            .admit(&sandbox.id, &at, &req.llm, req.llm_profile.as_deref())
            .await?;
        let secrets: BTreeMap<String, SecretInput> = req
            .secrets
            .iter()
            .map(|(name, value, description)| {
                (
                    name.clone(),
                    SecretInput::fixed(value.clone(), description.clone()),
                )
            })
            .collect();
        let mut agent = AgentSpec::new(llm.clone(), DEFAULT_TOOLS);
        // The condenser's calls go through the gateway as the agent's do.
        agent.condenser = req
            .condense_after
            .map(|max| CondenserSpec::summarizing(llm, max));
        agent.mcp_config = req.mcp_config.clone();
        let mut body = StartConversationRequest {
            agent: Some(
                serde_json::to_value(&agent)
                    .map_err(|e| Failed(format!("the agent could not be written: {e}")))?,
            ),
            workspace: Some(WorkspaceRequest {
                working_dir: sandbox.workspace.display().to_string(),
            }),
            conversation_id: Some(conversation),
            confirmation_policy: Some(req.confirmation_policy),
            max_iterations: Some(i64::from(req.max_iterations)),
            // With the create: the MCP servers start then, their `${SECRET}`s read from these.
            secrets,
            ..Default::default()
        };
        // "Confirm risky actions" needs a judge of risk: the LLM's own `security_risk` on each
        // call (OpenHands' LLM security analyzer). Without one every risk is unknown, and
        // every action would wait.
        if matches!(
            req.confirmation_policy,
            ConfirmationPolicy::ConfirmRisky { .. }
        ) {
            body.security_analyzer = Some(json!({"kind": "LLMSecurityAnalyzer"}));
        }
        let task_text = req.task.as_deref().filter(|t| !t.trim().is_empty());
        Ok(if req.continue_conversation.is_some() {
            // Stored outside the sandbox, the conversation loads in the new one by its id, under
            // this request's agent, workspace, policy and secrets (the stored state is the
            // agent's to rewrite); the new message after.
            let info = client.create_conversation(&body).await?;
            if let Some(text) = task_text {
                client.send_message(&info.id, text, true).await?;
            }
            info
        } else {
            body.initial_message = task_text.map(|t| SendMessageRequest::user_text(t, true));
            client.create_conversation(&body).await?
        })
    }

    /// Recorded before READY is announced, so whoever opens the conversation on READY finds it.
    fn ready(
        &self,
        task: &mut StartTask,
        req: &StartRequest,
        workspace: &std::path::Path,
        sandbox: &Sandbox,
        info: &ConversationInfo,
        git_baseline: &str,
    ) -> Result<(), Failed> {
        task.conversation_id = Some(info.id.clone());
        let (repository, branch) = req.repository.describe();
        let workspace_text = workspace.display().to_string();
        self.records.put(&crate::conversation_records::NewRecord {
            id: &info.id,
            workspace: Some(&workspace_text),
            repository: Some(&repository),
            branch: branch.as_deref(),
            sandbox_id: Some(&sandbox.id),
            model: Some(&req.llm.model),
            start_task_id: Some(&task.id),
            title: None,
            git_fingerprint: Some(git_baseline),
        })?;
        self.record(
            task,
            StartStatus::Ready,
            Some(format!(
                "Conversation {} is running in sandbox {}",
                info.id, sandbox.id
            )),
        )?;
        Ok(())
    }
}
