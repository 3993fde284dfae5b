//! The start task on process sandboxes: git URLs, setup scripts, hooks, and failures that end
//! in ERROR with a reason the user can act on.

use crate::common;

use std::path::Path;

use berth_app::agent_client::AgentClient;
use berth_app::paths::Paths;
use berth_app::repository::Repository;
use berth_app::sandbox::process::ProcessSandboxService;
use berth_app::sandbox::{SandboxService, SandboxSpec};
use berth_app::start::{StartStatus, StartTask};
use common::process::{fixture, folder, request};
use common::{committed_repo, git};

#[tokio::test]
async fn a_git_url_is_cloned_its_setup_runs_and_its_hook_runs_in_the_sandbox() {
    let fx = fixture(vec![]).await;
    let src = folder(&fx, "src-repo");
    committed_repo(
        &src,
        &[
            (
                ".openhands/setup.sh",
                "echo setting up\necho ready > setup-ran.txt\n",
            ),
            // Inside the workspace: a confined process sandbox writes nowhere else.
            (
                ".openhands/pre-commit.sh",
                "echo checked >> .git/berth-hook.log\n",
            ),
            ("AGENTS.md", "Run make test."),
        ],
    );
    let bare = fx
        .home
        .parent()
        .unwrap_or(Path::new("/"))
        .join("remote.git");
    git(
        fx.home.parent().unwrap_or(Path::new("/")),
        &[
            "clone",
            "-q",
            "--bare",
            &src.display().to_string(),
            &bare.display().to_string(),
        ],
    );
    let url = format!("file://{}", bare.display());
    let mut req = request(
        &fx,
        Repository::GitUrl {
            url: url.clone(),
            branch: Some("main".into()),
            new_branch: Some("berth/fix".into()),
            full_clone: false,
        },
        None,
    );
    req.git_token = Some("ghp_token_never_stored".into());
    let task = fx.starts.start(req).await.unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    let states: Vec<StartStatus> = fx
        .starts
        .transitions(&task.id)
        .unwrap()
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert!(states.contains(&StartStatus::RunningSetupScript));
    let ws = task.workspace.clone().unwrap();
    assert!(ws.starts_with(fx.home.join("workspaces")));
    assert_eq!(
        std::fs::read_to_string(ws.join("setup-ran.txt")).unwrap(),
        "ready\n"
    );
    assert!(task.setup_output.clone().unwrap().contains("setting up"));
    let branch = std::process::Command::new("git")
        .args(["branch", "--show-current"])
        .current_dir(&ws)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap();
    assert_eq!(branch, "berth/fix");
    let depth = std::process::Command::new("git")
        .args(["rev-parse", "--is-shallow-repository"])
        .current_dir(&ws)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap();
    assert_eq!(depth, "true");
    // Berth writes no hook where the host's git would run it.
    assert!(!ws.join(".git/hooks/pre-commit").exists());
    let skills = fx
        .starts
        .transitions(&task.id)
        .unwrap()
        .into_iter()
        .find(|t| t.0 == StartStatus::SettingUpSkills)
        .and_then(|t| t.1)
        .unwrap();
    assert!(skills.contains("agents"), "{skills}");
    // The token is nowhere: not in .git/config, not in the database.
    let config = std::fs::read_to_string(ws.join(".git/config")).unwrap();
    assert!(!config.contains("ghp_token_never_stored") && !config.contains("extraHeader"));
    let db =
        String::from_utf8_lossy(&std::fs::read(fx.home.join("berth.db")).unwrap()).into_owned();
    assert!(!db.contains("ghp_token_never_stored"));
    // The hook runs on the agent's commits, in the sandbox; the host's own git runs nothing.
    std::fs::write(ws.join("new.txt"), "x").unwrap();
    let out = sandbox_sh(
        &fx,
        &task,
        "git add new.txt && git -c user.name=t -c user.email=t@e commit -qm 'agent change'",
    )
    .await;
    assert_eq!(out.exit_code, 0, "{out:?}");
    let log = ws.join(".git/berth-hook.log");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "checked\n");
    git(
        &ws,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "user's own commit",
        ],
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "checked\n");
    let _ = fx
        .sandboxes
        .delete(task.sandbox_id.as_deref().unwrap())
        .await;
}

