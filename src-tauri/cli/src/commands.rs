//! Each command: arguments in, one call into `berth-app`, text or JSON out.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use berth_app::app::{App, AppOptions, Library};
use berth_app::conversations::{self, NewConversation, PageRequest, RunWatch, SortBy};
use berth_app::llm_check;
use berth_app::repository::Repository;
use berth_app::secrets::SecretKind;
use berth_app::settings::{LlmProfile, Runtime, Settings};
use berth_app::start::StartStatus;
use berth_protocol::{Event, ExecutionStatus};

use crate::console::{read_stdin, save, say};
use crate::{Cli, Command, ConversationsCmd, RuntimeArg, SecretsCmd, SettingsCmd, render};

pub async fn dispatch(cli: Cli) -> Result<u8> {
    let json = cli.json;
    let library = Library::open_default()?;
    match cli.command {
        Command::Run {
            folder,
            task,
            runtime,
            profile,
            keep_sandbox,
        } => {
            let runtime = runtime.map(runtime_of);
            run(library, &folder, task, runtime, profile, keep_sandbox, json).await
        }
        Command::Serve { port, ui, runtime } => {
            let app = open(library, runtime.map(runtime_of)).await?;
            let ui_dir = ui.or_else(default_ui_dir);
            if ui_dir.is_none() {
                eprintln!(
                    "note: no built UI found (run `npm run build` in ui/); serving the API only"
                );
            }
            let server = berth_web::serve(
                std::sync::Arc::new(app),
                berth_web::WebOptions { port, ui_dir },
            )
            .await?;
            say(
                json,
                serde_json::json!({"url": server.url()}),
                format!("Berth is serving on {}", server.url()),
            );
            tokio::signal::ctrl_c().await?;
            Ok(0)
        }
        Command::Conversations(cmd) => conversations(library, cmd, json).await,
        Command::Settings(cmd) => settings(library, cmd, json).await,
        Command::Secrets(cmd) => secrets(library, cmd),
        Command::Mcp(cmd) => crate::mcp::run(library, cmd, json).await,
    }
}

fn runtime_of(r: RuntimeArg) -> Runtime {
    match r {
        RuntimeArg::Auto => Runtime::Auto,
        RuntimeArg::Docker => Runtime::Docker,
        RuntimeArg::Process => Runtime::Process,
    }
}

/// `BERTH_UI_DIR`, the UI installed beside the binary, or this checkout's build.
fn default_ui_dir() -> Option<std::path::PathBuf> {
    let candidates = [
        std::env::var_os("BERTH_UI_DIR").map(std::path::PathBuf::from),
        std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(|d| d.join("../share/berth/ui"))),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

async fn open(library: Library, runtime: Option<Runtime>) -> Result<App> {
    let app = App::open(
        library,
        AppOptions {
            runtime,
            ..AppOptions::default()
        },
    )
    .await?;
    if let Some(note) = &app.sandbox_note {
        eprintln!("note: {note}");
    }
    Ok(app)
}

fn printer(json: bool) -> impl FnMut(&Event) {
    move |e: &Event| {
        if json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else if let Some(line) = render::line(e) {
            println!("{line}");
        }
    }
}

/// The exit code for a settled status.
fn outcome(status: ExecutionStatus) -> u8 {
    match status {
        ExecutionStatus::Finished => 0,
        ExecutionStatus::WaitingForConfirmation | ExecutionStatus::Paused => 3,
        _ => 1,
    }
}

async fn run(
    library: Library,
    folder: &Path,
    task: String,
    runtime: Option<Runtime>,
    profile: Option<String>,
    keep_sandbox: bool,
    json: bool,
) -> Result<u8> {
    let app = open(library, runtime).await?;
    let mut starts = app.starts.subscribe();
    let started = app.conversations.start(NewConversation {
        repository: Repository::LocalFolder {
            path: folder.to_path_buf(),
        },
        task: Some(task),
        profile,
        setup_script: Default::default(),
    })?;
    // The start task's states as they happen.
    let ready = loop {
        let t = match starts.recv().await {
            Ok(t) if t.id == started.id => t,
            Ok(_) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                app.starts.get(&started.id)?
            }
            Err(_) => bail!("the start task stopped reporting"),
        };
        let detail = t.detail.clone().unwrap_or_default();
        say(
            json,
            serde_json::json!({"start_task": t}),
            format!("[start] {} {detail}", t.status.as_str()),
        );
        match t.status {
            StartStatus::Ready => break t,
            StartStatus::Error => return Ok(2),
            _ => {}
        }
    };
    if let Some(sandbox) = &ready.sandbox_id {
        print_confinement(&app, sandbox, json).await?;
    }
    let id = ready
        .conversation_id
        .clone()
        .ok_or_else(|| anyhow!("the start task has no conversation"))?;
    say(
        json,
        serde_json::json!({"conversation_id": id}),
        format!("[conversation] {id}"),
    );
    let mut watch = app.conversations.watch(&id);
    let status = follow_to_end(&mut watch, false, json).await?;
    if !keep_sandbox && let Some(sandbox) = &ready.sandbox_id {
        app.sandboxes.delete(sandbox).await?;
    }
    Ok(outcome(status))
}

