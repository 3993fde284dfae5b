// Generated from Berth's Rust types by `cargo run -p berth-app --example gen-ts`. Do not edit.

export type Action = { "kind": "TerminalAction" } & TerminalAction | { "kind": "FileEditorAction" } & FileEditorAction | { "kind": "TaskTrackerAction" } & TaskTrackerAction | { "kind": "FinishAction" } & FinishAction | { "kind": "ThinkAction" } & ThinkAction | { "kind": "GlobAction" } & GlobAction | { "kind": "GrepAction" } & GrepAction | { "kind": "MCPToolAction" } & McpToolAction;

export type AgentSettings = { 
/**
 * Agent steps per run before it stops and asks.
 */
max_iterations: number, confirmation: ConfirmationMode, 
/**
 * Summarize old history when a conversation gets long.
 */
condenser: boolean, 
/**
 * Events kept before the condenser summarizes.
 */
condenser_max_size: number, };

export type ApiError = { code: ErrorCode, message: string, problems?: Array<Problem>, };

export type AppStatus = { version: string, 
/**
 * No LLM profile is active yet: show the first-run setup.
 */
needs_setup: boolean, 
/**
 * Where new conversations run.
 */
sandbox_kind: SandboxKind, 
/**
 * Why agents run as local processes (no Docker engine), to tell the user.
 */
sandbox_note: string | null, 
/**
 * Why the OS keychain does not answer (secrets cannot be stored then); `None` when it does.
 */
keychain_problem: string | null, 
/**
 * Where the desktop app writes its log files.
 */
logs_folder: string, };

export type AppUpdate = { "type": "start_task", task: StartTask, } | { "type": "event", conversation_id: string, event: Event, } | { "type": "conversation", summary: ConversationSummary, } | { "type": "changed_files", changes: ChangedFiles, } | { "type": "resync", missed: bigint, };

export type ById = { id: string, };

export type ChangeKind = "added" | "deleted" | "modified" | "renamed" | "changed";

export type ChangedFile = { 
/**
 * Relative to the workspace.
 */
path: string, status: ChangeKind, };

export type ChangedFiles = { conversation_id: string, files: Array<ChangedFile>, };

export type CmdOutputMetadata = { exit_code: number, pid: number, username?: string | null, hostname?: string | null, working_dir?: string | null, py_interpreter_path?: string | null, prefix: string, suffix: string, };

export type CommandResult = { output: string, exit_code: number, };

export type Confinement = { 
/**
 * "Confined: Landlock ABI 7, network on" or "Not confined: … — the agent can read your files".
 */
summary: string, confined: boolean, state: ConfinementState, };

export type ConfinementSettings = { 
/**
 * Confine the agent's commands where the machine allows it. Off: they run with the user's
 * full rights, and every conversation says so.
 */
enabled: boolean, 
/**
 * Refuse to start a process sandbox whose commands cannot be confined.
 */
required: boolean, 
/**
 * Whether the agent's commands may use the network (the agent's LLM calls always can).
 */
network: boolean, 
/**
 * Folders the agent's commands may read although Berth hides them (absolute paths).
 */
extra_readable: Array<string>, 
/**
 * Folders besides the workspace the agent's commands may change (absolute paths).
 */
extra_writable: Array<string>, };

export type ConfinementState = { "kind": "landlock", abi: number, network: NetworkAccess, 
/**
 * What this kernel's Landlock cannot hold, said plainly.
 */
notes: Array<string>, } | { "kind": "seatbelt", network: NetworkAccess, } | { "kind": "container" } | { "kind": "unconfined", reason: string, };

export type Confirm = { id: string, accept: boolean, reason: string | null, };

export type ConfirmationMode = "never" | "always" | "risky";

export type ConnectionReport = { ok: boolean, 
/**
 * What the user should read: the model's answer time, or what went wrong and what to do.
 */
message: string, latency_ms: number, };

export type Content = TextContent | ImageContent;

export type ContinueArgs = { id: string, message: string | null, };

export type ConversationPage = { items: Array<ConversationSummary>, total: number, };

export type ConversationSummary = { id: string, 
/**
 * From the first user message unless renamed.
 */
title: string | null, 
/**
 * The folder the agent works in, on this machine.
 */
workspace: string | null, 
/**
 * What it was started from: a folder or a git URL.
 */
repository: string | null, branch: string | null, sandbox_id: string | null, 
/**
 * The agent's execution status as last mirrored.
 */
status: ExecutionStatus | null, model: string | null, 
/**
 * Cost and tokens so far, as last reported by the agent-server.
 */
metrics: Usage | null, 
/**
 * The actions waiting for the user's confirmation (empty unless the status says so).
 */
pending_actions: Array<PendingAction>, events: number, 
/**
 * Its sandbox is gone: readable from the mirror, continued only in a new sandbox.
 */
archived: boolean, created_at: string, updated_at: string, 
/**
 * How its sandbox confines the agent's commands, as that sandbox reported at start.
 */
confinement: Confinement | null, };

