//! The calls behind the commands: arguments in, one call into the app, the answer out. The
//! errors of the app become [`ApiError`]s with stable codes.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::*;
use crate::app::AppError;
use crate::conversations::ConversationError;
use crate::secrets::SecretError;
use crate::settings::SettingsError;
use crate::start::StartError;

impl From<ConversationError> for ApiError {
    fn from(e: ConversationError) -> Self {
        let code = match &e {
            ConversationError::NotFound(_) => ErrorCode::NotFound,
            ConversationError::Archived(_) => ErrorCode::Archived,
            ConversationError::NoModel => ErrorCode::NoModel,
            ConversationError::Invalid(_) => ErrorCode::Invalid,
            ConversationError::Agent(_) => ErrorCode::AgentServer,
            ConversationError::Sandbox(_) => ErrorCode::Sandbox,
            ConversationError::Secrets(s) => secret_code(s),
            ConversationError::Settings(_) | ConversationError::Store(_) => ErrorCode::Store,
            ConversationError::Start(StartError::NotFound(_)) => ErrorCode::NotFound,
            ConversationError::Start(_) => ErrorCode::Store,
            ConversationError::Io(_) => ErrorCode::Io,
        };
        ApiError::new(code, e.to_string())
    }
}

fn secret_code(e: &SecretError) -> ErrorCode {
    match e {
        SecretError::NoKeychain(_) => ErrorCode::NoKeychain,
        SecretError::Lost { .. } => ErrorCode::SecretLost,
        SecretError::Invalid(_) => ErrorCode::Invalid,
        SecretError::Store(_) => ErrorCode::Store,
    }
}

impl From<SecretError> for ApiError {
    fn from(e: SecretError) -> Self {
        ApiError::new(secret_code(&e), e.to_string())
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> Self {
        match e {
            SettingsError::Invalid(problems) => ApiError {
                code: ErrorCode::InvalidSettings,
                message: "Some settings need fixing.".into(),
                problems,
            },
            other => ApiError::new(ErrorCode::Store, other.to_string()),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Settings(s) => s.into(),
            AppError::Secrets(s) => s.into(),
            AppError::NoProfile(_) => ApiError::new(ErrorCode::NotFound, e.to_string()),
            other => ApiError::new(ErrorCode::App, other.to_string()),
        }
    }
}

impl From<StartError> for ApiError {
    fn from(e: StartError) -> Self {
        ConversationError::from(e).into()
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::new(ErrorCode::Store, e.to_string())
    }
}

/// What the first-run screen and the status bar show.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct AppStatus {
    pub version: String,
    /// No LLM profile is active yet: show the first-run setup.
    pub needs_setup: bool,
    /// Where new conversations run.
    pub sandbox_kind: crate::sandbox::SandboxKind,
    /// Why agents run as local processes (no Docker engine), to tell the user.
    pub sandbox_note: Option<String>,
    /// Why the OS keychain does not answer (secrets cannot be stored then); `None` when it does.
    pub keychain_problem: Option<String>,
    /// Where the desktop app writes its log files.
    pub logs_folder: String,
}

pub async fn app_status_get(app: &App, _: NoArgs) -> Result<AppStatus, ApiError> {
    let settings = app.library.settings.load()?;
    Ok(AppStatus {
        version: env!("CARGO_PKG_VERSION").into(),
        needs_setup: settings.active().is_none(),
        sandbox_kind: app.sandboxes.kind(),
        sandbox_note: app.sandbox_note.clone(),
        keychain_problem: app.library.secrets.probe().err().map(|e| e.to_string()),
        logs_folder: app.library.paths.logs().display().to_string(),
    })
}

pub async fn settings_get(app: &App, _: NoArgs) -> Result<Settings, ApiError> {
    Ok(app.library.settings.load()?)
}

pub async fn settings_save(app: &App, settings: Settings) -> Result<Settings, ApiError> {
    app.library.settings.save(&settings)?;
    Ok(app.library.settings.load()?)
}

pub async fn llm_profile_test(app: &App, args: ProfileRef) -> Result<ConnectionReport, ApiError> {
    Ok(app.library.test_profile(args.name.as_deref()).await?)
}

pub async fn local_llms_detect(_: &App, _: NoArgs) -> Result<Vec<LocalServer>, ApiError> {
    Ok(crate::llm_check::detect_local(crate::llm_check::DEFAULT_LOCAL).await)
}

pub async fn secrets_list(app: &App, _: NoArgs) -> Result<Vec<SecretInfo>, ApiError> {
    Ok(app.library.secrets.list()?)
}

