//! glob and grep: .gitignore respected, newest first, clear errors.

use berth_agent::tools::search::{GlobTool, GrepTool};
use berth_agent::tools::{Tool, ToolContext};
use berth_protocol::Observation;
use serde_json::json;

fn ctx(dir: &std::path::Path) -> ToolContext {
    ToolContext::new(dir)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for (path, text) in [
        (".gitignore", "build/\n*.log\n"),
        ("src/app.py", "def handler():\n    return 'TODO: fix'\n"),
        ("src/util/helpers.py", "# TODO later\n"),
        ("src/readme.md", "no marker here\n"),
        ("build/out.py", "TODO generated\n"),
        ("debug.log", "TODO in a log\n"),
    ] {
        let f = p.join(path);
        std::fs::create_dir_all(f.parent().unwrap_or(p)).unwrap();
        std::fs::write(f, text).unwrap();
    }
    dir
}

fn names(files: &[String], root: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = files
        .iter()
        .map(|f| {
            f.trim_start_matches(&format!("{}/", root.display()))
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn glob_skips_ignored_files() {
    let dir = project();
    let tool = GlobTool;
    let action = tool.parse(json!({"pattern": "**/*.py"})).unwrap();
    let Observation::GlobObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert_eq!(
        names(&o.files, dir.path()),
        ["src/app.py", "src/util/helpers.py"]
    );
    assert!(!o.truncated);
    let action = tool
        .parse(json!({"pattern": "*.py", "path": "src"}))
        .unwrap();
    let Observation::GlobObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert_eq!(o.files.len(), 1, "{:?}", o.files);
    let action = tool.parse(json!({"pattern": "**/*.rs"})).unwrap();
    let Observation::GlobObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert!(
        o.files.is_empty() && berth_protocol::content_text(&o.content).contains("No files matched")
    );
}

#[tokio::test]
async fn grep_finds_content_outside_ignored_files() {
    let dir = project();
    let tool = GrepTool;
    let action = tool.parse(json!({"pattern": "TODO"})).unwrap();
    let Observation::GrepObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert_eq!(
        names(&o.matches, dir.path()),
        ["src/app.py", "src/util/helpers.py"]
    );
    let action = tool
        .parse(json!({"pattern": "TODO", "include": "app.*"}))
        .unwrap();
    let Observation::GrepObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert_eq!(names(&o.matches, dir.path()), ["src/app.py"]);
    let action = tool.parse(json!({"pattern": "(unclosed"})).unwrap();
    let Observation::GrepObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert!(o.is_error && berth_protocol::content_text(&o.content).contains("Invalid regex"));
    let action = tool
        .parse(json!({"pattern": "x", "path": "/no/such/dir"}))
        .unwrap();
    let Observation::GrepObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert!(o.is_error && berth_protocol::content_text(&o.content).contains("not a directory"));
}

#[tokio::test]
async fn results_are_capped_at_100_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..120 {
        std::fs::write(dir.path().join(format!("f{i:03}.txt")), "x").unwrap();
    }
    // Newest by its modification time, set rather than waited for.
    let newest = dir.path().join("newest.txt");
    std::fs::write(&newest, "x").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&newest)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600))
        .unwrap();
    let tool = GlobTool;
    let action = tool.parse(json!({"pattern": "*.txt"})).unwrap();
    let Observation::GlobObservation(o) = tool.execute(&action, &ctx(dir.path())).await else {
        panic!()
    };
    assert_eq!(o.files.len(), 100);
    assert!(o.truncated);
    assert_eq!(o.files[0], newest.display().to_string());
}
