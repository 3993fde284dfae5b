//! Every action of the UI as one command, defined once: a [`Request`] variant with its
//! arguments, the type it answers, and the `berth-app` call behind it. The desktop shell hands a
//! `Request` from Tauri IPC to [`dispatch`], web mode hands it from `POST /api/call`; updates
//! reach the UI as [`AppUpdate`]s (Tauri events, or web mode's event stream). The TypeScript the
//! UI is written against is generated from these same types ([`typescript`]), and a test fails
//! when the committed copy drifts.

pub mod handlers;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::updates::AppUpdate;

use crate::app::App;

/// What a failed command tells the UI: a stable code to branch on, a message to show, and for
/// invalid settings the problem of each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<crate::settings::Problem>,
}

/// The kinds of failure a command has. The UI branches on them; web mode answers each with its
/// HTTP status ([`ErrorCode::http_status`], the one place that maps them).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    TS,
    strum::Display,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ErrorCode {
    /// A request that names something impossible (an empty message, a bad path).
    Invalid,
    /// Settings that do not validate; `problems` says where.
    InvalidSettings,
    /// No LLM is set up yet.
    NoModel,
    /// Not a command, or arguments that do not decode.
    BadRequest,
    /// A command sent as something other than JSON.
    NotJson,
    NotFound,
    /// The conversation's sandbox is gone: it can be read, and continued in a new one.
    Archived,
    /// The OS keychain does not answer.
    NoKeychain,
    /// A secret the database lists is missing from the keychain.
    SecretLost,
    /// The sandbox could not be created, reached or changed.
    Sandbox,
    /// The sandbox's agent-server failed or answered what the app cannot read.
    AgentServer,
    /// Berth's database failed.
    Store,
    /// A file could not be read or written.
    Io,
    /// The app could not open (its home, its parts).
    App,
    /// A bug: the app could not encode its own answer.
    Internal,
    /// Web mode: a request to a host name other than Berth's loopback address.
    BadHost,
    /// Web mode: no token, or the wrong one.
    Unauthorized,
    /// Web mode: a command from a page of another origin.
    CrossOrigin,
}