export type DeepLink = { "action": "open_conversation", id: string, } | { "action": "prefill", repository: Repository | null, task: string | null, 
/**
 * The issue it comes from, to show the user where the link came from.
 */
issue: GithubIssue | null, };

export type Delivery = { url: string, conversation_id: string, first_event_id: string, events: number, attempt: number, http_status: number | null, error: string | null, delivered: boolean, at: string, };

export type ErrorClassification = { kind: FailureKind, retryable: boolean, user_action: FailureAction, error_id?: string | null, };

export type ErrorCode = "invalid" | "invalid_settings" | "no_model" | "bad_request" | "not_json" | "not_found" | "archived" | "no_keychain" | "secret_lost" | "sandbox" | "agent_server" | "store" | "io" | "app" | "internal" | "bad_host" | "unauthorized" | "cross_origin";

export type Event = { id: string, timestamp: string, source: Source, parent_id?: string | null, } & ({ "kind": "SystemPromptEvent", system_prompt: TextContent, tools: Array<ToolDefinition>, dynamic_context?: TextContent | null, } | { "kind": "MessageEvent", llm_message: Message, llm_response_id?: string | null, activated_skills: Array<string>, extended_content: Array<TextContent>, sender?: string | null, critic_result?: JsonValue | null, } | { "kind": "ActionEvent", thought: Array<TextContent>, reasoning_content?: string | null, thinking_blocks: Array<JsonValue>, responses_reasoning_item?: JsonValue | null, 
/**
 * `None` when the LLM's arguments did not validate.
 */
action?: Action | null, tool_name: string, tool_call_id: string, tool_call: MessageToolCall, llm_response_id: string, security_risk: SecurityRisk, critic_result?: JsonValue | null, summary?: string | null, } | { "kind": "ObservationEvent", tool_name: string, tool_call_id: string, observation: Observation, action_id: string, extended_content: Array<TextContent>, } | { "kind": "UserRejectObservation", tool_name: string, tool_call_id: string, rejection_reason: string, rejection_source: RejectionSource, action_id: string, } | { "kind": "AgentErrorEvent", tool_name: string, tool_call_id: string, error: string, classification?: ErrorClassification | null, } | { "kind": "ConversationErrorEvent", code: string, detail: string, classification?: ErrorClassification | null, } | { "kind": "PauseEvent", } | { "kind": "InterruptEvent", } | { "kind": "Condensation", forgotten_event_ids: Array<string>, summary?: string | null, summary_offset?: number | null, llm_response_id: string, } | { "kind": "CondensationRequest", } | { "kind": "CondensationSummaryEvent", summary: string, } | { "kind": "ConversationStateUpdateEvent", key: string, value: JsonValue, } | { "kind": "StreamingDeltaEvent", content?: string | null, reasoning_content?: string | null, } | { "kind": "ServerErrorEvent", code: string, detail: string, });

export type ExecutionStatus = "idle" | "running" | "paused" | "waiting_for_confirmation" | "finished" | "error" | "stuck" | "deleting";

export type ExportArgs = { id: string, 
/**
 * Where to write the zip; empty: the Downloads folder.
 */
path: string, };

export type FailureAction = "none" | "retry" | "settings";

export type FailureKind = "auth" | "quota" | "rate_limit" | "config" | "transient" | "agent_action" | "internal" | "unknown";

export type FileArgs = { id: string, 
/**
 * Relative to the workspace.
 */
path: string, };

export type FileEditorAction = { command: FileEditorCommand, path: string, file_text?: string | null, old_str?: string | null, new_str?: string | null, insert_line?: number | null, view_range?: Array<number> | null, };

export type FileEditorCommand = "view" | "create" | "str_replace" | "insert" | "undo_edit";

export type FileEditorObservation = { content: Array<Content>, is_error: boolean, command: FileEditorCommand, path?: string | null, prev_exist: boolean, old_content?: string | null, new_content?: string | null, };

export type FileEntry = { name: string, 
/**
 * Relative to the workspace, `/`-separated.
 */
path: string, is_dir: boolean, size: number, };

export type FilePreview = { path: string, 
/**
 * The text, or `None` for a binary or too large file.
 */
text: string | null, size: number, };

export type FinishAction = { message: string, };

