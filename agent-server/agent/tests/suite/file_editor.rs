//! The file_editor tool, command by command and error by error, against OpenHands' rules.

use berth_agent::tools::file_editor::FileEditorTool;
use berth_agent::tools::{Tool, ToolContext};
use berth_protocol::{FileEditorObservation, Observation, content_text};
use serde_json::json;

struct Fx {
    tool: FileEditorTool,
    ctx: ToolContext,
    dir: tempfile::TempDir,
}

fn fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ToolContext::new(dir.path());
    Fx {
        tool: FileEditorTool::default(),
        ctx,
        dir,
    }
}

impl Fx {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
    async fn call(&self, args: serde_json::Value) -> FileEditorObservation {
        let action = self.tool.parse(args).unwrap();
        match self.tool.execute(&action, &self.ctx).await {
            Observation::FileEditorObservation(o) => o,
            other => panic!("{other:?}"),
        }
    }
    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.path().join(name), text).unwrap();
        self.path(name)
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap()
    }
}

fn text(o: &FileEditorObservation) -> String {
    content_text(&o.content)
}

#[tokio::test]
async fn view_shows_numbered_lines_and_ranges() {
    let f = fx();
    let p = f.write("a.txt", "one\ntwo\nthree\nfour\n");
    let o = f.call(json!({"command": "view", "path": p})).await;
    assert!(!o.is_error);
    assert_eq!(
        text(&o),
        format!(
            "Here's the result of running `cat -n` on {p}:\n     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n"
        )
    );
    let o = f
        .call(json!({"command": "view", "path": p, "view_range": [2, 3]}))
        .await;
    assert!(
        text(&o).ends_with("     2\ttwo\n     3\tthree\n"),
        "{}",
        text(&o)
    );
    let o = f
        .call(json!({"command": "view", "path": p, "view_range": [3, -1]}))
        .await;
    assert!(text(&o).ends_with("     3\tthree\n     4\tfour\n"));
    let o = f
        .call(json!({"command": "view", "path": p, "view_range": [0, 2]}))
        .await;
    assert!(
        o.is_error && text(&o).contains("Invalid `view_range` parameter"),
        "{}",
        text(&o)
    );
    let o = f
        .call(json!({"command": "view", "path": p, "view_range": [2, 9]}))
        .await;
    assert!(o.is_error && text(&o).contains("should be smaller than the number of lines"));
}

#[tokio::test]
async fn view_of_a_directory_goes_two_levels_and_counts_hidden_entries() {
    let f = fx();
    std::fs::create_dir_all(f.dir.path().join("src/deep/deeper")).unwrap();
    f.write("src/main.rs", "fn main() {}");
    f.write("src/deep/deeper/x.rs", "");
    f.write(".env", "X=1");
    let o = f
        .call(json!({"command": "view", "path": f.dir.path().display().to_string()}))
        .await;
    let t = text(&o);
    assert!(t.contains("up to 2 levels deep"));
    assert!(t.contains(&format!("{}/", f.path("src"))));
    assert!(t.contains(&f.path("src/main.rs")));
    assert!(t.contains(&format!("{}/", f.path("src/deep"))));
    assert!(!t.contains("deeper"), "{t}");
    assert!(t.contains("1 hidden files/directories"), "{t}");
    let o = f.call(json!({"command": "view", "path": f.dir.path().display().to_string(), "view_range": [1, 2]})).await;
    assert!(o.is_error && text(&o).contains("not allowed when `path` points to a directory"));
}

#[tokio::test]
async fn create_writes_a_new_file_and_refuses_to_overwrite() {
    let f = fx();
    let p = f.path("new.py");
    let o = f
        .call(json!({"command": "create", "path": p, "file_text": "print('hi')\n"}))
        .await;
    assert_eq!(text(&o), format!("File created successfully at: {p}"));
    assert!(!o.prev_exist);
    assert_eq!(o.new_content.as_deref(), Some("print('hi')\n"));
    assert_eq!(f.read("new.py"), "print('hi')\n");
    let o = f
        .call(json!({"command": "create", "path": p, "file_text": "x"}))
        .await;
    assert!(
        o.is_error && text(&o).contains("File already exists"),
        "{}",
        text(&o)
    );
    assert_eq!(f.read("new.py"), "print('hi')\n");
    let o = f
        .call(json!({"command": "create", "path": f.path("missing/dir/x.py"), "file_text": "x"}))
        .await;
    assert!(
        o.is_error && text(&o).contains("while trying to write to"),
        "{}",
        text(&o)
    );
    let o = f
        .call(json!({"command": "create", "path": f.path("y.py")}))
        .await;
    assert!(o.is_error && text(&o).contains("Parameter `file_text` is required"));
}

