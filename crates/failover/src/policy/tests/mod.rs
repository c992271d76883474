//! The policy's tests: the scenario harness, and the properties of the whole policy. The tests
//! of each rule sit beside it (`#[path]` modules of each rule file, in this folder under the
//! rule's name).

pub(crate) mod scenario;

mod properties;
