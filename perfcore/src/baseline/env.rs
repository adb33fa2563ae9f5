//! Where a run was recorded: the machine, the build and the commit.

use std::fmt;
use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

/// The machine, build and commit a baseline or run was recorded on.
///
/// Plain data: every field is public, so a binding can replace what it knows better (the
/// Python binding sets [`runtime`](Self::runtime) to "CPython 3.11.2"). Fields perfcore could
/// not find out are `None`; finding out never fails.
///
/// # Examples
/// ```
/// let env = perfcore::baseline::Environment::capture().with_runtime("CPython 3.11.2");
/// assert_eq!(env.runtime, "CPython 3.11.2");
/// assert_eq!(env.perfcore_version, env!("CARGO_PKG_VERSION"));
/// assert!(env.differences(&env).is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Environment {
    /// When it was captured (Unix time, ns).
    pub created_unix_ns: u64,
    /// The commit checked out, when captured inside a git repository.
    #[serde(default)]
    pub git: Option<GitInfo>,
    /// The host name.
    #[serde(default)]
    pub host: Option<String>,
    /// The operating system, as `std::env::consts::OS` names it ("linux", "macos").
    pub os: String,
    /// The CPU architecture, as `std::env::consts::ARCH` names it ("x86_64", "aarch64").
    pub arch: String,
    /// The CPU model ("AMD EPYC 7B13"), from /proc/cpuinfo on Linux and sysctl on macOS.
    #[serde(default)]
    pub cpu_model: Option<String>,
    /// Logical cores available to the process.
    #[serde(default)]
    pub cores: Option<u32>,
    /// "debug" or "release": whether the profiled code was built with debug assertions.
    pub build_profile: String,
    /// The compiler or interpreter ("rustc 1.95.0", "CPython 3.11.2").
    pub runtime: String,
    /// The perfcore version that captured it.
    pub perfcore_version: String,
}

/// The git commit a run was recorded at.
///
/// # Examples
/// ```
/// let env = perfcore::baseline::Environment::capture();
/// if let Some(git) = &env.git {
///     assert_eq!(git.commit.len(), 40);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GitInfo {
    /// The full hash of `HEAD`.
    pub commit: String,
    /// The branch checked out; `None` on a detached `HEAD`.
    #[serde(default)]
    pub branch: Option<String>,
    /// Whether tracked files had uncommitted changes.
    #[serde(default)]
    pub dirty: bool,
}

impl GitInfo {
    /// The commit `commit` on `branch`, with no uncommitted changes known: for runs another
    /// tool recorded (a pytest-benchmark file names its commit).
    ///
    /// # Examples
    /// ```
    /// let g = perfcore::baseline::GitInfo::new("0123abcd".into(), Some("main".into()));
    /// assert!(!g.dirty);
    /// ```
    #[must_use]
    pub fn new(commit: String, branch: Option<String>) -> Self {
        Self { commit, branch, dirty: false }
    }
}

/// A field of [`Environment`] that matters when comparing runs.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::EnvField::CpuModel.to_string(), "cpu_model");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnvField {
    /// [`Environment::cpu_model`].
    CpuModel,
    /// [`Environment::cores`].
    Cores,
    /// [`Environment::build_profile`].
    BuildProfile,
    /// [`Environment::os`].
    Os,
    /// [`Environment::arch`].
    Arch,
    /// [`Environment::runtime`].
    Runtime,
}

impl fmt::Display for EnvField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CpuModel => "cpu_model",
            Self::Cores => "cores",
            Self::BuildProfile => "build_profile",
            Self::Os => "os",
            Self::Arch => "arch",
            Self::Runtime => "runtime",
        })
    }
}

/// One way two environments differ that can make their timings incomparable.
///
/// # Examples
/// ```
/// use perfcore::baseline::{EnvField, Environment};
/// let a = Environment::capture();
/// let mut b = a.clone();
/// b.build_profile = "other".into();
/// let diff = &a.differences(&b)[0];
/// assert_eq!(diff.field, EnvField::BuildProfile);
/// assert_eq!(diff.theirs, "other");
/// assert!(diff.to_string().starts_with("build_profile: "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvDifference {
    /// The field that differs.
    pub field: EnvField,
    /// Its value on this side.
    pub ours: String,
    /// Its value on the other side.
    pub theirs: String,
}

impl fmt::Display for EnvDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?} vs {:?}", self.field, self.ours, self.theirs)
    }
}

impl Environment {
    /// The environment of this process, with git information from the current directory.
    ///
    /// # Examples
    /// ```
    /// let env = perfcore::baseline::Environment::capture();
    /// assert_eq!(env.os, std::env::consts::OS);
    /// assert!(env.created_unix_ns > 0);
    /// ```
    #[must_use]
    pub fn capture() -> Self {
        Self::capture_in(Path::new("."))
    }

