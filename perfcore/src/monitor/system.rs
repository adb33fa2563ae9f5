//! The system sampler: CPU, memory, swap, disks, disk and network I/O and the process itself,
//! read through `sysinfo` on a background thread, kept in a bounded history (`history.rs`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sysinfo::{
    CpuRefreshKind, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

use super::history::{History, HistoryOptions, HistoryPoint, Trend};
use super::{MonitorError, Observation};

/// The shortest interval a sampler accepts.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// How long `Drop` waits for the sampler thread before leaving it to finish alone.
const DROP_WAIT: Duration = Duration::from_secs(2);

/// A callback run after each sample.
type Callback = Box<dyn FnMut(&SystemSample) + Send + 'static>;

/// How a [`SystemSampler`] samples: its interval, whether it reads disks and networks, how
/// much history it keeps, and the callbacks it runs after each sample.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::SamplerOptions;
/// let o = SamplerOptions::default().interval(Duration::from_millis(500)).networks(false);
/// assert_eq!(o.interval_value(), Duration::from_millis(500));
/// ```
pub struct SamplerOptions {
    interval: Duration,
    disks: bool,
    networks: bool,
    history: HistoryOptions,
    callbacks: Vec<Callback>,
}

impl std::fmt::Debug for SamplerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamplerOptions")
            .field("interval", &self.interval)
            .field("disks", &self.disks)
            .field("networks", &self.networks)
            .field("history", &self.history)
            .field("callbacks", &self.callbacks.len())
            .finish()
    }
}

impl Default for SamplerOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            disks: true,
            networks: true,
            history: HistoryOptions::default(),
            callbacks: Vec::new(),
        }
    }
}

impl SamplerOptions {
    /// The time between samples (default 1 s, at least 10 ms: [`SystemSampler::start`]
    /// refuses less).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let o = perfcore::monitor::SamplerOptions::default().interval(Duration::from_secs(5));
    /// assert_eq!(o.interval_value(), Duration::from_secs(5));
    /// ```
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Whether to read the disks (default true).
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::SamplerOptions::default().disks(false);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn disks(mut self, on: bool) -> Self {
        self.disks = on;
        self
    }

    /// Whether to read the network interfaces (default true).
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::SamplerOptions::default().networks(false);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn networks(mut self, on: bool) -> Self {
        self.networks = on;
        self
    }

    /// How much history to keep (see [`HistoryOptions`]).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// use perfcore::monitor::{HistoryOptions, SamplerOptions};
    /// let o = SamplerOptions::default().history(HistoryOptions::default().raw(Duration::from_secs(60)));
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn history(mut self, history: HistoryOptions) -> Self {
        self.history = history;
        self
    }

    /// Adds a callback run on the sampler thread after each sample (the alert engine hooks in
    /// here).
    ///
    /// Callbacks run one after the other before the thread sleeps again, so they must be
    /// quick: a slow one delays the next sample, and one that never returns keeps
    /// [`SystemSampler::stop`] waiting. A callback that panics is caught, counted
    /// ([`SystemSampler::callback_failures`]) and called again on the next sample.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::SamplerOptions;
    /// let o = SamplerOptions::default().on_sample(|s| {
    ///     if s.cpu_utilization > 0.9 { eprintln!("busy"); }
    /// });
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn on_sample(mut self, callback: impl FnMut(&SystemSample) + Send + 'static) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// The interval set.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(perfcore::monitor::SamplerOptions::default().interval_value(), Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn interval_value(&self) -> Duration {
        self.interval
    }

    fn validate(&self) -> Result<(), MonitorError> {
        if self.interval < MIN_INTERVAL {
            return Err(MonitorError::InvalidOption {
                option: "interval",
                reason: format!("{:?} is shorter than the minimum of 10 ms", self.interval),
            });
        }
        self.history.validate()
    }
}

/// One disk (a mounted file system) at one sample.
///
/// # Examples
/// ```
/// let d = perfcore::monitor::DiskSample {
///     mount: "/".into(), device: "/dev/sda1".into(), file_system: "ext4".into(),
///     used_bytes: 1, total_bytes: 4, read_bytes_total: 0, written_bytes_total: 0,
/// };
/// assert_eq!(d.utilization(), 0.25);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskSample {
    /// Where it is mounted.
    pub mount: String,
    /// The device (`/dev/nvme0n1p2`, `overlay`).
    pub device: String,
    /// The file system type (`ext4`, `overlay`).
    pub file_system: String,
    /// Bytes in use (total minus available to unprivileged users).
    pub used_bytes: u64,
    /// The file system's size in bytes.
    pub total_bytes: u64,
    /// Bytes read from the device since boot.
    pub read_bytes_total: u64,
    /// Bytes written to the device since boot.
    pub written_bytes_total: u64,
}

