//! `amzsync sim` serves the simulator until stopped.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Kills the child when the test ends, whatever happens.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(base: &str, path: &str) -> String {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn the_simulator_serves_its_sellers_and_control_api() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_amzsync"))
        .args([
            "sim", "--port", "0", "--stores", "2", "--skus", "3", "--seed", "7", "--speed", "60",
        ])
        .env_remove("AMZSYNC_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("Amazon simulator at ")
        .expect(&first)
        .to_owned();
    let printed: Vec<String> = lines.by_ref().take(4).map(Result::unwrap).collect();
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("seller ASIMSELLER0002: sp_api_refresh_token=Atzr|")),
        "{printed:?}"
    );

    // The values that put amzsync processes on the simulator's clock.
    let clock_line = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|l| l.starts_with("its clock for amzsync: "))
        .expect("the clock line");
    let values: Vec<&str> = clock_line
        .trim_start_matches("its clock for amzsync: ")
        .split(' ')
        .collect();
    assert_eq!(values[0], "AMZSYNC_CLOCK__SPEED=60", "{clock_line}");
    for (value, key) in values[1..].iter().zip(["START", "ORIGIN"]) {
        let at = value
            .strip_prefix(&format!("AMZSYNC_CLOCK__{key}="))
            .expect(&clock_line);
        chrono::DateTime::parse_from_rfc3339(at).expect(&clock_line);
    }

    let clock = get(&base, "/_sim/clock");
    assert!(clock.starts_with("HTTP/1.1 200"), "{clock}");
    let products = get(
        &base,
        "/_sim/truth/products?seller_id=ASIMSELLER0001&marketplace_id=ATVPDKIKX0DER",
    );
    assert!(products.starts_with("HTTP/1.1 200"), "{products}");
}

#[test]
fn a_bad_speed_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_amzsync"))
        .args(["sim", "--listen", "127.0.0.1:0", "--speed", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--speed must be a positive number"));
}