    /// The environment of this process, with git information from the repository that holds
    /// `dir` (or its nearest existing ancestor). Outside a repository, or without `git`
    /// installed, [`git`](Self::git) is `None`.
    ///
    /// # Examples
    /// ```
    /// let env = perfcore::baseline::Environment::capture_in(&std::env::temp_dir());
    /// assert_eq!(env.arch, std::env::consts::ARCH);
    /// ```
    #[must_use]
    pub fn capture_in(dir: &Path) -> Self {
        let created_unix_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Self {
            created_unix_ns,
            git: git_info(dir),
            host: host_name(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism()
                .ok()
                .and_then(|n| u32::try_from(n.get()).ok()),
            build_profile: if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned(),
            runtime: env!("PERFCORE_RUSTC_VERSION").to_owned(),
            perfcore_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// This environment with another [`runtime`](Self::runtime), e.g. "CPython 3.11.2".
    ///
    /// # Examples
    /// ```
    /// let env = perfcore::baseline::Environment::capture().with_runtime("PyPy 7.3");
    /// assert_eq!(env.runtime, "PyPy 7.3");
    /// ```
    #[must_use]
    pub fn with_runtime(mut self, runtime: impl Into<String>) -> Self {
        self.runtime = runtime.into();
        self
    }

    /// The fields that differ between the two and can make their timings incomparable: CPU
    /// model, core count, build profile, OS, architecture and runtime, in that order. Host,
    /// commit and time are expected to differ and are not compared, nor is a field one side
    /// did not record (`None`, or [`UNKNOWN`]: a snapshot file read by the command line does
    /// not say how the profiled program was built).
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::Environment;
    /// let a = Environment::capture();
    /// let mut b = a.clone();
    /// b.host = Some("elsewhere".into());
    /// assert!(a.differences(&b).is_empty());
    /// b.cores = Some(1024);
    /// assert_eq!(a.differences(&b).len(), 1);
    /// b.runtime = perfcore::baseline::UNKNOWN.into();
    /// assert_eq!(a.differences(&b).len(), 1);
    /// ```
    #[must_use]
    pub fn differences(&self, other: &Environment) -> Vec<EnvDifference> {
        let known = |v: &str| (v != UNKNOWN).then(|| v.to_owned());
        let pairs = [
            (EnvField::CpuModel, self.cpu_model.clone(), other.cpu_model.clone()),
            (
                EnvField::Cores,
                self.cores.map(|n| n.to_string()),
                other.cores.map(|n| n.to_string()),
            ),
            (EnvField::BuildProfile, known(&self.build_profile), known(&other.build_profile)),
            (EnvField::Os, known(&self.os), known(&other.os)),
            (EnvField::Arch, known(&self.arch), known(&other.arch)),
            (EnvField::Runtime, known(&self.runtime), known(&other.runtime)),
        ];
        pairs
            .into_iter()
            .filter_map(|(field, ours, theirs)| match (ours, theirs) {
                (Some(ours), Some(theirs)) if ours != theirs => {
                    Some(EnvDifference { field, ours, theirs })
                }
                _ => None,
            })
            .collect()
    }
}

/// The value of an [`Environment`] text field that was not recorded.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::UNKNOWN, "unknown");
/// ```
pub const UNKNOWN: &str = "unknown";

/// Runs `git` in `dir` and returns its trimmed output, or `None` if it cannot be run or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        // `git status` would otherwise refresh the index, racing the user's own git commands.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git_info(dir: &Path) -> Option<GitInfo> {
    // The store's directory is made on first write: ask from the nearest one that exists.
    let dir = dir.ancestors().find(|d| d.as_os_str().is_empty() || d.is_dir())?;
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let commit = git(dir, &["rev-parse", "--verify", "-q", "HEAD"]).filter(|c| !c.is_empty())?;
    let branch = git(dir, &["symbolic-ref", "-q", "--short", "HEAD"]).filter(|b| !b.is_empty());
    // Untracked files are not counted: the store's own new files would make every run dirty.
    let dirty =
        git(dir, &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(GitInfo { commit, branch, dirty })
}

fn host_name() -> Option<String> {
    let from_file = |p: &str| std::fs::read_to_string(p).ok();
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| {
            let out = Command::new("hostname").stderr(std::process::Stdio::null()).output().ok()?;
            out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}

fn cpu_model() -> Option<String> {
    if cfg!(target_os = "linux") {
        let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
        // x86 says "model name"; some ARM kernels say "Model" or only "CPU part".
        info.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| matches!(k.trim(), "model name" | "Model" | "Processor"))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    } else if cfg!(target_os = "macos") {
        let out = Command::new("sysctl").args(["-n", "machdep.cpu.brand_string"]).output().ok()?;
        let model = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !model.is_empty()).then_some(model)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_fills_what_every_platform_has() {
        let env = Environment::capture();
        assert!(env.build_profile == "debug" || env.build_profile == "release");
        assert!(env.runtime.starts_with("rustc "), "{}", env.runtime);
        assert!(env.cores.is_some_and(|n| n >= 1));
        if cfg!(target_os = "linux") {
            assert!(env.cpu_model.is_some());
        }
    }

    #[test]
    fn outside_a_repository_git_is_none_not_an_error() {
        let dir = std::env::temp_dir().join(format!("perfcore-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("not/yet/made");
        // Meaningful only where the temporary directory is outside any repository.
        if git(&dir, &["rev-parse", "--git-dir"]).is_none() {
            assert_eq!(git_info(&missing), None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn inside_this_repository_git_names_the_commit() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        if git(here, &["rev-parse", "HEAD"]).is_none() {
            return; // built from a published crate or without git
        }
        let info = git_info(here).unwrap();
        assert_eq!(info.commit.len(), 40, "{info:?}");
    }

    #[test]
    fn differences_name_both_values() {
        let mut a = Environment::capture();
        a.cpu_model = Some("CPU A".into());
        let mut b = a.clone();
        b.cpu_model = Some("CPU B".into());
        b.runtime = "CPython 3.12.1".into();
        let d = a.differences(&b);
        assert_eq!(
            d.iter().map(|d| d.field).collect::<Vec<_>>(),
            [EnvField::CpuModel, EnvField::Runtime]
        );
        assert_eq!((d[0].ours.as_str(), d[0].theirs.as_str()), ("CPU A", "CPU B"));
        assert_eq!(d[1].to_string(), format!("runtime: {:?} vs \"CPython 3.12.1\"", a.runtime));
        // What one side did not record is not a difference.
        b.cpu_model = None;
        b.runtime = UNKNOWN.into();
        assert!(a.differences(&b).is_empty());
    }
}
