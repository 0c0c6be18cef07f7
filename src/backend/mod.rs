//! Result backends: where task states are read (and, for workers, written). One file per kind.

pub mod redis;
