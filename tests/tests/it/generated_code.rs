//! Insta snapshots of every vendor crate's generated code (one per `specs/*.yaml`), and
//! the guarantee CI relies on: the committed `generated.rs` files must be exactly what the
//! generator makes now.

use userbatch_tests::workspace_root;
use xtask::spec::{VendorSpec, vendors};

fn all() -> Vec<VendorSpec> {
    vendors(&workspace_root()).expect("the specs/ folder lists the vendors")
}

fn generate(vendor: &VendorSpec) -> String {
    xtask::generate::generate_vendor(&workspace_root(), vendor)
        .unwrap_or_else(|e| panic!("generating {}: {e:#}", vendor.name))
}

#[test]
fn snapshots() {
    let vendors = all();
    assert!(!vendors.is_empty());
    for vendor in vendors {
        insta::assert_snapshot!(format!("{}_generated", vendor.name), generate(&vendor));
    }
}

#[test]
fn committed_generated_files_are_fresh() {
    for vendor in all() {
        let committed = std::fs::read_to_string(workspace_root().join(vendor.generated_rel()))
            .expect("generated.rs exists");
        assert!(
            committed == generate(&vendor),
            "{} is stale: run `cargo xtask generate`",
            vendor.generated_rel()
        );
    }
}

#[test]
fn generation_is_deterministic() {
    for vendor in all() {
        assert_eq!(generate(&vendor), generate(&vendor), "{}", vendor.name);
    }
}
