//! Reading conversations from the database alone — search and export — so the CLI's read-only
//! commands need no sandbox service.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ConversationError, ConversationRecords, archive};

/// A search result: a conversation, and the event that matched (`None` when its title did).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SearchHit {
    pub conversation_id: String,
    pub title: Option<String>,
    pub event_id: Option<String>,
    pub snippet: String,
}

/// Writes a conversation as a zip, from the database alone (no sandbox needed).
pub fn export(
    records: &ConversationRecords,
    mirror: &crate::mirror::EventMirror,
    id: &str,
    dest: &Path,
) -> Result<usize, ConversationError> {
    let conv = records
        .get(id)?
        .ok_or_else(|| ConversationError::NotFound(id.to_string()))?;
    let events = mirror.events(id)?;
    archive::write_zip(&conv, &events, dest)
}

/// Search over a store, without sandboxes (the CLI's read-only commands use it too).
pub fn search(
    records: &ConversationRecords,
    mirror: &crate::mirror::EventMirror,
    query: &str,
    limit: usize,
) -> Result<Vec<SearchHit>, ConversationError> {
    let mut hits: Vec<SearchHit> = records
        .by_title(query, limit)?
        .into_iter()
        .map(|c| SearchHit {
            snippet: c.title.clone().unwrap_or_default(),
            conversation_id: c.id,
            title: c.title,
            event_id: None,
        })
        .collect();
    let mut titles: HashMap<String, Option<String>> = HashMap::new();
    for h in mirror.search(query, limit)? {
        if hits.len() >= limit {
            break;
        }
        let title = match titles.get(&h.conversation_id) {
            Some(t) => t.clone(),
            None => {
                let t = records.get(&h.conversation_id)?.and_then(|c| c.title);
                titles.insert(h.conversation_id.clone(), t.clone());
                t
            }
        };
        hits.push(SearchHit {
            conversation_id: h.conversation_id,
            title,
            event_id: Some(h.event_id),
            snippet: h.snippet,
        });
    }
    hits.truncate(limit);
    Ok(hits)
}