/// How the sandbox's commands are confined: the first thing a user should know about it.
async fn print_confinement(app: &App, sandbox: &str, json: bool) -> Result<()> {
    let Some(state) = app.sandboxes.get(sandbox).await?.confinement else {
        return Ok(());
    };
    let mut text = format!("[sandbox] {}", state.summary());
    if let berth_protocol::ConfinementState::Landlock { notes, .. } = &state {
        for note in notes {
            text.push_str(&format!("\n[sandbox] note: {note}"));
        }
    }
    say(json, serde_json::json!({ "confinement": state }), text);
    Ok(())
}

async fn follow_to_end(watch: &mut RunWatch, new_run: bool, json: bool) -> Result<ExecutionStatus> {
    let mut print = printer(json);
    if !new_run {
        watch.replay(&mut print)?;
    }
    let status = watch.settled(new_run, &mut print).await?;
    if !json {
        println!("[end] {status}");
    }
    Ok(status)
}

async fn conversations(library: Library, cmd: ConversationsCmd, json: bool) -> Result<u8> {
    match cmd {
        ConversationsCmd::List {
            limit,
            offset,
            sort,
        } => {
            let sort = match sort.as_str() {
                "recently-updated" => SortBy::RecentlyUpdated,
                "newest" => SortBy::Newest,
                "oldest" => SortBy::Oldest,
                "title" => SortBy::Title,
                other => {
                    bail!("unknown sort '{other}': use recently-updated, newest, oldest or title")
                }
            };
            let page = library.records.list(PageRequest {
                offset,
                limit,
                sort,
            })?;
            if json {
                println!("{}", serde_json::to_string(&page)?);
            } else {
                for c in &page.items {
                    println!(
                        "{}  {:<10} {:<9} {}",
                        c.id,
                        c.status.map_or("-", ExecutionStatus::as_str),
                        if c.archived { "archived" } else { "live" },
                        c.title.as_deref().unwrap_or("(untitled)")
                    );
                }
                println!("{} of {} conversations", page.items.len(), page.total);
            }
        }
        ConversationsCmd::Search { query, limit } => {
            let hits = conversations::search(&library.records, &library.mirror, &query, limit)?;
            if json {
                println!("{}", serde_json::to_string(&hits)?);
            } else {
                for h in &hits {
                    println!(
                        "{}  {}  {}",
                        h.conversation_id,
                        h.title.as_deref().unwrap_or("(untitled)"),
                        h.snippet
                    );
                }
                if hits.is_empty() {
                    println!("nothing found for '{query}'");
                }
            }
        }
        ConversationsCmd::Show { id } => {
            let conv = library
                .records
                .get(&id)?
                .ok_or_else(|| anyhow!("no conversation {id}"))?;
            let events = library.mirror.events(&id)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"conversation": conv, "events": events})
                );
            } else {
                println!(
                    "{}  {}  [{}{}]",
                    conv.id,
                    conv.title.as_deref().unwrap_or("(untitled)"),
                    conv.status.map_or("-", ExecutionStatus::as_str),
                    if conv.archived { ", archived" } else { "" }
                );
                let mut print = printer(false);
                events.iter().for_each(&mut print);
            }
        }
        ConversationsCmd::Export { id, output } => {
            let n = conversations::export(&library.records, &library.mirror, &id, &output)?;
            say(
                json,
                serde_json::json!({"events": n, "file": output}),
                format!("exported {n} events to {}", output.display()),
            );
        }
        ConversationsCmd::Rename { id, title } => {
            if !library.records.rename(&id, title.trim())? {
                bail!("no conversation {id}");
            }
        }
        ConversationsCmd::Delete { id } => {
            let app = open(library, None).await?;
            app.conversations.delete(&id).await?;
            say(
                json,
                serde_json::json!({"deleted": id}),
                format!("deleted {id}"),
            );
        }
        ConversationsCmd::Send { id, message } => {
            let app = open(library, None).await?;
            let mut watch = app.conversations.watch(&id);
            app.conversations.send(&id, &message).await?;
            return Ok(outcome(follow_to_end(&mut watch, true, json).await?));
        }
        ConversationsCmd::Follow { id } => {
            let app = open(library, None).await?;
            let mut watch = app.conversations.watch(&id);
            let added = app.conversations.catch_up(&id).await?;
            say(
                json,
                serde_json::json!({"caught_up": added}),
                format!("[caught up] {added} new events"),
            );
            return Ok(outcome(follow_to_end(&mut watch, false, json).await?));
        }
        ConversationsCmd::Continue { id, message } => {
            let app = open(library, None).await?;
            let mut watch = app.conversations.watch(&id);
            let task = app.conversations.continue_in_new_sandbox(&id, message)?;
            loop {
                let t = app.starts.get(&task.id)?;
                match t.status {
                    StartStatus::Ready => break,
                    StartStatus::Error => bail!(
                        "the new sandbox did not start: {}",
                        t.detail.unwrap_or_default()
                    ),
                    _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
            return Ok(outcome(follow_to_end(&mut watch, true, json).await?));
        }
        ConversationsCmd::Confirm { id, reject, reason } => {
            let app = open(library, None).await?;
            let mut watch = app.conversations.watch(&id);
            app.conversations
                .confirm(&id, !reject, reason.as_deref())
                .await?;
            return Ok(outcome(follow_to_end(&mut watch, true, json).await?));
        }
    }
    Ok(0)
}

