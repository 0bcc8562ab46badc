use patchpilot_agent::credential::{ensure_enrolled, Credential, CredentialError};
use patchpilot_agent::{Client, ClientConfig};
use patchpilot_api::NewAsset;

use crate::fake::Server;

fn cred() -> Credential {
    Credential {
        server: "http://127.0.0.1:1".into(),
        asset_id: 7,
        asset_name: "web-1".into(),
        token: "s3cret-token".into(),
    }
}

#[test]
fn saved_credential_is_0600_round_trips_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/credential.json");
    cred().save(&path).unwrap();
    #[cfg(unix)]
    assert_eq!(crate::mode(&path), 0o600);
    assert_eq!(Credential::load(&path).unwrap(), Some(cred()));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["credential.json"]);
    assert!(!format!("{:?}", cred()).contains("s3cret"));
}

#[cfg(unix)]
#[test]
fn overwriting_a_world_readable_file_replaces_it_with_a_0600_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credential.json");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    cred().save(&path).unwrap();
    assert_eq!(crate::mode(&path), 0o600);
    assert_eq!(Credential::load(&path).unwrap(), Some(cred()));
}

#[test]
fn missing_is_none_and_corrupt_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credential.json");
    assert_eq!(Credential::load(&path).unwrap(), None);
    std::fs::write(&path, "{\"server\": 1").unwrap();
    let e = Credential::load(&path).unwrap_err();
    assert!(matches!(e, CredentialError::Invalid { .. }));
    assert!(e.to_string().contains("credential.json"), "{e}");
}

#[tokio::test]
async fn enrols_once_and_reuses_the_credential() {
    let server = Server::start().await;
    let client = Client::new(&ClientConfig::new(&server.url)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credential.json");
    let asset = NewAsset::named("web-1");

    let e = ensure_enrolled(&client, &path, None, &asset)
        .await
        .unwrap_err();
    assert!(matches!(e, CredentialError::NeedEnrollToken { .. }), "{e}");

    let token = server.enroll_token();
    let first = ensure_enrolled(&client, &path, Some(&token), &asset)
        .await
        .unwrap();
    assert_eq!(first.asset_name, "web-1");
    assert_eq!(first.server, server.url);
    #[cfg(unix)]
    assert_eq!(crate::mode(&path), 0o600);

    // Again, with the (now used) token and without one: no new enrolment.
    let again = ensure_enrolled(&client, &path, Some(&token), &asset)
        .await
        .unwrap();
    let without = ensure_enrolled(&client, &path, None, &asset).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(without, first);
    assert_eq!(server.with(|s| s.enrollments), 1);

    // The token was one-time: another agent cannot use it.
    let other = dir.path().join("other.json");
    let e = ensure_enrolled(&client, &other, Some(&token), &asset)
        .await
        .unwrap_err();
    match e {
        CredentialError::Enroll(c) => {
            assert!(c.is_auth() && !c.is_retryable(), "{c}");
            assert!(
                c.to_string().contains("enrolment token unknown or used"),
                "{c}"
            );
        }
        e => panic!("{e}"),
    }
    assert!(!other.exists());
}