impl DiskSample {
    /// The share of the disk in use, 0–1 (0 for an empty size).
    ///
    /// # Examples
    /// ```
    /// # let mut d = perfcore::monitor::DiskSample { mount: "/".into(), device: "d".into(), file_system: "ext4".into(), used_bytes: 0, total_bytes: 0, read_bytes_total: 0, written_bytes_total: 0 };
    /// assert_eq!(d.utilization(), 0.0);
    /// ```
    #[must_use]
    pub fn utilization(&self) -> f64 {
        ratio(self.used_bytes, self.total_bytes)
    }
}

/// One network interface at one sample.
///
/// # Examples
/// ```
/// let n = perfcore::monitor::NetworkSample { interface: "eth0".into(), received_bytes_total: 10, transmitted_bytes_total: 5 };
/// assert_eq!(n.interface, "eth0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSample {
    /// The interface's name.
    pub interface: String,
    /// Bytes received since the interface came up.
    pub received_bytes_total: u64,
    /// Bytes sent since the interface came up.
    pub transmitted_bytes_total: u64,
}

/// The sampling process itself at one sample.
///
/// # Examples
/// ```
/// let p = perfcore::monitor::ProcessSample { pid: 1, cpu_utilization: 1.5, cpu_seconds_total: 3.0,
///     resident_bytes: 0, virtual_bytes: 0, threads: Some(4), open_fds: None };
/// assert!(p.cpu_utilization > 1.0); // a share of one core: 1.5 cores busy
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProcessSample {
    /// The process id.
    pub pid: u32,
    /// CPU used since the previous sample, as a share of ONE core (2.0: two cores busy).
    pub cpu_utilization: f64,
    /// CPU time used since the process started, in seconds.
    pub cpu_seconds_total: f64,
    /// Resident memory in bytes.
    pub resident_bytes: u64,
    /// Virtual memory in bytes.
    pub virtual_bytes: u64,
    /// Threads (Linux: `Threads:` of `/proc/self/status`; `None` elsewhere).
    pub threads: Option<u64>,
    /// Open file descriptors (Linux: the entries of `/proc/self/fd`; `None` elsewhere).
    pub open_fds: Option<u64>,
}

/// One reading of the machine and the process.
///
/// Disks: pseudo and in-memory file systems are skipped (`tmpfs`, `devtmpfs`, `ramfs`, `proc`,
/// `sysfs`, `cgroup`/`cgroup2`, `devpts`, `debugfs`, `tracefs`, `securityfs`, `pstore`, `bpf`,
/// `mqueue`, `hugetlbfs`, `configfs`, `fusectl`, `autofs`, `binfmt_misc`, `efivarfs`, `nsfs`,
/// `rpc_pipefs`, `squashfs`), as are loop devices (snaps) and file systems of size 0;
/// `overlay` (a container's root) is kept. A device mounted at several places (bind mounts)
/// is reported once, at its shortest mount point. Disks are sorted by mount point, networks
/// by interface name.
///
/// # Examples
/// ```
/// let s = perfcore::monitor::SystemSample::default();
/// assert!(s.observations().iter().any(|o| o.name == "system_cpu_utilization_ratio"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SystemSample {
    /// When it was taken, in ns since the Unix epoch.
    pub at_unix_ns: u64,
    /// CPU busy over all cores since the previous sample, 0–1.
    pub cpu_utilization: f64,
    /// CPU busy per core since the previous sample, 0–1 each.
    pub cores: Vec<f64>,
    /// Memory in use, in bytes.
    pub memory_used_bytes: u64,
    /// Memory installed, in bytes.
    pub memory_total_bytes: u64,
    /// Swap in use, in bytes.
    pub swap_used_bytes: u64,
    /// Swap available, in bytes.
    pub swap_total_bytes: u64,
    /// The disks (see the rule above).
    pub disks: Vec<DiskSample>,
    /// The network interfaces.
    pub networks: Vec<NetworkSample>,
    /// The process itself.
    pub process: ProcessSample,
}