pub async fn secret_set(app: &App, args: SetSecret) -> Result<Vec<SecretInfo>, ApiError> {
    app.library.secrets.set(
        args.kind,
        &args.name,
        &args.value,
        args.description.as_deref(),
    )?;
    Ok(app.library.secrets.list()?)
}

pub async fn secret_delete(app: &App, args: SecretRef) -> Result<Vec<SecretInfo>, ApiError> {
    app.library.secrets.delete(args.kind, &args.name)?;
    Ok(app.library.secrets.list()?)
}

pub async fn conversation_start(app: &App, new: NewConversation) -> Result<StartTask, ApiError> {
    Ok(app.conversations.start(new)?)
}

pub async fn start_task_get(app: &App, args: ById) -> Result<StartTask, ApiError> {
    Ok(app.starts.get(&args.id)?)
}

/// One state a start task went through.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct Transition {
    pub status: crate::start::StartStatus,
    pub detail: Option<String>,
}

pub async fn start_task_history_get(app: &App, args: ById) -> Result<Vec<Transition>, ApiError> {
    Ok(app
        .starts
        .transitions(&args.id)?
        .into_iter()
        .map(|(status, detail)| Transition { status, detail })
        .collect())
}

pub async fn start_task_send(app: &App, args: Text) -> Result<StartTask, ApiError> {
    app.conversations
        .send_to_start(&args.id, &args.text)
        .await?;
    Ok(app.starts.get(&args.id)?)
}

pub async fn conversations_list(
    app: &App,
    page: PageRequest,
) -> Result<ConversationPage, ApiError> {
    Ok(app.conversations.list(page)?)
}

pub async fn conversations_search(app: &App, args: Search) -> Result<Vec<SearchHit>, ApiError> {
    Ok(app
        .conversations
        .search(&args.query, args.limit.unwrap_or(50).clamp(1, 500))?)
}

