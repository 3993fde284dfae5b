//! The terminal tool against a real bash on a real PTY.

use std::time::{Duration, Instant};

use berth_agent::secrets::SecretRegistry;
use berth_agent::tools::terminal::{TerminalOptions, TerminalTool, llm_text};
use berth_agent::tools::{Tool, ToolContext};
use berth_protocol::{Action, Observation, TerminalAction, TerminalObservation, content_text};

struct Fixture {
    tool: TerminalTool,
    ctx: ToolContext,
    _dir: tempfile::TempDir,
}

fn fixture(no_output: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext {
        workspace: dir.path().join("ws"),
        persistence_dir: Some(dir.path().join("conv")),
        secrets: SecretRegistry::default(),
    };
    std::fs::create_dir_all(&ctx.workspace).unwrap();
    Fixture {
        tool: TerminalTool::new(TerminalOptions {
            no_output_timeout: no_output,
        }),
        ctx,
        _dir: dir,
    }
}

impl Fixture {
    async fn run(
        &self,
        command: &str,
        is_input: bool,
        timeout: Option<f64>,
        reset: bool,
    ) -> TerminalObservation {
        let action = Action::TerminalAction(TerminalAction {
            command: command.into(),
            is_input,
            timeout,
            reset,
        });
        match self.tool.execute(&action, &self.ctx).await {
            Observation::TerminalObservation(o) => o,
            other => panic!("not a terminal observation: {other:?}"),
        }
    }
    async fn cmd(&self, command: &str) -> TerminalObservation {
        self.run(command, false, None, false).await
    }
}

fn text(o: &TerminalObservation) -> String {
    content_text(&o.content)
}

#[tokio::test]
async fn runs_a_command_and_reports_exit_code_and_cwd() {
    let f = fixture(Duration::from_secs(10));
    let o = f.cmd("echo hello && false").await;
    assert_eq!(text(&o), "hello");
    assert_eq!(o.exit_code, Some(1));
    assert!(!o.timeout);
    assert_eq!(
        o.metadata.suffix,
        "\n[The command completed with exit code 1.]"
    );
    let ws = f.ctx.workspace.canonicalize().unwrap();
    assert_eq!(o.metadata.working_dir.as_deref(), ws.to_str());
    let view = llm_text(&o);
    assert!(
        view.starts_with(
            "hello\n[The command completed with exit code 1.]\n[Current working directory: "
        ),
        "{view}"
    );
    assert!(
        view.ends_with("[Command finished with exit code 1]"),
        "{view}"
    );
}

#[tokio::test]
async fn cwd_and_environment_persist_between_calls() {
    let f = fixture(Duration::from_secs(10));
    f.cmd("mkdir -p sub/dir && cd sub/dir").await;
    f.cmd("export BERTH_TEST_VAR=kept").await;
    let o = f.cmd("pwd; echo $BERTH_TEST_VAR").await;
    let out = text(&o);
    assert!(out.ends_with("sub/dir\nkept"), "{out}");
    assert!(o.metadata.working_dir.unwrap().ends_with("sub/dir"));
}

#[tokio::test]
async fn soft_timeout_returns_partial_output_and_the_command_goes_on() {
    let f = fixture(Duration::from_secs(1));
    let started = Instant::now();
    let o = f.cmd("echo start; sleep 3; echo end").await;
    assert!(
        started.elapsed() < Duration::from_millis(2900),
        "returned after {:?}",
        started.elapsed()
    );
    assert_eq!(text(&o), "start");
    assert_eq!(o.exit_code, Some(-1));
    assert!(o.timeout);
    assert!(
        o.metadata.suffix.contains("no new output after 1 seconds"),
        "{}",
        o.metadata.suffix
    );
    // A new command is not run while one is running.
    let refused = f.cmd("echo other").await;
    assert!(
        text(&refused).contains("is NOT executed"),
        "{}",
        text(&refused)
    );
    // An empty command waits for more output.
    let mut more = f.cmd("").await;
    while more.exit_code == Some(-1) {
        more = f.cmd("").await;
    }
    assert!(text(&more).contains("end"), "{}", text(&more));
    assert_eq!(more.exit_code, Some(0));
    assert_eq!(
        more.metadata.prefix,
        "[Below is the output of the previous command.]\n"
    );
}

