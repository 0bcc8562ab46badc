//! CA pinning: an https server whose certificate is signed by a test CA is reachable with
//! that CA and refused with another. Certificates come from the `openssl` command.

use std::path::Path;
use std::process::Command;

use axum::routing::post;
use axum::Router;
use patchpilot_agent::{Client, ClientConfig, ClientError};
use patchpilot_api::{paths, Heartbeat};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`<name>.pem`, `<name>.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// `server.pem`/`server.key` for 127.0.0.1 and localhost, signed by CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) {
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[tokio::test]
async fn https_works_with_the_pinned_ca_only() {
    if !patchpilot_testdata::require(
        "https_works_with_the_pinned_ca_only",
        patchpilot_testdata::have_program("openssl"),
        "the openssl command makes the test certificates",
    ) {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    make_ca(dir.path(), "ca");
    make_ca(dir.path(), "other-ca");
    make_server_cert(dir.path(), "ca");

    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(
        dir.path().join("server.pem"),
        dir.path().join("server.key"),
    )
    .await
    .unwrap();
    let app = Router::new().route(
        paths::AGENT_HEARTBEAT,
        post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = axum_server::Handle::new();
    let server = tokio::spawn({
        let handle = handle.clone();
        async move {
            axum_server::from_tcp_rustls(listener, tls)
                .handle(handle)
                .serve(app.into_make_service())
                .await
                .unwrap()
        }
    });

    let mut cfg = ClientConfig::new(format!("https://localhost:{port}"));
    cfg.ca_pem = Some(dir.path().join("ca.pem"));
    let pinned = Client::new(&cfg).unwrap().with_token("t");
    pinned.heartbeat(&Heartbeat::default()).await.unwrap();

    cfg.ca_pem = Some(dir.path().join("other-ca.pem"));
    let wrong = Client::new(&cfg).unwrap().with_token("t");
    let e = wrong.heartbeat(&Heartbeat::default()).await.unwrap_err();
    assert!(matches!(e, ClientError::Transport { .. }), "{e}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");

    handle.shutdown();
    server.await.unwrap();
}