pub async fn conversation_get(app: &App, args: ById) -> Result<ConversationSummary, ApiError> {
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_events_list(app: &App, args: ById) -> Result<Vec<Event>, ApiError> {
    Ok(app.conversations.events(&args.id)?)
}

pub async fn conversation_rename(app: &App, args: Text) -> Result<ConversationSummary, ApiError> {
    app.conversations.rename(&args.id, &args.text)?;
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_delete(app: &App, args: ById) -> Result<ConversationPage, ApiError> {
    app.conversations.delete(&args.id).await?;
    Ok(app.conversations.list(PageRequest::default())?)
}

pub async fn conversation_export(app: &App, args: ExportArgs) -> Result<String, ApiError> {
    let path = if args.path.trim().is_empty() {
        let conv = app.conversations.get(&args.id)?;
        let name: String = conv
            .title
            .unwrap_or_else(|| args.id.clone())
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        dirs::download_dir()
            .or_else(dirs::home_dir)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("berth-{name}.zip"))
    } else {
        std::path::PathBuf::from(&args.path)
    };
    app.conversations.export(&args.id, &path)?;
    Ok(path.display().to_string())
}

/// What a command run from the Terminal tab printed.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
pub struct CommandResult {
    pub output: String,
    #[ts(as = "f64")]
    pub exit_code: i64,
}

pub async fn sandbox_command_run(app: &App, args: Text) -> Result<CommandResult, ApiError> {
    let out = app.conversations.run_command(&args.id, &args.text).await?;
    Ok(CommandResult {
        output: format!("{}{}", out.stdout, out.stderr),
        exit_code: out.exit_code,
    })
}

pub async fn conversation_send(app: &App, args: Text) -> Result<ConversationSummary, ApiError> {
    app.conversations.send(&args.id, &args.text).await?;
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_pause(app: &App, args: ById) -> Result<ConversationSummary, ApiError> {
    app.conversations.pause(&args.id).await?;
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_resume(app: &App, args: ById) -> Result<ConversationSummary, ApiError> {
    app.conversations.resume(&args.id).await?;
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_confirm(
    app: &App,
    args: Confirm,
) -> Result<ConversationSummary, ApiError> {
    app.conversations
        .confirm(&args.id, args.accept, args.reason.as_deref())
        .await?;
    Ok(app.conversations.get(&args.id)?)
}

pub async fn conversation_ask(app: &App, args: Text) -> Result<String, ApiError> {
    Ok(app.conversations.ask(&args.id, &args.text).await?)
}

pub async fn conversation_continue(app: &App, args: ContinueArgs) -> Result<StartTask, ApiError> {
    Ok(app
        .conversations
        .continue_in_new_sandbox(&args.id, args.message)?)
}

pub async fn changed_files_list(app: &App, args: ById) -> Result<Vec<ChangedFile>, ApiError> {
    app.conversations.get(&args.id)?;
    Ok(app.watcher.current(&args.id).await)
}

pub async fn git_tampering_list(
    app: &App,
    args: ById,
) -> Result<Vec<crate::git_tampering::GitTamper>, ApiError> {
    Ok(app.conversations.git_tampering(&args.id)?)
}

pub async fn deep_link_parse(
    _: &App,
    args: LinkArgs,
) -> Result<crate::deeplink::DeepLink, ApiError> {
    crate::deeplink::parse(&args.link).map_err(|e| ApiError::new(ErrorCode::Invalid, e.to_string()))
}

pub async fn sandbox_logs_get(app: &App, args: ById) -> Result<Vec<String>, ApiError> {
    Ok(app.conversations.sandbox_logs(&args.id)?)
}

/// How many attempts the Settings page shows.
const DELIVERIES_SHOWN: usize = 50;

pub async fn webhook_deliveries_list(
    app: &App,
    _: NoArgs,
) -> Result<Vec<crate::webhooks::Delivery>, ApiError> {
    Ok(app.webhooks.deliveries(DELIVERIES_SHOWN)?)
}

pub async fn mcp_server_test(
    app: &App,
    server: crate::mcp::McpServer,
) -> Result<berth_protocol::McpTestResponse, ApiError> {
    Ok(crate::mcp::test(&server, &app.library.secrets).await?)
}

pub async fn mcp_servers_import(
    _: &App,
    args: McpImportText,
) -> Result<Vec<crate::mcp::McpServer>, ApiError> {
    Ok(crate::mcp::import(&args.json)?)
}

pub async fn conversation_mcp_servers_get(
    app: &App,
    args: ById,
) -> Result<Vec<berth_protocol::McpServerState>, ApiError> {
    Ok(app.conversations.mcp_servers(&args.id).await?)
}

impl From<crate::mcp::McpError> for ApiError {
    fn from(e: crate::mcp::McpError) -> Self {
        match e {
            crate::mcp::McpError::Secrets(s) => s.into(),
            other => ApiError::new(ErrorCode::Invalid, other.to_string()),
        }
    }
}

pub async fn repository_parse(
    _: &App,
    args: RepositoryText,
) -> Result<crate::repository::Repository, ApiError> {
    crate::repository::Repository::parse(&args.text)
        .map_err(|e| ApiError::new(ErrorCode::Invalid, e.to_string()))
}

impl From<crate::files::FileError> for ApiError {
    fn from(e: crate::files::FileError) -> Self {
        let code = match e {
            crate::files::FileError::Outside(_) | crate::files::FileError::Invalid(_) => {
                ErrorCode::Invalid
            }
            crate::files::FileError::Io(_) => ErrorCode::Io,
        };
        ApiError::new(code, e.to_string())
    }
}

/// The conversation's workspace on this machine.
pub fn workspace_of(app: &App, id: &str) -> Result<std::path::PathBuf, ApiError> {
    app.conversations
        .get(id)?
        .workspace
        .map(std::path::PathBuf::from)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "this conversation has no workspace"))
}

pub async fn files_list(
    app: &App,
    args: FileArgs,
) -> Result<Vec<crate::files::FileEntry>, ApiError> {
    Ok(crate::files::list(
        &workspace_of(app, &args.id)?,
        &args.path,
    )?)
}

pub async fn file_read(app: &App, args: FileArgs) -> Result<crate::files::FilePreview, ApiError> {
    Ok(crate::files::preview(
        &workspace_of(app, &args.id)?,
        &args.path,
    )?)
}

pub async fn file_save_copy(app: &App, args: FileArgs) -> Result<String, ApiError> {
    let bytes = crate::files::read(&workspace_of(app, &args.id)?, &args.path)?;
    let name = std::path::Path::new(&args.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let dest = dirs::download_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join(name);
    std::fs::write(&dest, bytes).map_err(|e| ApiError::new(ErrorCode::Io, e.to_string()))?;
    Ok(dest.display().to_string())
}

pub async fn file_upload(app: &App, args: UploadArgs) -> Result<String, ApiError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(args.base64.as_bytes())
        .map_err(|e| ApiError::new(ErrorCode::Invalid, format!("the file is not base64: {e}")))?;
    Ok(crate::files::upload(
        &workspace_of(app, &args.id)?,
        &args.name,
        &bytes,
    )?)
}