impl Default for ProcessSample {
    fn default() -> Self {
        Self {
            pid: std::process::id(),
            cpu_utilization: 0.0,
            cpu_seconds_total: 0.0,
            resident_bytes: 0,
            virtual_bytes: 0,
            threads: None,
            open_fds: None,
        }
    }
}

#[allow(clippy::cast_precision_loss)] // bytes as f64: exact below 2^53 (8 PiB)
fn ratio(used: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { (used as f64 / total as f64).clamp(0.0, 1.0) }
}

#[allow(clippy::cast_precision_loss)]
fn f(v: u64) -> f64 {
    v as f64
}

impl SystemSample {
    /// The sample as observations, named as alert rules and the endpoint know them (base
    /// units, Prometheus conventions):
    ///
    /// `system_cpu_utilization_ratio`, `system_cpu_core_utilization_ratio{core}`,
    /// `system_memory_{used,total}_bytes`, `system_memory_utilization_ratio`,
    /// `system_swap_{used,total}_bytes`, `system_swap_utilization_ratio`,
    /// `system_disk_{used,total}_bytes{mount,device}`,
    /// `system_disk_utilization_ratio{mount,device}`,
    /// `system_disk_{read,written}_bytes_total{mount,device}` (counters),
    /// `system_network_{received,transmitted}_bytes_total{interface}` (counters),
    /// `process_cpu_utilization_ratio`, `process_cpu_seconds_total` (counter),
    /// `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_threads`,
    /// `process_open_fds` (the last two only where known).
    ///
    /// # Examples
    /// ```
    /// let mut s = perfcore::monitor::SystemSample::default();
    /// s.memory_used_bytes = 1;
    /// s.memory_total_bytes = 4;
    /// let o = s.observations();
    /// let m = o.iter().find(|o| o.name == "system_memory_utilization_ratio").unwrap();
    /// assert_eq!(m.value, 0.25);
    /// ```
    #[must_use]
    pub fn observations(&self) -> Vec<Observation> {
        let mut o = Vec::with_capacity(
            16 + self.cores.len() + 5 * self.disks.len() + 2 * self.networks.len(),
        );
        o.push(Observation::gauge(
            "system_cpu_utilization_ratio",
            "Share of all CPU cores busy since the previous sample.",
            self.cpu_utilization,
        ));
        for (i, c) in self.cores.iter().enumerate() {
            o.push(
                Observation::gauge(
                    "system_cpu_core_utilization_ratio",
                    "Share of one CPU core busy since the previous sample.",
                    *c,
                )
                .label("core", i.to_string()),
            );
        }
        o.push(Observation::gauge(
            "system_memory_used_bytes",
            "Memory in use.",
            f(self.memory_used_bytes),
        ));
        o.push(Observation::gauge(
            "system_memory_total_bytes",
            "Memory installed.",
            f(self.memory_total_bytes),
        ));
        o.push(Observation::gauge(
            "system_memory_utilization_ratio",
            "Share of memory in use.",
            ratio(self.memory_used_bytes, self.memory_total_bytes),
        ));
        o.push(Observation::gauge(
            "system_swap_used_bytes",
            "Swap in use.",
            f(self.swap_used_bytes),
        ));
        o.push(Observation::gauge(
            "system_swap_total_bytes",
            "Swap available.",
            f(self.swap_total_bytes),
        ));
        o.push(Observation::gauge(
            "system_swap_utilization_ratio",
            "Share of swap in use (0 without swap).",
            ratio(self.swap_used_bytes, self.swap_total_bytes),
        ));
        for d in &self.disks {
            let l = |ob: Observation| {
                ob.label("mount", d.mount.clone()).label("device", d.device.clone())
            };
            o.push(l(Observation::gauge(
                "system_disk_used_bytes",
                "Bytes in use on the file system.",
                f(d.used_bytes),
            )));
            o.push(l(Observation::gauge(
                "system_disk_total_bytes",
                "Size of the file system in bytes.",
                f(d.total_bytes),
            )));
            o.push(l(Observation::gauge(
                "system_disk_utilization_ratio",
                "Share of the file system in use.",
                d.utilization(),
            )));
            o.push(l(Observation::counter(
                "system_disk_read_bytes_total",
                "Bytes read from the device.",
                f(d.read_bytes_total),
            )));
            o.push(l(Observation::counter(
                "system_disk_written_bytes_total",
                "Bytes written to the device.",
                f(d.written_bytes_total),
            )));
        }
        for n in &self.networks {
            o.push(
                Observation::counter(
                    "system_network_received_bytes_total",
                    "Bytes received on the interface.",
                    f(n.received_bytes_total),
                )
                .label("interface", n.interface.clone()),
            );
            o.push(
                Observation::counter(
                    "system_network_transmitted_bytes_total",
                    "Bytes sent on the interface.",
                    f(n.transmitted_bytes_total),
                )
                .label("interface", n.interface.clone()),
            );
        }
        let p = &self.process;
        o.push(Observation::gauge(
            "process_cpu_utilization_ratio",
            "CPU used by the process since the previous sample, as a share of one core.",
            p.cpu_utilization,
        ));
        o.push(Observation::counter(
            "process_cpu_seconds_total",
            "CPU time used by the process, in seconds.",
            p.cpu_seconds_total,
        ));
        o.push(Observation::gauge(
            "process_resident_memory_bytes",
            "Resident memory of the process.",
            f(p.resident_bytes),
        ));
        o.push(Observation::gauge(
            "process_virtual_memory_bytes",
            "Virtual memory of the process.",
            f(p.virtual_bytes),
        ));
        if let Some(t) = p.threads {
            o.push(Observation::gauge("process_threads", "Threads of the process.", f(t)));
        }
        if let Some(n) = p.open_fds {
            o.push(Observation::gauge(
                "process_open_fds",
                "Open file descriptors of the process.",
                f(n),
            ));
        }
        o
    }
}