async fn settings(library: Library, cmd: SettingsCmd, json: bool) -> Result<u8> {
    match cmd {
        SettingsCmd::Show => {
            println!(
                "{}",
                serde_json::to_string_pretty(&library.settings.load()?)?
            )
        }
        SettingsCmd::Schema => println!(
            "{}",
            serde_json::to_string_pretty(&berth_app::settings::schema())?
        ),
        SettingsCmd::Test { profile } => {
            let report = library.test_profile(profile.as_deref()).await?;
            say(json, serde_json::to_value(&report)?, report.message.clone());
            return Ok(if report.ok { 0 } else { 1 });
        }
        SettingsCmd::DetectLocal => {
            let found = llm_check::detect_local(llm_check::DEFAULT_LOCAL).await;
            if json {
                println!("{}", serde_json::to_string(&found)?);
            } else if found.is_empty() {
                println!("no Ollama or LM Studio answers on this machine");
            }
            for s in found.iter().filter(|_| !json) {
                println!("{:?} at {}: {}", s.kind, s.base_url, s.models.join(", "));
            }
        }
        SettingsCmd::Import { file } => {
            let text = if file.as_os_str() == "-" {
                read_stdin()?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let settings: Settings =
                serde_json::from_str(&text).context("these are not Berth settings")?;
            save(&library, &settings)?;
        }
        SettingsCmd::AddProfile {
            name,
            model,
            base_url,
            key_stdin,
            activate,
        } => {
            let mut settings = library.settings.load()?;
            settings.llm_profiles.retain(|p| p.name != name);
            settings.llm_profiles.push(LlmProfile {
                name: name.clone(),
                model,
                base_url,
            });
            if activate || settings.active_profile.is_none() {
                settings.active_profile = Some(name.clone());
            }
            save(&library, &settings)?;
            if key_stdin {
                let key = read_stdin()?;
                library
                    .secrets
                    .set(SecretKind::Llm, &name, key.trim(), None)?;
            }
        }
    }
    Ok(0)
}

fn secrets(library: Library, cmd: SecretsCmd) -> Result<u8> {
    let kind = |k: &str| match k {
        "custom" => Ok(SecretKind::Custom),
        "llm" => Ok(SecretKind::Llm),
        "provider" => Ok(SecretKind::Provider),
        other => Err(anyhow!(
            "unknown kind '{other}': use custom, llm or provider"
        )),
    };
    match cmd {
        SecretsCmd::Set {
            name,
            kind: k,
            description,
        } => {
            let value = read_stdin()?;
            let value = value.strip_suffix('\n').unwrap_or(&value);
            library
                .secrets
                .set(kind(&k)?, &name, value, description.as_deref())?;
        }
        SecretsCmd::List => {
            for s in library.secrets.list()? {
                println!(
                    "{:<8} {:<24} {}",
                    s.kind.as_str(),
                    s.name,
                    s.description.unwrap_or_default()
                );
            }
        }
        SecretsCmd::Delete { name, kind: k } => {
            if !library.secrets.delete(kind(&k)?, &name)? {
                bail!("no {k} secret '{name}'");
            }
        }
    }
    Ok(0)
}