#[tokio::test]
async fn hard_timeout_parameter() {
    let f = fixture(Duration::from_secs(30));
    let started = Instant::now();
    let o = f
        .run(
            "while true; do echo tick; sleep 0.2; done",
            false,
            Some(1.0),
            false,
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(o.timeout);
    assert!(text(&o).contains("tick"));
    assert!(
        o.metadata.suffix.contains("timed out after 1 seconds"),
        "{}",
        o.metadata.suffix
    );
    let stopped = f.run("C-c", true, None, false).await;
    assert_eq!(stopped.exit_code, Some(130));
    assert!(
        stopped.metadata.suffix.contains("CTRL+C was sent"),
        "{}",
        stopped.metadata.suffix
    );
}

#[tokio::test]
async fn ctrl_c_interrupts_a_running_command() {
    let f = fixture(Duration::from_secs(1));
    let o = f.cmd("sleep 30").await;
    assert_eq!(o.exit_code, Some(-1));
    let o = f.run("C-c", true, None, false).await;
    assert_eq!(o.exit_code, Some(130), "{o:?}");
    // The shell is usable again.
    let o = f.cmd("echo after").await;
    assert_eq!(text(&o), "after");
}

#[tokio::test]
async fn an_interactive_program_is_answered_through_is_input() {
    let f = fixture(Duration::from_secs(1));
    let o = f
        .cmd("python3 -c \"name = input('Your name? '); print('Hello, ' + name)\"")
        .await;
    assert_eq!(o.exit_code, Some(-1));
    assert!(text(&o).contains("Your name?"), "{}", text(&o));
    let o = f.run("Berth", true, None, false).await;
    assert!(text(&o).contains("Hello, Berth"), "{}", text(&o));
    assert_eq!(o.exit_code, Some(0));
}

#[tokio::test]
async fn input_without_a_running_command_is_an_error() {
    let f = fixture(Duration::from_secs(5));
    let o = f.run("y", true, None, false).await;
    assert!(o.is_error);
    assert!(text(&o).contains("No previous running command"));
}

#[tokio::test]
async fn long_output_is_cut_in_the_middle_and_saved() {
    let f = fixture(Duration::from_secs(10));
    let o = f.cmd("seq 1 20000").await;
    assert_eq!(o.exit_code, Some(0));
    let view = llm_text(&o);
    assert!(
        view.chars().count() <= 30_000,
        "{} chars",
        view.chars().count()
    );
    assert!(view.starts_with("1\n2\n3\n"));
    assert!(text(&o).ends_with("19999\n20000"));
    assert!(view.contains("response clipped"));
    let saved = std::fs::read_dir(f.ctx.persistence_dir.clone().unwrap().join("observations"))
        .unwrap()
        .flatten()
        .next()
        .expect("no saved output");
    let full = std::fs::read_to_string(saved.path()).unwrap();
    assert_eq!(full.lines().count(), 20000);
    assert!(view.contains(&saved.path().display().to_string()));
}

#[tokio::test]
async fn reset_starts_a_fresh_session() {
    let f = fixture(Duration::from_secs(10));
    f.cmd("export GONE=1 && cd /").await;
    let o = f.run("", false, None, true).await;
    assert!(text(&o).contains("reset"), "{}", text(&o));
    let o = f.cmd("echo \"[$GONE]\"; pwd").await;
    let ws = f.ctx.workspace.canonicalize().unwrap();
    assert_eq!(text(&o), format!("[]\n{}", ws.display()));
    let o = f.run("echo fresh", false, None, true).await;
    assert_eq!(text(&o), "fresh");
    assert!(o.metadata.prefix.contains("reset"));
}

#[tokio::test]
async fn several_top_level_commands_are_refused() {
    let f = fixture(Duration::from_secs(5));
    let o = f.cmd("echo one\necho two").await;
    assert!(o.is_error);
    assert!(
        text(&o).contains("Cannot execute multiple commands"),
        "{}",
        text(&o)
    );
    let o = f.cmd("cat > f.txt <<'EOF'\nline 1\n\nline 3\nEOF").await;
    assert_eq!(o.exit_code, Some(0), "{o:?}");
    let o = f.cmd("cat f.txt").await;
    assert_eq!(text(&o), "line 1\n\nline 3");
}

#[tokio::test]
async fn secrets_reach_commands_that_name_them_and_are_masked() {
    let f = fixture(Duration::from_secs(5));
    f.ctx.secrets.set("API_TOKEN", "tok-very-secret-42", None);
    let o = f.cmd("echo token is $API_TOKEN").await;
    assert_eq!(text(&o), "token is <secret-hidden>");
    let o = f
        .cmd("echo tok-very-secret-42 | tr a-z A-Z | tr A-Z a-z")
        .await;
    assert_eq!(text(&o), "<secret-hidden>");
}

#[tokio::test]
async fn a_shell_that_exited_is_replaced_at_the_next_command() {
    let f = fixture(Duration::from_secs(5));
    let o = f.cmd("exit 3").await;
    assert!(o.metadata.suffix.contains("shell exited"), "{o:?}");
    let o = f.cmd("echo back").await;
    assert_eq!(text(&o), "back");
    assert_eq!(o.exit_code, Some(0));
    assert!(o.metadata.prefix.contains("new terminal session"));
}

#[tokio::test]
async fn a_huge_timeout_still_returns_when_the_command_ends() {
    let f = fixture(Duration::from_secs(30));
    let started = Instant::now();
    let o = f.run("echo quick", false, Some(1e20), false).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(text(&o).contains("quick"), "{}", text(&o));
}
