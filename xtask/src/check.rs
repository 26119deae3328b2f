//! `cargo xtask check`: the rules that keep the workspace honest.
//!
//! 1. Layering: a crate only depends on crates below it (`RANKS`); siblings never name each other.
//! 2. `byova-models` uses only pure-data crates; `byova-api` never reaches tonic, prost or
//!    byova-media; nothing reaches aws-lc-rs; OpenSSL is reachable only through byova-jws.
//! 3. Every library crate is an optional dependency of the umbrella `byova`, and every public
//!    feature of every sub-crate can be switched on from the umbrella (as ruma's xtask does).
//! 4. The committed generated gRPC code is fresh (`cargo xtask codegen --check`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

/// Crates of the layered stack with their rank; a crate may depend only on lower ranks.
const RANKS: &[(&str, u8)] = &[
    ("byova-models", 0),
    ("byova-api", 1),
    ("byova-auth", 2),
    ("byova-jws", 2),
    ("byova-media", 3),
    ("byova", 4),
    ("byova-cli", 5),
];

/// The only external crates `byova-models` may use (pure data, no I/O).
const MODELS_ALLOWED: &[&str] = &["serde", "serde_json", "time", "base64", "url"];

/// Crates `byova-api` must never reach, directly or transitively.
const API_FORBIDDEN: &[&str] = &["tonic", "prost", "byova-media", "openssl", "josekit"];

/// The umbrella crate.
const UMBRELLA: &str = "byova";

pub(crate) fn run() -> anyhow::Result<()> {
    let metadata = cargo_metadata()?;
    let graph = Graph::new(&metadata)?;
    let mut problems = Vec::new();

    check_layering(&graph, &mut problems);
    check_forbidden(&graph, &mut problems);
    check_umbrella(&graph, &mut problems);

    if problems.is_empty() {
        eprintln!("layering and umbrella features: ok");
    } else {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        bail!("{} problem(s) found by `cargo xtask check`", problems.len());
    }

    crate::codegen::run(true).context("generated gRPC code is stale: run `cargo xtask codegen`")?;
    eprintln!("generated code: fresh");
    Ok(())
}

fn cargo_metadata() -> anyhow::Result<Value> {
    let host = host_triple()?;
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--filter-platform",
        ])
        .arg(&host)
        .output()
        .context("cannot run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn host_triple() -> anyhow::Result<String> {
    let output = Command::new("rustc").arg("-vV").output()?;
    String::from_utf8(output.stdout)?
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .context("`rustc -vV` printed no host triple")
}

/// One declared dependency of a workspace package.
#[derive(Debug)]
struct Declared {
    name: String,
    kind: Option<String>,
    optional: bool,
}

/// What the checks need from `cargo metadata`.
#[derive(Debug)]
struct Graph {
    /// Workspace package name → its declared dependencies.
    declared: BTreeMap<String, Vec<Declared>>,
    /// Workspace package name → its features table.
    features: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Package id → (name, ids of its normal and build dependencies).
    nodes: HashMap<String, (String, Vec<String>)>,
    /// Workspace package name → package id.
    ids: BTreeMap<String, String>,
}

impl Graph {
    fn new(metadata: &Value) -> anyhow::Result<Self> {
        let members: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .context("no workspace_members")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut declared = BTreeMap::new();
        let mut features = BTreeMap::new();
        let mut ids = BTreeMap::new();
        let mut names = HashMap::new();
        for package in metadata["packages"].as_array().context("no packages")? {
            let id = package["id"].as_str().unwrap_or_default().to_owned();
            let name = package["name"].as_str().unwrap_or_default().to_owned();
            names.insert(id.clone(), name.clone());
            if !members.contains(id.as_str()) {
                continue;
            }
            let deps = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|dep| Declared {
                    name: dep["name"].as_str().unwrap_or_default().to_owned(),
                    kind: dep["kind"].as_str().map(str::to_owned),
                    optional: dep["optional"].as_bool().unwrap_or(false),
                })
                .collect();
            declared.insert(name.clone(), deps);
            let table = serde_json::from_value(package["features"].clone()).unwrap_or_default();
            features.insert(name.clone(), table);
            ids.insert(name, id);
        }
        let mut nodes = HashMap::new();
        for node in metadata["resolve"]["nodes"]
            .as_array()
            .context("no resolve")?
        {
            let id = node["id"].as_str().unwrap_or_default().to_owned();
            let deps = node["deps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|kind| matches!(kind["kind"].as_str(), None | Some("build")))
                })
                .filter_map(|dep| dep["pkg"].as_str().map(str::to_owned))
                .collect();
            let name = names.get(&id).cloned().unwrap_or_default();
            nodes.insert(id, (name, deps));
        }
        Ok(Self {
            declared,
            features,
            nodes,
            ids,
        })
    }

    /// Names of every package reachable from `package` through normal and build dependencies.
    fn reachable(&self, package: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut stack: Vec<String> = self.ids.get(package).into_iter().cloned().collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some((name, deps)) = self.nodes.get(&id) {
                if name != package {
                    names.insert(name.clone());
                }
                stack.extend(deps.iter().cloned());
            }
        }
        names
    }
}

