//! The vendors, their resources and their operations' options on the command line, all
//! from the facade's registry (`userbatch::registry`, generated from `specs/`): no vendor
//! is named here.

use std::collections::BTreeMap;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Arg, ArgAction, ArgMatches, Command};
use userbatch::OptionSpec;
use userbatch::registry::{self, OperationEntry, Resource, Vendor};

/// The help heading of the vendors' options.
const HEADING: &str = "Vendor options";

/// Where a flag's arguments live in the matches (apart from the command's own ids).
const ID_PREFIX: &str = "vendor-option:";

/// The operations the command line can run: each resource's batch operation, and (with
/// `--full`) the full operation of its summaries.
fn reachable() -> Vec<(&'static Vendor, &'static Resource, &'static OperationEntry)> {
    let mut out = Vec::new();
    for vendor in registry::vendors() {
        for resource in vendor.resources {
            let entry = resource.batch_operation();
            out.push((vendor, resource, entry));
            if let Some(full) = vendor.full_operation(entry) {
                out.push((vendor, resource, full));
            }
        }
    }
    out
}

/// One option flag and the operations that have it.
struct Flag {
    long: String,
    /// (vendor, resource, the option, whether it is the `--full` operation's).
    users: Vec<(
        &'static Vendor,
        &'static Resource,
        &'static OptionSpec,
        bool,
    )>,
}

/// Every option flag: named after its parameter (kebab-case); one that would shadow a flag
/// of the command's own is prefixed with its vendor's name.
fn flags(own: &[String]) -> Vec<Flag> {
    let mut by_long: BTreeMap<String, Flag> = BTreeMap::new();
    for (vendor, resource, entry) in reachable() {
        let full = !std::ptr::eq(entry, resource.batch_operation());
        for option in entry.options {
            let long = long_flag(own, vendor, option);
            let flag = by_long.entry(long.clone()).or_insert_with(|| Flag {
                long,
                users: Vec::new(),
            });
            if !flag.users.iter().any(|(v, r, o, f)| {
                v.name == vendor.name
                    && r.name == resource.name
                    && o.name == option.name
                    && *f == full
            }) {
                flag.users.push((vendor, resource, option, full));
            }
        }
    }
    by_long.into_values().collect()
}

/// The long flag of `option`: its own, or with its vendor's name before it where that
/// would shadow a flag of the command's own.
fn long_flag(own: &[String], vendor: &Vendor, option: &OptionSpec) -> String {
    if own.iter().any(|o| o == option.flag) {
        format!("{}-{}", vendor.name, option.flag)
    } else {
        option.flag.to_owned()
    }
}

/// `vendor resource` pairs, for messages.
fn users_of(flag: &Flag) -> String {
    let mut names: Vec<String> = flag
        .users
        .iter()
        .map(|(v, r, _, full)| {
            format!(
                "{} {}{}",
                v.name,
                r.name,
                if *full { " --full" } else { "" }
            )
        })
        .collect();
    names.dedup();
    names.join(", ")
}

