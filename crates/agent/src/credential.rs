//! The agent's credential: what enrolment turns a one-time enrolment token into.
//!
//! It is a small JSON file (server URL, asset id, agent token) readable by its owner only
//! (mode 0600), written atomically: a temporary file in the same directory, created with
//! mode 0600 from the start (never world-readable, not even briefly), fsync'd, renamed
//! over the old file, and the directory fsync'd. A crash leaves either the old file or the
//! new one, never half of one, so an agent can never lose a credential it paid its
//! one-time token for.
//!
//! [`ensure_enrolled`] is idempotent: with a credential on disk it does not enrol again
//! (the enrolment token has been used up anyway).

use std::path::{Path, PathBuf};

use patchpilot_api::{EnrollRequest, NewAsset};
use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientError};
use crate::fsutil;

/// What an enrolled agent keeps.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The server it enrolled with.
    pub server: String,
    /// The asset the server created (or reused) for this host.
    pub asset_id: i64,
    /// The asset's name at enrolment.
    pub asset_name: String,
    /// The agent's bearer token (secret).
    pub token: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("server", &self.server)
            .field("asset_id", &self.asset_id)
            .field("asset_name", &self.asset_name)
            .field("token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a Patchpilot agent credential: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "not enrolled yet ({} does not exist): an enrolment token is needed",
        path.display()
    )]
    NeedEnrollToken { path: PathBuf },
    #[error("enrolment failed: {0}")]
    Enroll(#[source] ClientError),
}

impl Credential {
    /// Read the credential at `path`; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Credential>, CredentialError> {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CredentialError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let cred: Credential =
            serde_json::from_slice(&data).map_err(|e| CredentialError::Invalid {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if cred.token.is_empty() {
            return Err(CredentialError::Invalid {
                path: path.to_path_buf(),
                reason: "empty token".into(),
            });
        }
        warn_if_exposed(path);
        Ok(Some(cred))
    }

    /// Write atomically with mode 0600 (see the module doc).
    pub fn save(&self, path: &Path) -> Result<(), CredentialError> {
        let io = |source| CredentialError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut json = serde_json::to_vec_pretty(self).expect("a credential serializes");
        json.push(b'\n');
        let dir = fsutil::parent_dir(path);
        std::fs::create_dir_all(&dir).map_err(io)?;
        fsutil::write_atomic(path, &json, 0o600).map_err(io)
    }
}

/// Return the credential at `path`, enrolling first when there is none: the one-time
/// `enroll_token` is traded for an agent token (`POST /api/v1/enroll`) and the result
/// saved before it is returned. With a credential on disk, nothing is sent.
pub async fn ensure_enrolled(
    client: &Client,
    path: &Path,
    enroll_token: Option<&str>,
    asset: &NewAsset,
) -> Result<Credential, CredentialError> {
    if let Some(cred) = Credential::load(path)? {
        if cred.server != client.base() {
            tracing::warn!(
                credential = %path.display(),
                enrolled_with = %cred.server,
                using = %client.base(),
                "the credential was issued by another server URL; using it anyway"
            );
        }
        return Ok(cred);
    }
    let Some(token) = enroll_token else {
        return Err(CredentialError::NeedEnrollToken {
            path: path.to_path_buf(),
        });
    };
    let resp = client
        .enroll(
            token,
            &EnrollRequest {
                asset: asset.clone(),
            },
        )
        .await
        .map_err(CredentialError::Enroll)?;
    let cred = Credential {
        server: client.base().to_string(),
        asset_id: resp.asset.id,
        asset_name: resp.asset.name,
        token: resp.token,
    };
    cred.save(path)?;
    tracing::info!(
        credential = %path.display(),
        "enrolled as asset {} ({})",
        cred.asset_id,
        cred.asset_name
    );
    Ok(cred)
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                credential = %path.display(),
                mode = format!("{mode:o}"),
                "the agent credential is readable by others; chmod 600 it"
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}