fn rank(name: &str) -> Option<u8> {
    RANKS
        .iter()
        .find(|(crate_name, _)| *crate_name == name)
        .map(|(_, rank)| *rank)
}

fn check_layering(graph: &Graph, problems: &mut Vec<String>) {
    for (package, deps) in &graph.declared {
        // Examples, integration tests and xtask sit above everything.
        let Some(own_rank) = rank(package) else {
            continue;
        };
        for dep in deps {
            let Some(dep_rank) = rank(&dep.name) else {
                continue;
            };
            if dep_rank >= own_rank && dep.name != *package {
                let kind = dep.kind.as_deref().unwrap_or("normal");
                problems.push(format!(
                    "{package} ({kind} dependency) names {} which is not below it in the layering",
                    dep.name
                ));
            }
        }
    }
    for (package, deps) in &graph.declared {
        if package == "byova-models" {
            for dep in deps.iter().filter(|dep| dep.kind.is_none()) {
                if !MODELS_ALLOWED.contains(&dep.name.as_str()) {
                    problems.push(format!(
                        "byova-models depends on `{}`; it may only use {MODELS_ALLOWED:?}",
                        dep.name
                    ));
                }
            }
        }
    }
}

fn check_forbidden(graph: &Graph, problems: &mut Vec<String>) {
    let api = graph.reachable("byova-api");
    for name in API_FORBIDDEN {
        if api.contains(*name) {
            problems.push(format!("byova-api reaches `{name}`"));
        }
    }
    for package in graph.declared.keys() {
        let reachable = graph.reachable(package);
        if reachable.contains("aws-lc-rs") || reachable.contains("aws-lc-sys") {
            problems.push(format!("{package} reaches aws-lc-rs (TLS must use ring)"));
        }
        let through_jws = reachable.contains("byova-jws") || package == "byova-jws";
        if reachable.contains("openssl") && !through_jws {
            problems.push(format!("{package} reaches OpenSSL outside byova-jws"));
        }
    }
}

fn check_umbrella(graph: &Graph, problems: &mut Vec<String>) {
    let Some(umbrella_deps) = graph.declared.get(UMBRELLA) else {
        problems.push(format!("the umbrella crate `{UMBRELLA}` is missing"));
        return;
    };
    let umbrella_features = graph.features.get(UMBRELLA).cloned().unwrap_or_default();
    let enabled: BTreeSet<&str> = umbrella_features
        .values()
        .flatten()
        .map(String::as_str)
        .collect();
    for (name, rank) in RANKS {
        if *name == UMBRELLA || *name == "byova-cli" || *rank > 4 {
            continue;
        }
        let Some(dep) = umbrella_deps
            .iter()
            .find(|dep| dep.name == *name && dep.kind.is_none())
        else {
            problems.push(format!("the umbrella does not depend on {name}"));
            continue;
        };
        if *name != "byova-models" && !dep.optional {
            problems.push(format!(
                "the umbrella depends on {name} without a feature gate"
            ));
        }
        for feature in graph
            .features
            .get(*name)
            .into_iter()
            .flat_map(BTreeMap::keys)
        {
            if feature == "default" || feature.starts_with('_') {
                continue;
            }
            let direct = format!("{name}/{feature}");
            let weak = format!("{name}?/{feature}");
            if !enabled.contains(direct.as_str()) && !enabled.contains(weak.as_str()) {
                problems.push(format!(
                    "feature `{feature}` of {name} cannot be enabled from the umbrella `{UMBRELLA}`"
                ));
            }
        }
    }
}
