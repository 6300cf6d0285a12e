//! The `amzsync` binary, run as a user would: each command, good and bad input.

mod config;
mod metrics;
mod sim;
mod stores;
mod users_and_tokens;

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// An isolated embedded installation: its own data directory.
pub struct Cli {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Default for Cli {
    fn default() -> Self {
        Self::new()
    }
}

impl Cli {
    pub fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
            env: Vec::new(),
        }
    }

    /// The same, on another database (`AMZSYNC_DATABASE_URL`).
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_amzsync"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("AMZSYNC_DATA_DIR", self.dir.path().join("data"))
            .env_remove("AMZSYNC_DATABASE_URL")
            .env_remove("AMZSYNC_ENCRYPTION_KEY")
            .env_remove("AMZSYNC_CONFIG")
            .env_remove("AMZSYNC_STORE_SP_API_REFRESH_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("running the amzsync binary");
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    /// Runs and expects success.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "amzsync {args:?} failed: {}", r.stderr);
        r.stdout
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }
}

impl Run {
    /// A failure with one clear line on stderr containing `needle`.
    #[track_caller]
    pub fn fails_with(&self, needle: &str) {
        assert_ne!(self.code, 0, "expected a failure, got success: {}", self.stdout);
        let lines: Vec<&str> = self.stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(lines.len(), 1, "one error line expected: {}", self.stderr);
        assert!(lines[0].contains(needle), "expected {needle:?} in {:?}", lines[0]);
    }
}