#[tokio::test]
async fn str_replace_needs_a_unique_literal_match() {
    let f = fx();
    let p = f.write("c.py", "a = 1\nb = 2\na = 1\nc = 3\n");
    let o = f
        .call(json!({"command": "str_replace", "path": p, "old_str": "a = 1", "new_str": "a = 9"}))
        .await;
    assert!(o.is_error);
    assert_eq!(
        text(&o),
        "No replacement was performed. Multiple occurrences of old_str `a = 1` in lines [1, 3]. Please ensure it is unique."
    );
    let o = f
        .call(json!({"command": "str_replace", "path": p, "old_str": "zzz", "new_str": "y"}))
        .await;
    assert_eq!(
        text(&o),
        format!("No replacement was performed, old_str `zzz` did not appear verbatim in {p}.")
    );
    let o = f
        .call(json!({"command": "str_replace", "path": p, "old_str": "b = 2", "new_str": "b = 2"}))
        .await;
    assert!(o.is_error && text(&o).contains("must be different"));
    assert_eq!(f.read("c.py"), "a = 1\nb = 2\na = 1\nc = 3\n");
    let o = f.call(json!({"command": "str_replace", "path": p, "old_str": "b = 2\na = 1", "new_str": "b = 20\na = 10"})).await;
    assert!(!o.is_error, "{}", text(&o));
    assert!(text(&o).contains("has been edited"));
    assert!(text(&o).contains("     2\tb = 20"), "{}", text(&o));
    assert_eq!(f.read("c.py"), "a = 1\nb = 20\na = 10\nc = 3\n");
    assert_eq!(
        o.old_content.as_deref(),
        Some("a = 1\nb = 2\na = 1\nc = 3\n")
    );
    // Surrounding whitespace in old_str is forgiven once.
    let o = f.call(json!({"command": "str_replace", "path": p, "old_str": "  c = 3\n\n", "new_str": "c = 4"})).await;
    assert!(!o.is_error, "{}", text(&o));
    assert_eq!(f.read("c.py"), "a = 1\nb = 20\na = 10\nc = 4\n");
    // Deleting text: new_str may be omitted.
    let o = f
        .call(json!({"command": "str_replace", "path": p, "old_str": "a = 10\n"}))
        .await;
    assert!(!o.is_error);
    assert_eq!(f.read("c.py"), "a = 1\nb = 20\nc = 4\n");
}

#[tokio::test]
async fn insert_after_a_line_with_range_checks() {
    let f = fx();
    let p = f.write("i.txt", "one\ntwo\n");
    let o = f
        .call(json!({"command": "insert", "path": p, "insert_line": 0, "new_str": "zero"}))
        .await;
    assert!(!o.is_error, "{}", text(&o));
    let o = f
        .call(json!({"command": "insert", "path": p, "insert_line": 3, "new_str": "three\nfour"}))
        .await;
    assert!(!o.is_error, "{}", text(&o));
    assert_eq!(f.read("i.txt"), "zero\none\ntwo\nthree\nfour\n");
    let o = f
        .call(json!({"command": "insert", "path": p, "insert_line": 9, "new_str": "x"}))
        .await;
    assert_eq!(
        text(&o),
        "Invalid `insert_line` parameter: 9. It should be within the range of allowed values: [0, 5]"
    );
    let o = f
        .call(json!({"command": "insert", "path": p, "new_str": "x"}))
        .await;
    assert!(o.is_error && text(&o).contains("Parameter `insert_line` is required"));
}

#[tokio::test]
async fn undo_edit_walks_back_through_edits() {
    let f = fx();
    let p = f.write("u.txt", "v1\n");
    let o = f.call(json!({"command": "undo_edit", "path": p})).await;
    assert_eq!(text(&o), format!("No edit history found for {p}."));
    f.call(json!({"command": "str_replace", "path": p, "old_str": "v1", "new_str": "v2"}))
        .await;
    f.call(json!({"command": "str_replace", "path": p, "old_str": "v2", "new_str": "v3"}))
        .await;
    let o = f.call(json!({"command": "undo_edit", "path": p})).await;
    assert!(text(&o).contains("undone successfully"));
    assert_eq!(f.read("u.txt"), "v2\n");
    f.call(json!({"command": "undo_edit", "path": p})).await;
    assert_eq!(f.read("u.txt"), "v1\n");
}

