//! Certificates, trust anchors, path building and validation time.

pub mod builtin;
pub mod cert;
pub mod crl;
pub mod names;
pub mod ocsp;
pub mod path;
pub mod policy;
pub mod time;
pub mod trust;
pub mod work;