export type GitIdentity = { name: string | null, email: string | null, };

export type GitTamper = { path: string, change: TamperKind, };

export type GithubIssue = { owner: string, repo: string, number: number, url: string, };

export type GlobAction = { pattern: string, path?: string | null, };

export type GlobObservation = { content: Array<Content>, is_error: boolean, files: Array<string>, pattern: string, search_path: string, truncated: boolean, };

export type GrepAction = { pattern: string, path?: string | null, include?: string | null, };

export type GrepObservation = { content: Array<Content>, is_error: boolean, matches: Array<string>, pattern: string, search_path: string, include_pattern?: string | null, truncated: boolean, };

export type ImageContent = { cache_prompt: boolean, type: ImageType, image_urls: Array<string>, };

export type ImageType = "image";

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type LinkArgs = { link: string, };

export type LlmProfile = { 
/**
 * A name to pick the profile by.
 */
name: string, 
/**
 * LiteLLM-style `provider/model`, e.g. `anthropic/claude-sonnet-4-5`.
 */
model: string, 
/**
 * For local or self-hosted servers (Ollama, LM Studio, vLLM).
 */
base_url: string | null, };

export type LocalKind = "ollama" | "lm_studio";

export type LocalServer = { kind: LocalKind, 
/**
 * The base URL a profile should use (OpenAI-compatible `/v1` for both).
 */
base_url: string, 
/**
 * Model ids as a profile names them (`ollama/qwen3-coder`, `lm_studio/…`).
 */
models: Array<string>, };

export type McpErrorKind = "timeout" | "connection" | "unknown";

export type McpImportText = { json: string, };

export type McpServer = { 
/**
 * Its tools are `{name}_{tool}` when a conversation has several servers.
 */
name: string, enabled: boolean, 
/**
 * The tools the agent may use; empty: all of them.
 */
allowed_tools: Array<string>, } & ({ "kind": "stdio", command: string, args: Array<string>, 
/**
 * Its environment; a value may be `${SECRET_NAME}`.
 */
env: { [key in string]?: string }, } | { "kind": "http", url: string, 
/**
 * Extra headers; a value may be `${SECRET_NAME}`.
 */
headers: { [key in string]?: string }, 
/**
 * The custom secret sent as `Authorization: Bearer …`.
 */
bearer_secret: string | null, });

export type McpServerState = { name: string, transport: McpTransportKind, 
/**
 * Its tools, as listed when it connected (empty when it never did).
 */
tools: Array<McpToolSummary>, } & ({ "status": "connected" } | { "status": "failed", error: string, error_kind: McpErrorKind, });

export type McpTestResponse = { 
/**
 * Always `true`.
 */
ok: boolean, tools: Array<string>, tool_result?: McpToolCallResult | null, } | { 
/**
 * Always `false`.
 */
ok: boolean, error: string, error_kind: McpErrorKind, };

export type McpToolAction = { data: Record<string, unknown>, };

export type McpToolCallResult = { is_error: boolean, text: string, };

export type McpToolObservation = { content: Array<Content>, is_error: boolean, tool_name: string, };

export type McpToolSummary = { 
/**
 * The name the agent calls it by (`{server}_{tool}` when the conversation has several
 * servers, as OpenHands names them).
 */
name: string, description?: string | null, read_only: boolean, destructive: boolean, };

export type McpTransportKind = "stdio" | "http" | "sse";

export type Message = { role: Role, content: Array<Content>, tool_calls?: Array<MessageToolCall> | null, tool_call_id?: string | null, name?: string | null, reasoning_content?: string | null, 
/**
 * Anthropic thinking blocks (`{"type":"thinking",…}`), kept opaque.
 */
thinking_blocks: Array<JsonValue>, responses_reasoning_item?: JsonValue | null, };

export type MessageToolCall = { id: string, name: string, arguments: string, origin: ToolCallOrigin, responses_item_id?: string | null, };

export type NetworkAccess = "on" | "off";

export type NewConversation = { repository: Repository, 
/**
 * The first message; the agent starts on it at once.
 */
task: string | null, 
/**
 * The LLM profile by name; `None` = the active one.
 */
profile: string | null, 
/**
 * Whether the repository's setup script runs (the form asks for a repository from a link).
 */
setup_script: SetupScript, };

export type NoArgs = Record<string, never>;

export type Observation = { "kind": "TerminalObservation" } & TerminalObservation | { "kind": "FileEditorObservation" } & FileEditorObservation | { "kind": "TaskTrackerObservation" } & TaskTrackerObservation | { "kind": "FinishObservation" } & PlainObservation | { "kind": "ThinkObservation" } & PlainObservation | { "kind": "GlobObservation" } & GlobObservation | { "kind": "GrepObservation" } & GrepObservation | { "kind": "MCPToolObservation" } & McpToolObservation;

