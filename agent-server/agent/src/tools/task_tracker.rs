//! The `task_tracker` tool: the agent's plan as a list of tasks (`plan` replaces it, `view`
//! shows it), saved to `TASKS.json` in the conversation directory so it survives restarts.

use async_trait::async_trait;
use berth_protocol::{
    Action, Observation, TaskItem, TaskStatus, TaskTrackerAction, TaskTrackerCommand,
    TaskTrackerObservation, ToolAnnotations,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::files::write_atomic;
use super::{Tool, ToolContext, annotations, from_args, text_content};

#[derive(Default)]
pub struct TaskTrackerTool {
    tasks: Mutex<Option<Vec<TaskItem>>>,
}

fn render(tasks: &[TaskItem]) -> String {
    if tasks.is_empty() {
        return "No task list yet. Use the `plan` command to create one.".into();
    }
    let mut out = String::from("# Task List\n\n");
    for (i, t) in tasks.iter().enumerate() {
        let mark = match t.status {
            TaskStatus::Todo => "⏳",
            TaskStatus::InProgress => "🔄",
            TaskStatus::Done => "✅",
        };
        out.push_str(&format!("{}. {mark} {}\n", i + 1, t.title));
        if !t.notes.is_empty() {
            out.push_str(&format!("   {}\n", t.notes));
        }
    }
    out
}

#[async_trait]
impl Tool for TaskTrackerTool {
    fn name(&self) -> &str {
        "task_tracker"
    }

    fn kinds(&self) -> (&str, &str, &str) {
        (
            "TaskTrackerTool",
            "TaskTrackerAction",
            "TaskTrackerObservation",
        )
    }

    fn description(&self) -> String {
        "Keep a structured plan for multi-step work. `plan` replaces the whole list with task_list \
         (each task: title, notes, status todo|in_progress|done); `view` shows it. Update it as you \
         start and finish tasks so the user can follow progress."
            .into()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "enum": ["view", "plan"], "description": "`view` the list or `plan` (replace) it. Default view."},
                "task_list": {"type": "array", "description": "For `plan`: the full list of tasks.", "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string", "description": "A short title."},
                        "notes": {"type": "string", "description": "Details (optional)."},
                        "status": {"type": "string", "enum": ["todo", "in_progress", "done"]}
                    },
                    "required": ["title"]
                }}
            },
            "required": []
        })
    }

    fn annotations(&self) -> ToolAnnotations {
        annotations("task_tracker", false, false, true, false)
    }

    fn parse(&self, args: Value) -> Result<Action, String> {
        from_args(self.name(), args).map(Action::TaskTrackerAction)
    }

    async fn execute(&self, action: &Action, ctx: &ToolContext) -> Observation {
        let a = match action {
            Action::TaskTrackerAction(a) => a.clone(),
            _ => TaskTrackerAction {
                command: TaskTrackerCommand::View,
                task_list: Vec::new(),
            },
        };
        let file = ctx.persistence_dir.as_ref().map(|d| d.join("TASKS.json"));
        let mut tasks = self.tasks.lock().await;
        if tasks.is_none() {
            // First use after a restart: the saved list is the current one.
            *tasks = Some(
                file.as_ref()
                    .and_then(|f| std::fs::read(f).ok())
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or_default(),
            );
        }
        let list = tasks.get_or_insert_with(Vec::new);
        let (text, is_error) = match a.command {
            TaskTrackerCommand::View => (render(list), false),
            TaskTrackerCommand::Plan => {
                *list = a.task_list.clone();
                let saved = match &file {
                    Some(f) => serde_json::to_vec_pretty(list)
                        .map_err(|e| e.to_string())
                        .and_then(|b| {
                            if let Some(dir) = f.parent() {
                                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                            }
                            write_atomic(f, &b).map_err(|e| e.to_string())
                        }),
                    None => Ok(()),
                };
                match saved {
                    Ok(()) => (
                        format!("Task list has been updated with {} item(s).", list.len()),
                        false,
                    ),
                    Err(e) => (
                        format!("The task list was updated but could not be saved: {e}"),
                        true,
                    ),
                }
            }
        };
        Observation::TaskTrackerObservation(TaskTrackerObservation {
            content: text_content(text),
            is_error,
            command: a.command,
            task_list: list.clone(),
        })
    }
}
