//! The desktop app's logs: a window has no terminal, so what `tracing` records goes to a file in
//! the data folder (`logs/berth.YYYY-MM-DD.log`, a new file each day, the last seven kept) that
//! the user can open from Settings and attach to a bug report. `BERTH_LOG` sets the filter.
//!
//! Crate: `tracing-appender`, the tracing project's own rolling file writer.

use std::path::Path;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// How many daily files stay.
const KEPT: usize = 7;

/// Starts writing the logs to `folder`. A folder that cannot be made or written is said on
/// stderr and the app runs on without a log file: logging never keeps Berth from starting.
pub fn init(folder: &Path) {
    let filter = EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,berth=info,berth_app=info,berth_sandbox=info"));
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("berth")
        .filename_suffix("log")
        .max_log_files(KEPT)
        .build(folder);
    let installed = match appender {
        Ok(file) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(file)
            .try_init(),
        Err(e) => {
            eprintln!(
                "berth: cannot write logs to {}: {e}; logging to stderr",
                folder.display()
            );
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init()
        }
    };
    if let Err(e) = installed {
        eprintln!("berth: logging was already set up: {e}");
    }
}
