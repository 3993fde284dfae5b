//! Watching one conversation: its events as they come (after those already mirrored, none
//! twice) and the status its run settles in.

use std::collections::HashSet;

use berth_protocol::{Event, ExecutionStatus};

use super::ConversationError;

/// A conversation's events as they come, and the end of its run.
pub struct RunWatch {
    pub(super) id: String,
    pub(super) updates: tokio::sync::broadcast::Receiver<crate::bridge::Update>,
    pub(super) mirror: crate::mirror::EventMirror,
    pub(super) seen: HashSet<String>,
}

impl RunWatch {
    /// Hands over the events mirrored so far (they are not handed over again).
    pub fn replay(&mut self, mut on_event: impl FnMut(&Event)) -> Result<(), ConversationError> {
        for e in self.mirror.events(&self.id)? {
            if self.seen.insert(e.id.clone()) {
                on_event(&e);
            }
        }
        Ok(())
    }

    /// Waits until the run settles (finished, error, stuck, paused, waiting for confirmation)
    /// and returns that status; `on_event` sees each new event. With `new_run`, a status
    /// counts only after the agent was seen running again (after a message or a confirmation).
    pub async fn settled(
        &mut self,
        new_run: bool,
        mut on_event: impl FnMut(&Event),
    ) -> Result<ExecutionStatus, ConversationError> {
        let mut status = if new_run {
            None
        } else {
            self.mirror.status(&self.id)?
        };
        loop {
            if let Some(s) = status
                && s.is_settled()
            {
                return Ok(s);
            }
            match self.updates.recv().await {
                Ok((conv, event)) if conv == self.id => {
                    if self.seen.insert(event.id.clone()) {
                        on_event(&event);
                    }
                    if let Some(s) = event.execution_status() {
                        status = Some(s);
                    }
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !new_run {
                        status = self.mirror.status(&self.id)?;
                    }
                }
                Err(_) => return Err(ConversationError::NotFound(self.id.clone())),
            }
        }
    }
}
