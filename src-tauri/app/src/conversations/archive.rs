//! A conversation as a zip a user can keep or share: `meta.json` (what lists show, plus when and
//! by what it was exported) and `events/NNNNNN-<id>.json`, one file per event in order, as the
//! agent-server wrote them (secrets already masked). Crate: `zip`, the maintained zip writer.

use std::io::Write;
use std::path::Path;

use berth_protocol::Event;
use serde_json::json;
use zip::write::SimpleFileOptions;

use super::{ConversationError, ConversationSummary};

pub(super) fn write_zip(
    conv: &ConversationSummary,
    events: &[Event],
    dest: &Path,
) -> Result<usize, ConversationError> {
    let io = |e: &dyn std::fmt::Display| {
        ConversationError::Io(format!("cannot write {}: {e}", dest.display()))
    };
    // Written beside the destination, then renamed: a failed export leaves no half file.
    let partial = dest.with_extension("zip.partial");
    let file = std::fs::File::create(&partial).map_err(|e| io(&e))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let meta = json!({
        "conversation": conv,
        "event_count": events.len(),
        "exported_at": crate::time::now(),
        "exported_by": format!("Berth {}", env!("CARGO_PKG_VERSION")),
    });
    let write = |zip: &mut zip::ZipWriter<std::fs::File>, name: &str, value: &serde_json::Value| {
        zip.start_file(name, opts).map_err(|e| io(&e))?;
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| io(&e))?;
        zip.write_all(&bytes).map_err(|e| io(&e))
    };
    write(&mut zip, "meta.json", &meta)?;
    for (i, e) in events.iter().enumerate() {
        let value = serde_json::to_value(e).map_err(|e| io(&e))?;
        let safe_id: String =
            e.id.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
        write(
            &mut zip,
            &format!("events/{:06}-{safe_id}.json", i + 1),
            &value,
        )?;
    }
    zip.finish().map_err(|e| io(&e))?;
    std::fs::rename(&partial, dest).map_err(|e| io(&e))?;
    Ok(events.len())
}