/// File system types that are not disks (see [`SystemSample`]).
const PSEUDO_FILE_SYSTEMS: &[&str] = &[
    "tmpfs",
    "devtmpfs",
    "ramfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "mqueue",
    "hugetlbfs",
    "configfs",
    "fusectl",
    "autofs",
    "binfmt_misc",
    "efivarfs",
    "nsfs",
    "rpc_pipefs",
    "squashfs",
];

/// Whether a disk is reported: the rule of [`SystemSample`]'s docs, before deduplication.
fn is_real_disk(device: &str, file_system: &str, total_bytes: u64) -> bool {
    total_bytes > 0
        && !PSEUDO_FILE_SYSTEMS.contains(&file_system)
        && !device.starts_with("/dev/loop")
}

/// Keeps one disk per device, at its shortest mount point, sorted by mount point.
fn dedup_disks(mut disks: Vec<DiskSample>) -> Vec<DiskSample> {
    disks.sort_by(|a, b| {
        (a.device.as_str(), a.mount.len(), a.mount.as_str()).cmp(&(
            b.device.as_str(),
            b.mount.len(),
            b.mount.as_str(),
        ))
    });
    disks.dedup_by(|later, first| later.device == first.device);
    disks.sort_by(|a, b| a.mount.cmp(&b.mount));
    disks
}

/// What the sampler reads the machine with.
struct Probe {
    system: System,
    disks: Option<Disks>,
    networks: Option<Networks>,
    pid: Option<Pid>,
}

impl Probe {
    fn new(options: &SamplerOptions) -> Self {
        let mut p = Self {
            system: System::new(),
            disks: options.disks.then(Disks::new),
            networks: options.networks.then(Networks::new),
            pid: sysinfo::get_current_pid().ok(),
        };
        // The first refresh: CPU usage is measured between two of them.
        let _ = p.sample();
        p
    }

    fn process_refresh() -> ProcessRefreshKind {
        ProcessRefreshKind::nothing().with_cpu().with_memory().without_tasks()
    }

