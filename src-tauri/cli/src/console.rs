//! What every command does at the console: reads stdin, prints text or JSON, saves settings
//! (printing each problem with its field).

use std::io::Read;

use anyhow::{Context, Result, bail};
use berth_app::app::Library;
use berth_app::settings::Settings;

pub fn say(json: bool, value: serde_json::Value, text: String) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Saves, or prints every problem with the field it concerns.
pub fn save(library: &Library, settings: &Settings) -> Result<()> {
    match library.settings.save(settings) {
        Err(berth_app::settings::SettingsError::Invalid(problems)) => {
            for p in &problems {
                eprintln!("{}: {}", p.field, p.message);
            }
            bail!("the settings were not saved")
        }
        other => Ok(other?),
    }
}

pub fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read stdin")?;
    Ok(s)
}