#[tokio::test]
async fn an_existing_pre_commit_hook_keeps_running() {
    let fx = fixture(vec![]).await;
    let ws = folder(&fx, "hooked");
    git(&ws, &["init", "-q"]);
    std::fs::create_dir_all(ws.join(".openhands")).unwrap();
    std::fs::write(
        ws.join(".openhands/pre-commit.sh"),
        "echo berth >> log.txt\n",
    )
    .unwrap();
    std::fs::write(
        ws.join(".git/hooks/pre-commit"),
        "#!/bin/sh\necho original >> log.txt\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        ws.join(".git/hooks/pre-commit"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder { path: ws.clone() },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Ready, "{:?}", task.detail);
    // The repository's own hook is left as it was.
    assert!(
        std::fs::read_to_string(ws.join(".git/hooks/pre-commit"))
            .unwrap()
            .starts_with("#!/bin/sh\necho original")
    );
    // Starting again changes nothing either.
    let again = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder { path: ws.clone() },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(again.status, StartStatus::Ready);
    assert!(!ws.join(".git/hooks/pre-commit.local").exists());
    let out = sandbox_sh(
        &fx,
        &again,
        "git -c user.name=t -c user.email=t@e commit -q --allow-empty -m x",
    )
    .await;
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(
        std::fs::read_to_string(ws.join("log.txt")).unwrap(),
        "berth\noriginal\n"
    );
    for t in [task, again] {
        let _ = fx.sandboxes.delete(t.sandbox_id.as_deref().unwrap()).await;
    }
}

/// Runs a shell command in the start task's sandbox, in its workspace, as the agent would.
async fn sandbox_sh(
    fx: &common::process::Fx,
    task: &StartTask,
    command: &str,
) -> berth_app::agent_client::CommandOutput {
    let id = task.sandbox_id.as_deref().unwrap();
    let sandbox = fx.sandboxes.get(id).await.unwrap();
    let key = fx.sandboxes.session_key(id).await.unwrap();
    AgentClient::new(&sandbox.agent_url, key)
        .execute(
            command,
            &sandbox.workspace.display().to_string(),
            std::time::Duration::from_secs(30),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_end_in_error_with_a_reason_to_act_on() {
    let fx = fixture(vec![]).await;
    // An unreachable repository.
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::GitUrl {
                url: "file:///no/such/repo.git".into(),
                branch: None,
                new_branch: None,
                full_clone: false,
            },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Error);
    assert!(
        task.detail
            .clone()
            .unwrap()
            .contains("could not clone file:///no/such/repo.git"),
        "{:?}",
        task.detail
    );
    // A missing folder.
    let task = fx
        .starts
        .start(request(
            &fx,
            Repository::LocalFolder {
                path: "/no/such/folder".into(),
            },
            None,
        ))
        .await
        .unwrap();
    assert_eq!(task.status, StartStatus::Error);
    assert!(task.detail.clone().unwrap().contains("does not exist"));
    // A failing setup script, and one that hangs.
    for (script, timeout, expect) in [
        ("echo broken >&2; exit 3", 30, "failed with exit code 3"),
        ("sleep 20", 1, "did not finish within 1 s"),
    ] {
        let ws = folder(&fx, &format!("setup-{timeout}"));
        std::fs::create_dir_all(ws.join(".openhands")).unwrap();
        std::fs::write(ws.join(".openhands/setup.sh"), script).unwrap();
        let mut req = request(&fx, Repository::LocalFolder { path: ws }, None);
        req.setup_timeout = timeout;
        let task = fx.starts.start(req).await.unwrap();
        assert_eq!(task.status, StartStatus::Error);
        let detail = task.detail.clone().unwrap();
        assert!(detail.contains(expect), "{detail}");
        if timeout == 30 {
            assert!(
                detail.contains("broken"),
                "the script's output is shown: {detail}"
            );
        }
    }
    // A failed start leaves no sandbox behind.
    assert!(fx.sandboxes.list().await.unwrap().is_empty());
    // No agent-server program.
    let err = ProcessSandboxService::new(
        Paths::at(&fx.home),
        fx.store.clone(),
        Some("/no/berth-agent-server".into()),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap();
    assert!(err.contains("agent-server program was not found"), "{err}");
    // A workspace that is not a folder.
    let err = fx
        .sandboxes
        .create(&SandboxSpec::new("/no/such/dir"))
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap();
    assert!(err.contains("does not exist"), "{err}");
}