impl ErrorCode {
    pub fn http_status(self) -> u16 {
        match self {
            Self::Invalid | Self::InvalidSettings | Self::NoModel | Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::BadHost | Self::CrossOrigin => 403,
            Self::NotFound => 404,
            Self::Archived => 409,
            Self::NotJson => 415,
            Self::NoKeychain | Self::Sandbox | Self::AgentServer => 503,
            Self::SecretLost | Self::Store | Self::Io | Self::App | Self::Internal => 500,
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Declares the commands: the request enum, the dispatcher, and the TypeScript map from each
/// command to the type it answers.
macro_rules! commands {
    ($( $(#[$doc:meta])* $name:ident($args:ty) -> $out:ty = $handler:path; )*) => {
        /// A command from the UI: `{"command": "ConversationsList", "args": {…}}`.
        #[derive(Debug, Clone, Deserialize, Serialize, TS)]
        #[serde(tag = "command", content = "args")]
        pub enum Request {
            $( $(#[$doc])* $name($args), )*
        }

        impl Request {
            pub fn name(&self) -> &'static str {
                match self { $( Request::$name(_) => stringify!($name), )* }
            }
        }

        /// Runs a command against the app; the answer as JSON.
        pub async fn dispatch(app: &App, request: Request) -> Result<serde_json::Value, ApiError> {
            match request {
                $( Request::$name(args) => {
                    let out: $out = $handler(app, args).await?;
                    serde_json::to_value(out).map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
                } )*
            }
        }

        /// `export type Responses = { ConversationsList: ConversationPage; … }`.
        fn responses_ts() -> String {
            let mut s = String::from("export type Responses = {\n");
            $( s.push_str(&format!("  {}: {};\n", stringify!($name), <$out as TS>::name())); )*
            s.push_str("};\n");
            s
        }

        /// Every type a command answers, for the declarations file.
        fn response_decls(out: &mut Vec<(String, String)>) {
            $( collect::<$out>(out); )*
        }
    };
}

/// No arguments.
#[derive(Debug, Clone, Default, Deserialize, Serialize, TS)]
pub struct NoArgs {}

/// A conversation by id.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct ById {
    pub id: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct Text {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct Search {
    pub query: String,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct Confirm {
    pub id: String,
    pub accept: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct ContinueArgs {
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct ExportArgs {
    pub id: String,
    /// Where to write the zip; empty: the Downloads folder.
    #[serde(default)]
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct SetSecret {
    pub kind: crate::secrets::SecretKind,
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct SecretRef {
    pub kind: crate::secrets::SecretKind,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct FileArgs {
    pub id: String,
    /// Relative to the workspace.
    #[serde(default)]
    pub path: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct UploadArgs {
    pub id: String,
    pub name: String,
    /// The content, base64.
    pub base64: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct LinkArgs {
    pub link: String,
}

/// A repository as the user typed it: a git URL or a folder.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct RepositoryText {
    pub text: String,
}

/// An `mcpServers` JSON as the user pasted it.
#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct McpImportText {
    pub json: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, TS)]
pub struct ProfileRef {
    /// `None`: the active profile.
    #[serde(default)]
    pub name: Option<String>,
}

use crate::conversations::{
    ConversationPage, ConversationSummary, NewConversation, PageRequest, SearchHit,
};
use crate::llm_check::{ConnectionReport, LocalServer};
use crate::secrets::SecretInfo;
use crate::settings::Settings;
use crate::start::StartTask;
use crate::watcher::ChangedFile;
use berth_protocol::Event;
use handlers as h;

commands! {
    /// What the first-run screen and the status bar need.
    AppStatusGet(NoArgs) -> h::AppStatus = h::app_status_get;
    SettingsGet(NoArgs) -> Settings = h::settings_get;
    /// Validates and saves; `invalid_settings` with each field's problem otherwise.
    SettingsSave(Settings) -> Settings = h::settings_save;
    LlmProfileTest(ProfileRef) -> ConnectionReport = h::llm_profile_test;
    LocalLlmsDetect(NoArgs) -> Vec<LocalServer> = h::local_llms_detect;
    SecretsList(NoArgs) -> Vec<SecretInfo> = h::secrets_list;
    SecretSet(SetSecret) -> Vec<SecretInfo> = h::secret_set;
    SecretDelete(SecretRef) -> Vec<SecretInfo> = h::secret_delete;
    ConversationStart(NewConversation) -> StartTask = h::conversation_start;
    StartTaskGet(ById) -> StartTask = h::start_task_get;
    /// The states a start task went through so far, oldest first.
    StartTaskHistoryGet(ById) -> Vec<h::Transition> = h::start_task_history_get;
    /// A message for the conversation a start task is creating (queued until it is READY).
    StartTaskSend(Text) -> StartTask = h::start_task_send;
    ConversationsList(PageRequest) -> ConversationPage = h::conversations_list;
    ConversationsSearch(Search) -> Vec<SearchHit> = h::conversations_search;
    ConversationGet(ById) -> ConversationSummary = h::conversation_get;
    ConversationEventsList(ById) -> Vec<Event> = h::conversation_events_list;
    ConversationRename(Text) -> ConversationSummary = h::conversation_rename;
    ConversationDelete(ById) -> ConversationPage = h::conversation_delete;
    /// Writes the zip (to `path`, or the Downloads folder when empty); answers where.
    ConversationExport(ExportArgs) -> String = h::conversation_export;
    /// Runs a command in the conversation's sandbox, as the user (the Terminal tab).
    SandboxCommandRun(Text) -> h::CommandResult = h::sandbox_command_run;
    ConversationSend(Text) -> ConversationSummary = h::conversation_send;
    ConversationPause(ById) -> ConversationSummary = h::conversation_pause;
    ConversationResume(ById) -> ConversationSummary = h::conversation_resume;
    ConversationConfirm(Confirm) -> ConversationSummary = h::conversation_confirm;
    ConversationAsk(Text) -> String = h::conversation_ask;
    ConversationContinue(ContinueArgs) -> StartTask = h::conversation_continue;
    /// A `berth://` link as the action it asks for (opening or prefilling, never starting).
    DeepLinkParse(LinkArgs) -> crate::deeplink::DeepLink = h::deep_link_parse;
    /// The last lines the conversation's sandbox printed (its agent-server's log).
    SandboxLogsGet(ById) -> Vec<String> = h::sandbox_logs_get;
    /// The latest webhook attempts, newest first.
    WebhookDeliveriesList(NoArgs) -> Vec<crate::webhooks::Delivery> = h::webhook_deliveries_list;
    /// Starts or reaches one MCP server on this computer and lists its tools (or says why not).
    McpServerTest(crate::mcp::McpServer) -> berth_protocol::McpTestResponse = h::mcp_server_test;
    /// The servers of a Claude Desktop / Cursor style `mcpServers` JSON, as settings (not saved).
    McpServersImport(McpImportText) -> Vec<crate::mcp::McpServer> = h::mcp_servers_import;
    /// The conversation's MCP servers as its sandbox runs them: health, errors, tools.
    ConversationMcpServersGet(ById) -> Vec<berth_protocol::McpServerState> = h::conversation_mcp_servers_get;
    /// What the user typed in the repository field, as the start takes it (or why not).
    RepositoryParse(RepositoryText) -> crate::repository::Repository = h::repository_parse;
    /// A folder of the conversation's workspace (`""`: its top).
    FilesList(FileArgs) -> Vec<crate::files::FileEntry> = h::files_list;
    FileRead(FileArgs) -> crate::files::FilePreview = h::file_read;
    /// Copies a workspace file to the Downloads folder; answers where (web mode downloads it from
    /// `/api/file/{id}?path=`).
    FileSaveCopy(FileArgs) -> String = h::file_save_copy;
    /// A file the user dropped or pasted, written to the workspace's top folder.
    FileUpload(UploadArgs) -> String = h::file_upload;
    /// The files the agent changed in the workspace so far (then `changed_files` updates).
    ChangedFilesList(ById) -> Vec<ChangedFile> = h::changed_files_list;
    /// What the agent changed in the repository's `.git/` config and hooks, which the user's own
    /// git would run.
    GitTamperingList(ById) -> Vec<crate::git_tampering::GitTamper> = h::git_tampering_list;
}

fn collect<T: TS + 'static>(out: &mut Vec<(String, String)>) {
    struct Visit<'a> {
        out: &'a mut Vec<(String, String)>,
        seen: std::collections::HashSet<std::any::TypeId>,
    }
    impl ts_rs::TypeVisitor for Visit<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            // Types refer to themselves (JSON values hold JSON values): each is visited once.
            if !self.seen.insert(std::any::TypeId::of::<U>()) {
                return;
            }
            // Built-ins (strings, numbers, arrays) have no declaration of their own.
            if U::output_path().is_some() {
                let name = U::ident();
                if !self.out.iter().any(|(n, _)| *n == name) {
                    self.out.push((name, U::decl()));
                }
            }
            U::visit_dependencies(self);
            U::visit_generics(self);
        }
    }
    ts_rs::TypeVisitor::visit::<T>(&mut Visit {
        out,
        seen: Default::default(),
    });
}

/// The whole TypeScript the UI imports: every type of every command, argument and update, and
/// the map of each command to its answer. Deterministic (sorted by name).
pub fn typescript() -> String {
    let mut decls = Vec::new();
    collect::<Request>(&mut decls);
    collect::<AppUpdate>(&mut decls);
    collect::<ApiError>(&mut decls);
    response_decls(&mut decls);
    decls.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::from(
        "// Generated from Berth's Rust types by `cargo run -p berth-app --example gen-ts`. Do not edit.\n\n",
    );
    for (_, decl) in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(&responses_ts());
    out
}