    fn sample(&mut self) -> SystemSample {
        let s = &mut self.system;
        s.refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        s.refresh_memory_specifics(MemoryRefreshKind::everything());
        let mut process = ProcessSample::default();
        if let Some(pid) = self.pid {
            s.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                Self::process_refresh(),
            );
            if let Some(p) = s.process(pid) {
                process.pid = pid.as_u32();
                process.cpu_utilization = f64::from(p.cpu_usage()) / 100.0;
                process.cpu_seconds_total = f(p.accumulated_cpu_time()) / 1000.0;
                process.resident_bytes = p.memory();
                process.virtual_bytes = p.virtual_memory();
            }
        }
        process.threads = proc_threads();
        process.open_fds = proc_open_fds();
        let disks = self.disks.as_mut().map_or_else(Vec::new, |d| {
            d.refresh_specifics(true, DiskRefreshKind::nothing().with_storage().with_io_usage());
            let list = d
                .list()
                .iter()
                .filter_map(|d| {
                    let device = d.name().to_string_lossy().into_owned();
                    let file_system = d.file_system().to_string_lossy().into_owned();
                    let total = d.total_space();
                    is_real_disk(&device, &file_system, total).then(|| {
                        let usage = d.usage();
                        DiskSample {
                            mount: d.mount_point().to_string_lossy().into_owned(),
                            device,
                            file_system,
                            used_bytes: total.saturating_sub(d.available_space()),
                            total_bytes: total,
                            read_bytes_total: usage.total_read_bytes,
                            written_bytes_total: usage.total_written_bytes,
                        }
                    })
                })
                .collect();
            dedup_disks(list)
        });
        let networks = self.networks.as_mut().map_or_else(Vec::new, |n| {
            n.refresh(true);
            let mut list: Vec<NetworkSample> = n
                .list()
                .iter()
                .map(|(name, data)| NetworkSample {
                    interface: name.clone(),
                    received_bytes_total: data.total_received(),
                    transmitted_bytes_total: data.total_transmitted(),
                })
                .collect();
            list.sort_by(|a, b| a.interface.cmp(&b.interface));
            list
        });
        SystemSample {
            at_unix_ns: now_unix_ns(),
            cpu_utilization: (f64::from(s.global_cpu_usage()) / 100.0).clamp(0.0, 1.0),
            cores: s
                .cpus()
                .iter()
                .map(|c| (f64::from(c.cpu_usage()) / 100.0).clamp(0.0, 1.0))
                .collect(),
            memory_used_bytes: s.used_memory(),
            memory_total_bytes: s.total_memory(),
            swap_used_bytes: s.used_swap(),
            swap_total_bytes: s.total_swap(),
            disks,
            networks,
            process,
        }
    }
}

fn now_unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `Threads:` of `/proc/self/status`.
#[cfg(target_os = "linux")]
fn proc_threads() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok())
}

#[cfg(not(target_os = "linux"))]
fn proc_threads() -> Option<u64> {
    None
}

/// The entries of `/proc/self/fd`, less the one reading it.
#[cfg(target_os = "linux")]
fn proc_open_fds() -> Option<u64> {
    let n = std::fs::read_dir("/proc/self/fd").ok()?.count();
    u64::try_from(n.saturating_sub(1)).ok()
}

#[cfg(not(target_os = "linux"))]
fn proc_open_fds() -> Option<u64> {
    None
}

/// The calling thread's CPU time: the first field of `/proc/thread-self/schedstat` (ns), or
/// else utime + stime of `/proc/thread-self/stat` (in clock ticks of 1/100 s).
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Option<Duration> {
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat")
        && let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok())
    {
        return Some(Duration::from_nanos(ns));
    }
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // state is field 3; utime field 14
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// What the sampler thread shares with its handle.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    own_cpu_ns: AtomicU64,
    samples: AtomicU64,
    callback_failures: AtomicU64,
    done: Mutex<bool>,
    done_cv: Condvar,
}

#[derive(Debug)]
struct State {
    latest: Option<SystemSample>,
    history: History,
}

impl Shared {
    /// The state, even after a panic while it was held (the state is whole after each
    /// statement, so what a panic leaves is still valid).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Samples the machine and the process on a background thread (`perfcore-sampler`) and keeps
/// the history of every figure (see [`SystemSample::observations`] for the names) in bounded
/// memory, with a trend per series.
///
/// The thread sleeps on a channel between samples, so [`stop`](Self::stop) and `Drop` wake
/// it at once. `Drop` waits at most 2 seconds for it (a callback that never returns is left
/// to finish alone); [`stop`](Self::stop) waits for it whatever it takes.
///
/// Threads do not survive `fork()`: in a child, a sampler started in the parent no longer
/// samples (its figures stay as they were; stopping or dropping it there returns at once);
/// start a new one in the child.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{SamplerOptions, SystemSampler};
/// let sampler = SystemSampler::start(SamplerOptions::default().interval(Duration::from_millis(20)))?;
/// while sampler.latest().is_none() {
///     std::thread::sleep(Duration::from_millis(5));
/// }
/// let s = sampler.latest().unwrap();
/// assert!((0.0..=1.0).contains(&s.cpu_utilization));
/// assert!(!sampler.history("system_memory_used_bytes", &[], Duration::from_secs(60)).is_empty());
/// sampler.stop();
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Debug)]
pub struct SystemSampler {
    shared: Arc<Shared>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    interval: Duration,
    /// The process that started the thread: in a forked child it is not running, and joining
    /// it would wait forever.
    started_by: u32,
}

