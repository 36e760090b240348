//! Certificates, trust anchors, path building and validation time.

pub mod cert;
pub mod path;
pub mod time;
pub mod trust;