/// The command with the registry's vendors, resources and option flags.
pub fn augment(cmd: Command) -> Command {
    let vendors = registry::vendors();
    let mut resources: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for vendor in vendors {
        for resource in vendor.resources {
            resources
                .entry(resource.name)
                .or_default()
                .push(vendor.name);
        }
    }
    let vendor_values: Vec<PossibleValue> = vendors
        .iter()
        .map(|v| {
            let list: Vec<&str> = v.resources.iter().map(|r| r.name).collect();
            let mut help = format!("{} ({})", v.rules.title, list.join(", "));
            for var in v.rules.server_variables.iter() {
                let values = if var.values.is_empty() {
                    "VALUE".to_owned()
                } else {
                    var.values.join("|")
                };
                let what = var.description.trim_end_matches('.');
                let what = if what.is_empty() {
                    String::new()
                } else {
                    format!("{what}; ")
                };
                help.push_str(&format!(
                    "; --server-var {}={values} ({what}default {})",
                    var.name, var.default
                ));
            }
            PossibleValue::new(v.name).help(help)
        })
        .collect();
    let resource_values: Vec<PossibleValue> = resources
        .iter()
        .map(|(r, vs)| PossibleValue::new(*r).help(vs.join(", ")))
        .collect();
    let own = own_flags(&cmd);
    let mut cmd = cmd
        .mut_arg("vendor", |a| {
            a.value_parser(PossibleValuesParser::new(vendor_values))
        })
        .mut_arg("resource", |a| {
            a.value_parser(PossibleValuesParser::new(resource_values))
        });
    for flag in flags(&own) {
        let (_, _, first, _) = flag.users[0];
        let mut help = first.help.trim_end_matches('.').to_owned();
        if help.is_empty() {
            help = format!("`{}`", first.name);
        }
        let mut notes = vec![users_of(&flag)];
        if first.required {
            notes.push("required".to_owned());
        }
        if let Some(default) = first.default {
            notes.push(format!("default: {default}"));
        }
        if first.list {
            notes.push(format!(
                "comma-separated; one of: {}",
                first.values.join(", ")
            ));
        }
        let mut arg = Arg::new(format!("{ID_PREFIX}{}", flag.long))
            .long(flag.long.clone())
            .value_name(if first.list { "LIST" } else { "VALUE" })
            .help(format!("{help} [{}]", notes.join("; ")))
            .help_heading(HEADING)
            .action(ArgAction::Set)
            .value_hint(clap::ValueHint::Other);
        let same_values = flag
            .users
            .iter()
            .all(|(_, _, o, _)| o.values == first.values);
        if !first.values.is_empty() && !first.list && same_values {
            arg = arg.value_parser(PossibleValuesParser::new(first.values.iter().copied()));
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// What a run fetches: the operation and its options (spec name, value).
pub struct Target {
    /// The vendor.
    pub vendor: &'static Vendor,
    /// The resource.
    pub resource: &'static Resource,
    /// The operation.
    pub entry: &'static OperationEntry,
    /// The options given, by spec name.
    pub options: Vec<(&'static str, String)>,
    /// The flag of each option of the operation (spec name, long flag).
    flags: Vec<(&'static str, String)>,
}

impl Target {
    /// The flag of an option of the operation, by its spec name, for messages.
    pub fn flag_of(&self, name: &str) -> String {
        self.flags
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| name.to_owned(), |(_, long)| format!("--{long}"))
    }
}

/// The target of `vendor resource` with the flags given; a flag another operation has, a
/// `--full` with no full operation, or a required option not given is refused, naming what
/// would take it. With `mock`, a required option not given is `mock` (the mock takes any).
pub fn resolve(
    matches: &ArgMatches,
    own: &[String],
    vendor: &str,
    resource: &str,
    full: bool,
    mock: bool,
) -> Result<Target, String> {
    let vendor = registry::vendor(vendor).ok_or_else(|| format!("no vendor {vendor:?}"))?;
    let Some(res) = vendor.resource(resource) else {
        let has: Vec<&str> = vendor.resources.iter().map(|r| r.name).collect();
        let others: Vec<&str> = registry::vendors()
            .iter()
            .filter(|v| v.resource(resource).is_some())
            .map(|v| v.name)
            .collect();
        return Err(format!(
            "{} has no {resource} (it has: {}); {resource}: {}",
            vendor.name,
            has.join(", "),
            others.join(", ")
        ));
    };
    let mut entry = res.batch_operation();
    if full {
        entry = vendor.full_operation(entry).ok_or_else(|| {
            let with: Vec<String> = reachable()
                .into_iter()
                .filter(|(v, _, e)| v.full_operation(e).is_some())
                .map(|(v, r, _)| format!("{} {}", v.name, r.name))
                .collect();
            format!(
                "--full: `{} {}` returns full records already (--full applies to {} only)",
                vendor.name,
                res.name,
                with.join(", ")
            )
        })?;
    }
    let mut options = Vec::new();
    for flag in flags(own) {
        let Some(value) = matches.get_one::<String>(&format!("{ID_PREFIX}{}", flag.long)) else {
            continue;
        };
        let mine = flag
            .users
            .iter()
            .find(|(v, r, o, _)| {
                v.name == vendor.name
                    && r.name == res.name
                    && entry.options.iter().any(|e| e.name == o.name)
            })
            .map(|(_, _, o, _)| o.name);
        match mine {
            Some(_) if value.trim().is_empty() => {
                return Err(format!("--{} must not be empty", flag.long));
            }
            Some(name) => options.push((name, value.trim().to_owned())),
            None => {
                return Err(format!(
                    "--{} applies to {} only",
                    flag.long,
                    users_of(&flag)
                ));
            }
        }
    }
    let flags: Vec<(&'static str, String)> = entry
        .options
        .iter()
        .map(|o| (o.name, long_flag(own, vendor, o)))
        .collect();
    for option in entry.options.iter().filter(|o| o.required) {
        if options.iter().any(|(n, _)| *n == option.name) {
            continue;
        }
        if mock {
            options.push((option.name, option.any_value("mock").to_owned()));
        } else {
            let long = long_flag(own, vendor, option);
            return Err(format!(
                "{} {} needs --{long} ({})",
                vendor.name,
                res.name,
                option.help.trim_end_matches('.')
            ));
        }
    }
    Ok(Target {
        vendor,
        resource: res,
        entry,
        options,
        flags,
    })
}

/// The long flags of `cmd` (the command's own, before [`augment`]), and the two clap adds.
pub fn own_flags(cmd: &Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_long().map(str::to_owned))
        .chain(["help".to_owned(), "version".to_owned()])
        .collect()
}

/// For a flag clap did not know (`--sort`, `--order=desc`): if it names a parameter some
/// operation's spec leaves out on purpose (`skip-parameters`), the reason.
pub fn not_offered(arg: &str) -> Option<String> {
    let flag = arg.strip_prefix("--")?.split('=').next()?;
    let mut whose = Vec::new();
    let mut why = None;
    for vendor in registry::vendors() {
        for resource in vendor.resources {
            for op in resource.operations {
                if let Some(p) = op
                    .rules
                    .skip_parameters
                    .iter()
                    .find(|p| kebab(&p.name) == flag)
                {
                    let name = format!("{} {}", vendor.name, resource.name);
                    if !whose.contains(&name) {
                        whose.push(name);
                    }
                    why.get_or_insert(&p.why);
                }
            }
        }
    }
    Some(format!(
        "--{flag}: not offered (by {}): {}",
        whose.join(", "),
        why?
    ))
}

/// A parameter's name as a flag: `$sort` -> `sort`, `pageSize` -> `page-size`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('-');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('-').to_owned()
}
