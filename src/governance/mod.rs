//! Pure governance rules: who may do what (`access`), and — as Custodian grows — classification,
//! deadlines, plans and the audit chain. Nothing here touches the database or the web.

pub mod access;
