//! Untrusted bytes → signed objects. Each format module owns its parser and its budgets.

pub mod barcode;
pub mod cms;
pub mod pdf;
pub mod tsp;
pub mod xml;
pub mod xmldsig;