#[tokio::test]
async fn path_rules() {
    let f = fx();
    f.write("rel.txt", "x\n");
    let o = f.call(json!({"command": "view", "path": "rel.txt"})).await;
    assert!(o.is_error);
    assert!(text(&o).contains("absolute path"));
    assert!(
        text(&o).contains(&format!("Maybe you meant {}?", f.path("rel.txt"))),
        "{}",
        text(&o)
    );
    let o = f
        .call(json!({"command": "view", "path": f.path("nope.txt")}))
        .await;
    assert!(o.is_error && text(&o).contains("does not exist"));
    let o = f.call(json!({"command": "str_replace", "path": f.dir.path().display().to_string(), "old_str": "a", "new_str": "b"})).await;
    assert!(o.is_error && text(&o).contains("only the `view` command can be used on directories"));
}

#[tokio::test]
async fn refuses_binary_and_huge_files_and_clips_long_views() {
    let f = fx();
    std::fs::write(f.dir.path().join("b.bin"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    let o = f
        .call(json!({"command": "view", "path": f.path("b.bin")}))
        .await;
    assert!(o.is_error && text(&o).contains("binary"), "{}", text(&o));
    let big = std::fs::File::create(f.dir.path().join("big.txt")).unwrap();
    big.set_len(11 * 1024 * 1024).unwrap();
    let o = f
        .call(json!({"command": "view", "path": f.path("big.txt")}))
        .await;
    assert!(
        o.is_error && text(&o).contains("File is too large (11.0MB)"),
        "{}",
        text(&o)
    );
    let long: String = (1..=5000).map(|i| format!("line number {i}\n")).collect();
    let p = f.write("long.txt", &long);
    let o = f.call(json!({"command": "view", "path": p})).await;
    assert!(!o.is_error);
    assert!(text(&o).chars().count() < 16_500);
    assert!(text(&o).contains("grep -n"));
}

#[tokio::test]
async fn unknown_and_missing_parameters_are_clear_errors() {
    let f = fx();
    let err = berth_agent::tools::validate_args(
        &f.tool,
        &json!({"command": "view", "path": "/x", "colour": "red"}),
    )
    .err()
    .unwrap();
    assert!(err.contains("unknown parameter 'colour'"), "{err}");
    assert!(err.contains("Parameters provided"));
    let err = berth_agent::tools::validate_args(&f.tool, &json!({"command": "view"}))
        .err()
        .unwrap();
    assert!(err.contains("missing required parameter 'path'"), "{err}");
    let err = f
        .tool
        .parse(json!({"command": "delete", "path": "/x"}))
        .err()
        .unwrap();
    assert!(err.contains("Error validating tool 'file_editor'"), "{err}");
    // security_risk and summary are accepted and stripped.
    let ok = berth_agent::tools::validate_args(
        &f.tool,
        &json!({"command": "view", "path": "/x", "security_risk": "LOW", "summary": "look"}),
    );
    assert_eq!(ok.ok(), Some(json!({"command": "view", "path": "/x"})));
}

/// An edit of a 5 MiB file does not put 10 MiB of before and after text into its event: the
/// edit is done, the event says where the diff is instead.
#[tokio::test]
async fn an_edit_of_a_huge_file_carries_no_huge_diff_in_its_event() {
    let f = fx();
    let line = "let x = 1; // padding padding padding padding padding padding\n";
    let big: String = line.repeat(5 * 1024 * 1024 / line.len());
    let path = f.write("big.rs", &format!("{big}MARKER\n"));
    let o = f
        .call(
            json!({"command": "str_replace", "path": path, "old_str": "MARKER", "new_str": "DONE"}),
        )
        .await;
    assert!(!o.is_error, "{}", text(&o));
    assert!(f.read("big.rs").ends_with("DONE\n"));
    assert_eq!((&o.old_content, &o.new_content), (&None, &None));
    assert!(
        text(&o).contains("the Changes tab shows it"),
        "{}",
        text(&o)
    );
    let small = f.write("small.rs", "a\nb\n");
    let o = f
        .call(json!({"command": "str_replace", "path": small, "old_str": "b", "new_str": "c"}))
        .await;
    assert_eq!(o.new_content.as_deref(), Some("a\nc\n"));
}
