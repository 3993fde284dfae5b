//! Writes the UI's TypeScript types (`ui/src/generated/api.ts`) from the Rust types of every
//! command and update. The test `typescript_is_current` fails when the file is out of date.

fn main() -> std::io::Result<()> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/generated/api.ts");
    std::fs::write(&path, berth_app::api::typescript())?;
    println!("wrote {}", path.display());
    Ok(())
}
