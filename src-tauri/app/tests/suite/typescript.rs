//! The UI is written against generated TypeScript; this fails when the Rust types changed and
//! the file was not regenerated (`cargo run -p berth-app --example gen-ts`).

#[test]
fn typescript_is_current() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/generated/api.ts");
    let committed = std::fs::read_to_string(&path).unwrap();
    let fresh = berth_app::api::typescript();
    assert!(
        committed == fresh,
        "{} is out of date with the Rust types: run `cargo run -p berth-app --example gen-ts` and commit it",
        path.display()
    );
    // The types the UI needs are all there.
    for name in [
        "Request",
        "Responses",
        "AppUpdate",
        "Event",
        "StartTask",
        "Settings",
        "ApiError",
    ] {
        assert!(
            fresh.contains(&format!("export type {name} ")),
            "{name} is missing from the generated TypeScript"
        );
    }
}