impl SystemSampler {
    /// Starts sampling: the first sample arrives one interval from now.
    ///
    /// # Errors
    /// [`MonitorError::InvalidOption`] for an interval under 10 ms or history options that do
    /// not fit it; [`MonitorError::Thread`] if the thread cannot be started.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use perfcore::monitor::{MonitorError, SamplerOptions, SystemSampler};
    /// let e = SystemSampler::start(SamplerOptions::default().interval(Duration::from_millis(1))).unwrap_err();
    /// assert!(matches!(e, MonitorError::InvalidOption { option: "interval", .. }));
    /// ```
    pub fn start(options: SamplerOptions) -> Result<Self, MonitorError> {
        options.validate()?;
        let interval = options.interval;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                latest: None,
                history: History::new(options.history, interval),
            }),
            own_cpu_ns: AtomicU64::new(0),
            samples: AtomicU64::new(0),
            callback_failures: AtomicU64::new(0),
            done: Mutex::new(false),
            done_cv: Condvar::new(),
        });
        let (tx, rx) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("perfcore-sampler".into())
            .spawn(move || run(options, &thread_shared, &rx))
            .map_err(|source| MonitorError::Thread { what: "perfcore-sampler", source })?;
        Ok(Self {
            shared,
            stop: Some(tx),
            thread: Some(thread),
            interval,
            started_by: std::process::id(),
        })
    }

    /// The latest sample, `None` before the first.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert!(s.latest().is_none()); // the first comes after one interval (1 s)
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn latest(&self) -> Option<SystemSample> {
        self.shared.state().latest.clone()
    }

    /// The latest sample's observations (empty before the first).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert!(s.observations().is_empty());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn observations(&self) -> Vec<Observation> {
        self.shared.state().latest.as_ref().map_or_else(Vec::new, SystemSample::observations)
    }

    /// The history of one series (`name` and all its labels, in any order) over the last
    /// `range`, oldest first: raw points for up to 10 minutes, 10-second aggregates up to 2
    /// hours, 1-minute aggregates beyond (with the default [`HistoryOptions`]). Empty for an
    /// unknown series.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// let h = s.history("system_disk_utilization_ratio", &[("mount", "/"), ("device", "/dev/sda1")], Duration::from_secs(3600));
    /// assert!(h.iter().all(|p| p.min <= p.max));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn history(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        range: Duration,
    ) -> Vec<HistoryPoint> {
        self.shared.state().history.history(name, labels, range)
    }

    /// The least-squares trend of one series over the last `window` (see [`Trend`]); `None`
    /// for an unknown series or fewer than two points.
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// if let Some(t) = s.trend("system_memory_used_bytes", &[], Duration::from_secs(600)) {
    ///     if let Some(left) = t.time_to_exhaustion { println!("memory full in {left:?}"); }
    /// }
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn trend(&self, name: &str, labels: &[(&str, &str)], window: Duration) -> Option<Trend> {
        self.shared.state().history.trend(name, labels, window)
    }

    /// The bytes the history holds now (bounded: see `HistoryOptions`).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert!(s.memory_bytes() > 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        self.shared.state().history.memory_bytes()
    }

    /// The CPU time the sampler thread has used, callbacks included (Linux: read by the
    /// thread itself after each sample from `/proc/thread-self`; zero elsewhere).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// let _cost = s.own_cpu_time();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn own_cpu_time(&self) -> Duration {
        Duration::from_nanos(self.shared.own_cpu_ns.load(Ordering::Relaxed))
    }

    /// How many samples it has taken.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert_eq!(s.samples_taken(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn samples_taken(&self) -> u64 {
        self.shared.samples.load(Ordering::Relaxed)
    }

    /// How many callback calls panicked (each caught; the callback is called again next time).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert_eq!(s.callback_failures(), 0);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn callback_failures(&self) -> u64 {
        self.shared.callback_failures.load(Ordering::Relaxed)
    }

    /// The interval it samples at.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// let s = SystemSampler::start(SamplerOptions::default())?;
    /// assert_eq!(s.interval(), std::time::Duration::from_secs(1));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Stops the thread and waits for it to finish (whatever a callback takes).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::monitor::{SamplerOptions, SystemSampler};
    /// SystemSampler::start(SamplerOptions::default())?.stop();
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take()
            && self.started_by == std::process::id()
        {
            let _ = t.join();
        }
    }
}

