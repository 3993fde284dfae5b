//! The last lines a sandbox printed, bounded, so a chatty or long-lived agent-server never grows
//! the app's memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub const MAX_LINES: usize = 500;
pub const MAX_LINE_CHARS: usize = 2000;

#[derive(Clone, Default)]
pub struct LogRing {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl LogRing {
    pub fn push(&self, line: &str) {
        let line: String = line.chars().take(MAX_LINE_CHARS).collect();
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() == MAX_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn tail(&self, n: usize) -> String {
        let lines = self.lines();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// Each sandbox's ring, by sandbox id.
#[derive(Default)]
pub struct SandboxLogs {
    rings: Mutex<HashMap<String, LogRing>>,
}

impl SandboxLogs {
    fn rings(&self) -> std::sync::MutexGuard<'_, HashMap<String, LogRing>> {
        self.rings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh ring for a sandbox (replacing an old one), to push its output into.
    pub fn start(&self, id: &str) -> LogRing {
        let ring = LogRing::default();
        self.rings().insert(id.to_string(), ring.clone());
        ring
    }

    pub fn lines(&self, id: &str) -> Vec<String> {
        self.rings().get(id).map(LogRing::lines).unwrap_or_default()
    }

    pub fn forget(&self, id: &str) {
        self.rings().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_only() {
        let ring = LogRing::default();
        for i in 0..(MAX_LINES + 10) {
            ring.push(&format!("line {i}"));
        }
        let lines = ring.lines();
        assert_eq!(lines.len(), MAX_LINES);
        assert_eq!(lines[0], "line 10");
        ring.push(&"x".repeat(10_000));
        assert_eq!(ring.lines().last().map(String::len), Some(MAX_LINE_CHARS));
    }
}
