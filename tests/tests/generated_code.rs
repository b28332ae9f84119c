//! The generated code, guarded twice: insta snapshots make every change to a spec or to the
//! generator settings a reviewable diff (`cargo insta review`), and the committed
//! `generated.rs` files must be exactly what the generator makes now.

use userbatch_tests::workspace_root;
use xtask::spec::VENDORS;

fn generate(name: &str) -> String {
    let vendor = VENDORS
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vendor {name}"));
    xtask::generate::generate_vendor(&workspace_root(), vendor)
        .unwrap_or_else(|e| panic!("generating {name}: {e:#}"))
}

#[test]
fn snapshot_nexudus() {
    insta::assert_snapshot!("nexudus_generated", generate("nexudus"));
}

#[test]
fn snapshot_usermgr() {
    insta::assert_snapshot!("usermgr_generated", generate("usermgr"));
}

#[test]
fn snapshot_avepoint() {
    insta::assert_snapshot!("avepoint_generated", generate("avepoint"));
}

#[test]
fn committed_generated_files_are_fresh() {
    for vendor in VENDORS {
        let committed = std::fs::read_to_string(workspace_root().join(vendor.generated_rel()))
            .expect("generated.rs exists");
        assert!(
            committed == generate(vendor.name),
            "{} is stale: run `cargo xtask generate`",
            vendor.generated_rel()
        );
    }
}

#[test]
fn generation_is_deterministic() {
    for vendor in VENDORS {
        assert_eq!(
            generate(vendor.name),
            generate(vendor.name),
            "{}",
            vendor.name
        );
    }
}
