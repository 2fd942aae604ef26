//! The end-to-end tests' Python: a venv with the real AWS clients and moto (a local AWS) from
//! PyPI, made once in Cargo's target directory and shared by every crate's tests, and moto's
//! server on a free port.
//!
//! Without Python or PyPI a test that needs them skips with a message, unless
//! `STEPWISE_E2E_REQUIRED=1` (CI sets it) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether end-to-end tests must run (`STEPWISE_E2E_REQUIRED=1`).
pub fn required() -> bool {
    std::env::var("STEPWISE_E2E_REQUIRED").is_ok_and(|v| v == "1")
}

/// Skips (returns `None`) or, when end-to-end tests are required, fails.
pub fn unavailable(why: &str) -> Option<PathBuf> {
    if required() {
        panic!("end-to-end tests are required but {why}");
    }
    eprintln!("skipping: {why} (set STEPWISE_E2E_REQUIRED=1 to make this a failure)");
    None
}

/// The venv's python, made on first use in `tmp` (a test's `CARGO_TARGET_TMPDIR`) with the
/// packages of `requirements`.
pub fn venv_python(tmp: &Path, requirements: &Path) -> Option<PathBuf> {
    named_venv_python(tmp, "e2e-venv", requirements)
}

/// [`venv_python`] in a venv of its own, `tmp/name`: for a set of packages that the other
/// tests do not need (the browser tests' Playwright), so that neither set reinstalls the other.
pub fn named_venv_python(tmp: &Path, name: &str, requirements: &Path) -> Option<PathBuf> {
    let venv = tmp.join(name);
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.stamp");
    let wanted = std::fs::read_to_string(requirements).expect("requirements.txt");
    // One test binary at a time makes the venv.
    std::fs::create_dir_all(tmp).expect("target tmp dir");
    let _lock = DirLock::acquire(tmp.join(format!("{name}.lockdir")));
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && python.exists() {
        return Some(python);
    }
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        return unavailable("python3 -m venv failed");
    }
    let installed = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements)
        .status();
    if !installed.is_ok_and(|s| s.success()) {
        return unavailable("pip could not install the e2e requirements from PyPI");
    }
    std::fs::write(&stamp, wanted).expect("stamp");
    Some(python)
}

/// A lock held by creating a directory (atomic on every file system); a lock older than ten
/// minutes was left by a killed test run and is taken over. Anything else in the way (a plain
/// file left by an older harness) is removed too. Never spins: every failed attempt sleeps.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: PathBuf) -> DirLock {
        let began = std::time::Instant::now();
        loop {
            match std::fs::create_dir(&path) {
                Ok(()) => return DirLock(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let meta = std::fs::symlink_metadata(&path).ok();
                    let stale = meta
                        .as_ref()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.elapsed().ok())
                        .is_some_and(|age| age > Duration::from_secs(600));
                    if meta.as_ref().is_some_and(|m| !m.is_dir()) {
                        let _ = std::fs::remove_file(&path);
                    } else if stale {
                        let _ = std::fs::remove_dir(&path);
                    }
                    assert!(
                        began.elapsed() < Duration::from_secs(900),
                        "waited 15 minutes for {}",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("cannot lock {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// moto's server (a local AWS) from the venv, on a free port; stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Starts moto's server on a free port and waits until it answers as moto. Another
    /// process may take the port between its choice and moto's bind (a server a parallel test
    /// starts on port 0): then this moto exits, or another server answers, and it starts
    /// again on another port.
    pub fn start(python: &Path) -> Moto {
        for _attempt in 0..5 {
            let port = crate::free_port();
            let child = Command::new(python)
                .args([
                    "-m",
                    "moto.server",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto's server");
            // Dropped (killed and waited for) unless it is returned.
            let mut moto = Moto {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            for _ in 0..300 {
                if !matches!(moto.child.try_wait(), Ok(None)) {
                    break; // it exited: the port was taken
                }
                if answers_as_moto(port) {
                    return moto;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("moto's server did not start");
    }
}

/// Whether the server on `port` is moto's (its `/moto-api/data.json` answers 200).
fn answers_as_moto(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "GET /moto-api/data.json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