impl Drop for SystemSampler {
    fn drop(&mut self) {
        self.stop.take(); // the channel closes: the thread wakes and ends
        let Some(t) = self.thread.take() else { return };
        if self.started_by != std::process::id() {
            return; // a forked child: the thread stayed in the parent
        }
        let done = self.shared.done.lock().unwrap_or_else(PoisonError::into_inner);
        let (done, _) = self
            .shared
            .done_cv
            .wait_timeout_while(done, DROP_WAIT, |d| !*d)
            .unwrap_or_else(PoisonError::into_inner);
        if *done {
            drop(done);
            let _ = t.join();
        }
    }
}

/// Marks the thread done however it ends.
struct DoneGuard<'a>(&'a Shared);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        *self.0.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0.done_cv.notify_all();
    }
}

/// The sampler thread.
fn run(mut options: SamplerOptions, shared: &Shared, stop: &mpsc::Receiver<()>) {
    let _done = DoneGuard(shared);
    let mut probe = Probe::new(&options);
    let mut callbacks = std::mem::take(&mut options.callbacks);
    loop {
        match stop.recv_timeout(options.interval) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let sample = probe.sample();
        let observations = sample.observations();
        {
            let mut state = shared.state();
            state.history.record(sample.at_unix_ns, &observations);
            state.latest = Some(sample.clone());
        }
        shared.samples.fetch_add(1, Ordering::Relaxed);
        for cb in &mut callbacks {
            if catch_unwind(AssertUnwindSafe(|| cb(&sample))).is_err() {
                shared.callback_failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        if let Some(t) = thread_cpu_time() {
            shared
                .own_cpu_ns
                .store(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
        // A generous bound so a loaded machine does not fail the test; not a timing assertion.
        for _ in 0..3000 {
            if cond() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("timed out waiting for {what}");
    }

    fn fast() -> SamplerOptions {
        SamplerOptions::default().interval(MIN_INTERVAL)
    }

    #[test]
    fn samples_arrive_with_sane_values() {
        let s = SystemSampler::start(fast()).unwrap();
        wait_for("two samples", || s.samples_taken() >= 2);
        let x = s.latest().unwrap();
        assert!((0.0..=1.0).contains(&x.cpu_utilization));
        assert!(!x.cores.is_empty());
        assert!(x.memory_total_bytes > 0 && x.memory_used_bytes <= x.memory_total_bytes);
        assert_eq!(x.process.pid, std::process::id());
        assert!(x.process.resident_bytes > 0);
        if cfg!(target_os = "linux") {
            assert!(x.process.threads.unwrap() >= 2); // this one and the sampler
            assert!(x.process.open_fds.unwrap() >= 3);
        }
        for d in &x.disks {
            assert!(is_real_disk(&d.device, &d.file_system, d.total_bytes));
            assert!(d.used_bytes <= d.total_bytes);
        }
        let names: Vec<_> = s.observations().into_iter().map(|o| o.name).collect();
        for n in [
            "system_cpu_utilization_ratio",
            "system_memory_utilization_ratio",
            "process_cpu_seconds_total",
        ] {
            assert!(names.iter().any(|m| m == n), "{n}");
        }
        assert!(
            !s.history("system_cpu_utilization_ratio", &[], Duration::from_secs(60)).is_empty()
        );
        assert!(s.trend("system_memory_used_bytes", &[], Duration::from_secs(60)).is_some());
        assert!(s.memory_bytes() > 0);
        if cfg!(target_os = "linux") {
            wait_for("own cpu time", || s.own_cpu_time() > Duration::ZERO);
        }
        s.stop();
    }

    #[test]
    fn panicking_callbacks_are_counted_and_sampling_goes_on() {
        let calls = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&calls);
        let s = SystemSampler::start(fast().on_sample(move |_| {
            c.fetch_add(1, Ordering::Relaxed);
            panic!("callback failure (expected by the test)");
        }))
        .unwrap();
        wait_for("three failures", || s.callback_failures() >= 3);
        assert!(calls.load(Ordering::Relaxed) >= 3);
        assert!(s.latest().is_some());
        drop(s);
    }

    #[test]
    fn stop_wakes_a_long_interval_and_drop_does_not_hang_on_a_stuck_callback() {
        // A 1-hour interval: stop must not wait for it (the test would never end otherwise).
        SystemSampler::start(SamplerOptions::default().interval(Duration::from_secs(3600)))
            .unwrap()
            .stop();
        let release = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&release);
        let entered = Arc::new(AtomicBool::new(false));
        let e = Arc::clone(&entered);
        let s = SystemSampler::start(fast().disks(false).networks(false).on_sample(move |_| {
            e.store(true, Ordering::SeqCst);
            while !r.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }))
        .unwrap();
        wait_for("the callback", || entered.load(Ordering::SeqCst));
        drop(s); // returns after DROP_WAIT, leaving the thread to finish
        release.store(true, Ordering::SeqCst);
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        let e = SystemSampler::start(SamplerOptions::default().interval(Duration::from_millis(9)))
            .unwrap_err();
        assert!(e.to_string().contains("interval"), "{e}");
        let e = SystemSampler::start(
            SamplerOptions::default().history(HistoryOptions::default().raw(Duration::ZERO)),
        )
        .unwrap_err();
        assert!(matches!(e, MonitorError::InvalidOption { option: "history.raw", .. }));
    }

    #[test]
    fn pseudo_file_systems_and_bind_mounts_are_dropped() {
        assert!(!is_real_disk("tmpfs", "tmpfs", 10));
        assert!(!is_real_disk("/dev/loop3", "ext4", 10));
        assert!(!is_real_disk("/dev/sda1", "ext4", 0));
        assert!(is_real_disk("overlay", "overlay", 10));
        let d = |mount: &str, device: &str| DiskSample {
            mount: mount.into(),
            device: device.into(),
            file_system: "ext4".into(),
            used_bytes: 1,
            total_bytes: 2,
            read_bytes_total: 0,
            written_bytes_total: 0,
        };
        let out = dedup_disks(vec![
            d("/etc/hosts", "/dev/sda1"),
            d("/home", "/dev/sdb1"),
            d("/", "/dev/sda1"),
        ]);
        let mounts: Vec<_> = out.iter().map(|d| d.mount.as_str()).collect();
        assert_eq!(mounts, ["/", "/home"]);
    }

    #[test]
    fn observation_names_kinds_and_labels() {
        let s = SystemSample {
            cores: vec![0.5, 0.25],
            disks: vec![DiskSample {
                mount: "/".into(),
                device: "/dev/sda1".into(),
                file_system: "ext4".into(),
                used_bytes: 1,
                total_bytes: 2,
                read_bytes_total: 3,
                written_bytes_total: 4,
            }],
            networks: vec![NetworkSample {
                interface: "eth0".into(),
                received_bytes_total: 5,
                transmitted_bytes_total: 6,
            }],
            process: ProcessSample {
                threads: Some(3),
                open_fds: Some(9),
                ..ProcessSample::default()
            },
            ..SystemSample::default()
        };
        let o = s.observations();
        assert_eq!(o.len(), 1 + 2 + 6 + 5 + 2 + 6);
        let find = |n: &str| o.iter().find(|x| x.name == n).unwrap();
        assert_eq!(find("system_disk_utilization_ratio").value, 0.5);
        assert_eq!(find("system_disk_utilization_ratio").label_value("device"), Some("/dev/sda1"));
        assert_eq!(
            find("system_network_transmitted_bytes_total").label_value("interface"),
            Some("eth0")
        );
        assert_eq!(find("system_cpu_core_utilization_ratio").label_value("core"), Some("0"));
        for x in &o {
            assert_eq!(
                x.name.ends_with("_total"),
                x.kind == super::super::MetricKind::Counter,
                "{}",
                x.name
            );
            assert!(!x.help.is_empty());
        }
        assert_eq!(find("system_swap_utilization_ratio").value, 0.0); // no swap
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"read_bytes_total\":3"));
    }
}