export type PageRequest = { offset: number, limit: number, sort: SortBy, };

export type PendingAction = { 
/**
 * The `ActionEvent`'s id.
 */
action_id: string, tool_name: string, tool_call_id: string, action: Action, security_risk: SecurityRisk, };

export type PlainObservation = { content: Array<Content>, is_error: boolean, };

export type Problem = { field: string, message: string, };

export type ProfileRef = { 
/**
 * `None`: the active profile.
 */
name: string | null, };

export type RejectionSource = "user" | "hook";

export type Repository = { "kind": "local_folder", path: string, } | { "kind": "git_url", url: string, branch: string | null, 
/**
 * Create this branch after cloning, for the agent's work.
 */
new_branch: string | null, 
/**
 * Full history instead of a shallow clone.
 */
full_clone: boolean, };

export type RepositoryText = { text: string, };

export type Request = { "command": "AppStatusGet", "args": NoArgs } | { "command": "SettingsGet", "args": NoArgs } | { "command": "SettingsSave", "args": Settings } | { "command": "LlmProfileTest", "args": ProfileRef } | { "command": "LocalLlmsDetect", "args": NoArgs } | { "command": "SecretsList", "args": NoArgs } | { "command": "SecretSet", "args": SetSecret } | { "command": "SecretDelete", "args": SecretRef } | { "command": "ConversationStart", "args": NewConversation } | { "command": "StartTaskGet", "args": ById } | { "command": "StartTaskHistoryGet", "args": ById } | { "command": "StartTaskSend", "args": Text } | { "command": "ConversationsList", "args": PageRequest } | { "command": "ConversationsSearch", "args": Search } | { "command": "ConversationGet", "args": ById } | { "command": "ConversationEventsList", "args": ById } | { "command": "ConversationRename", "args": Text } | { "command": "ConversationDelete", "args": ById } | { "command": "ConversationExport", "args": ExportArgs } | { "command": "SandboxCommandRun", "args": Text } | { "command": "ConversationSend", "args": Text } | { "command": "ConversationPause", "args": ById } | { "command": "ConversationResume", "args": ById } | { "command": "ConversationConfirm", "args": Confirm } | { "command": "ConversationAsk", "args": Text } | { "command": "ConversationContinue", "args": ContinueArgs } | { "command": "DeepLinkParse", "args": LinkArgs } | { "command": "SandboxLogsGet", "args": ById } | { "command": "WebhookDeliveriesList", "args": NoArgs } | { "command": "McpServerTest", "args": McpServer } | { "command": "McpServersImport", "args": McpImportText } | { "command": "ConversationMcpServersGet", "args": ById } | { "command": "RepositoryParse", "args": RepositoryText } | { "command": "FilesList", "args": FileArgs } | { "command": "FileRead", "args": FileArgs } | { "command": "FileSaveCopy", "args": FileArgs } | { "command": "FileUpload", "args": UploadArgs } | { "command": "ChangedFilesList", "args": ById } | { "command": "GitTamperingList", "args": ById };

export type Role = "user" | "system" | "assistant" | "tool";

export type Runtime = "auto" | "docker" | "process";

export type SandboxKind = "docker" | "process";

export type SandboxSettings = { runtime: Runtime, image: string, 
/**
 * CPUs per Docker sandbox.
 */
cpus: number, 
/**
 * Memory per Docker sandbox, in MiB.
 */
memory_mb: number, 
/**
 * Sandboxes running at once; starting another pauses the least recently used.
 */
max_running: number, 
/**
 * Pause a sandbox unused for this many minutes (0 = never).
 */
idle_pause_minutes: number, 
/**
 * How process sandboxes confine the agent's commands.
 */
confinement: ConfinementSettings, };

export type Search = { query: string, limit: number | null, };

export type SearchHit = { conversation_id: string, title: string | null, event_id: string | null, snippet: string, };

export type SecretInfo = { kind: SecretKind, name: string, description: string | null, updated_at: string, };

export type SecretKind = "llm" | "provider" | "custom" | "internal";

export type SecretRef = { kind: SecretKind, name: string, };

export type SecurityRisk = "UNKNOWN" | "LOW" | "MEDIUM" | "HIGH";

export type SetSecret = { kind: SecretKind, name: string, value: string, description: string | null, };

export type Settings = { llm_profiles: Array<LlmProfile>, 
/**
 * The profile new conversations use.
 */
active_profile: string | null, agent: AgentSettings, sandbox: SandboxSettings, mcp_servers: Array<McpServer>, git: GitIdentity, webhooks: Array<Webhook>, };

