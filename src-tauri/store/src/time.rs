//! The app's timestamps: UTC, RFC 3339 with microseconds, so that stored times sort as text and
//! every table writes them the same way.

pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
