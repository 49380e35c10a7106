//! `--state-file`: the store as pretty JSON, read once at start and rewritten after every
//! change, so an emulator restarted between two Terraform runs still knows their key pairs.

use std::path::Path;

use super::store::Store;
use super::EmulatorError;

/// The store kept in `path`; an empty one when the file does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Store, EmulatorError> {
    if !path.exists() {
        return Ok(Store::default());
    }
    let unreadable = |reason: String| EmulatorError::StateFile {
        path: path.to_path_buf(),
        reason,
    };
    let data = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    serde_json::from_slice(&data).map_err(|e| unreadable(e.to_string()))
}

/// Writes `store` to `path` through a temporary file and a rename, so a crash mid-write leaves
/// the previous state rather than half a file.
pub(crate) fn save(path: &Path, store: &Store) -> std::io::Result<()> {
    let data = serde_json::to_vec_pretty(store).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = std::env::temp_dir().join(format!("sshkey-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        assert_eq!(load(&path).unwrap(), Store::default());
        let mut store = Store::default();
        store.upsert_instance(crate::emulator::store::Instance {
            cloud: crate::emulator::Cloud::Ecs,
            region: "r".into(),
            id: "i-1".into(),
            os: crate::emulator::store::Os::Linux,
            status: crate::emulator::store::Status::Stopped,
            keys: vec![],
            reboots: 0,
        });
        save(&path, &store).unwrap();
        assert_eq!(load(&path).unwrap(), store);
        std::fs::write(&path, b"not json").unwrap();
        assert!(matches!(load(&path), Err(EmulatorError::StateFile { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