export type SetupScript = "run" | "skip";

export type SortBy = "recently_updated" | "newest" | "oldest" | "title";

export type Source = "agent" | "user" | "environment" | "hook";

export type StartStatus = "WORKING" | "WAITING_FOR_SANDBOX" | "PREPARING_REPOSITORY" | "RUNNING_SETUP_SCRIPT" | "SETTING_UP_GIT_HOOKS" | "SETTING_UP_SKILLS" | "STARTING_CONVERSATION" | "READY" | "ERROR";

export type StartTask = { id: string, status: StartStatus, 
/**
 * What is happening, or for ERROR what went wrong and what to do.
 */
detail: string | null, sandbox_id: string | null, conversation_id: string | null, 
/**
 * The workspace on the host.
 */
workspace: string | null, 
/**
 * What `.openhands/setup.sh` printed.
 */
setup_output: string | null, created_at: string, updated_at: string, };

export type TamperKind = "added" | "changed" | "removed";

export type TaskItem = { title: string, notes: string, status: TaskStatus, };

export type TaskStatus = "todo" | "in_progress" | "done";

export type TaskTrackerAction = { command: TaskTrackerCommand, task_list: Array<TaskItem>, };

export type TaskTrackerCommand = "view" | "plan";

export type TaskTrackerObservation = { content: Array<Content>, is_error: boolean, command: TaskTrackerCommand, task_list: Array<TaskItem>, };

export type TerminalAction = { command: string, is_input: boolean, timeout?: number | null, reset: boolean, };

export type TerminalObservation = { content: Array<Content>, is_error: boolean, command?: string | null, exit_code?: number | null, timeout: boolean, metadata: CmdOutputMetadata, full_output_save_dir?: string | null, };

export type Text = { id: string, text: string, };

export type TextContent = { cache_prompt: boolean, type: TextType, text: string, };

export type TextType = "text";

export type ThinkAction = { thought: string, };

export type ToolAnnotations = { title?: string | null, readOnlyHint: boolean, destructiveHint: boolean, idempotentHint: boolean, openWorldHint: boolean, };

export type ToolCallOrigin = "completion" | "responses";

export type ToolDefinition = { description: string, action_type: string, observation_type: string, annotations: ToolAnnotations, meta?: JsonValue | null, 
/**
 * An MCP tool's definition as its server gave it (`MCPToolDefinition` only).
 */
mcp_tool?: JsonValue | null, kind: string, title: string, };

export type Transition = { status: StartStatus, detail: string | null, };

export type UploadArgs = { id: string, name: string, 
/**
 * The content, base64.
 */
base64: string, };

export type Usage = { 
/**
 * In US dollars, as the agent-server prices it.
 */
cost: number, prompt_tokens: number, completion_tokens: number, };

export type Webhook = { url: string, enabled: boolean, };

export type Responses = {
  AppStatusGet: AppStatus;
  SettingsGet: Settings;
  SettingsSave: Settings;
  LlmProfileTest: ConnectionReport;
  LocalLlmsDetect: Array<LocalServer>;
  SecretsList: Array<SecretInfo>;
  SecretSet: Array<SecretInfo>;
  SecretDelete: Array<SecretInfo>;
  ConversationStart: StartTask;
  StartTaskGet: StartTask;
  StartTaskHistoryGet: Array<Transition>;
  StartTaskSend: StartTask;
  ConversationsList: ConversationPage;
  ConversationsSearch: Array<SearchHit>;
  ConversationGet: ConversationSummary;
  ConversationEventsList: Array<Event>;
  ConversationRename: ConversationSummary;
  ConversationDelete: ConversationPage;
  ConversationExport: string;
  SandboxCommandRun: CommandResult;
  ConversationSend: ConversationSummary;
  ConversationPause: ConversationSummary;
  ConversationResume: ConversationSummary;
  ConversationConfirm: ConversationSummary;
  ConversationAsk: string;
  ConversationContinue: StartTask;
  DeepLinkParse: DeepLink;
  SandboxLogsGet: Array<string>;
  WebhookDeliveriesList: Array<Delivery>;
  McpServerTest: McpTestResponse;
  McpServersImport: Array<McpServer>;
  ConversationMcpServersGet: Array<McpServerState>;
  RepositoryParse: Repository;
  FilesList: Array<FileEntry>;
  FileRead: FilePreview;
  FileSaveCopy: string;
  FileUpload: string;
  ChangedFilesList: Array<ChangedFile>;
  GitTamperingList: Array<GitTamper>;
};
