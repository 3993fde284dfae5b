//! The git identity from Settings is who the agent's commits are by, in either kind of sandbox:
//! the agent commits in the user's repository and the commit names the identity, author and
//! committer, whatever the user's own git configuration says.

use crate::common;

use berth_app::settings::{GitIdentity, Runtime};
use berth_scripted_llm::Step;
use common::app::{app_fixture_on, ready, start_local, status};
use serde_json::json;

async fn the_agents_commit_carries_the_settings_identity(runtime: Runtime) {
    let commit_and_show = "git commit -q --allow-empty -m 'by the agent' \
        && git log -1 --format='%an <%ae> / %cn <%ce>' > author.txt";
    let script = vec![
        Step::tool("terminal", json!({"command": commit_and_show})),
        Step::tool("finish", json!({"message": "committed"})),
    ];
    let fx = app_fixture_on(runtime, script, |s| {
        s.git = GitIdentity {
            name: Some("Berth Agent".into()),
            email: Some("agent@berth.invalid".into()),
        };
    })
    .await;
    let ws = fx.tmp.path().join("project");
    std::fs::create_dir_all(&ws).unwrap();
    common::committed_repo(&ws, &[("README.md", "hello\n")]);
    common::users_folder(&ws);
    let task = ready(&fx.app, &start_local(&fx, &ws, Some("commit"))).await;
    status(&fx.app, &task.conversation_id.unwrap(), "finished").await;
    let author = std::fs::read_to_string(ws.join("author.txt")).unwrap();
    assert_eq!(
        author.trim(),
        "Berth Agent <agent@berth.invalid> / Berth Agent <agent@berth.invalid>"
    );
    fx.remove_sandboxes().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn in_a_process_sandbox_the_agents_commit_carries_the_settings_identity() {
    the_agents_commit_carries_the_settings_identity(Runtime::Process).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine (run by .ci/test when one answers)"]
async fn docker_the_agents_commit_carries_the_settings_identity() {
    the_agents_commit_carries_the_settings_identity(Runtime::Docker).await;
}
