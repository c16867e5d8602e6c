//! Renderers for the lines real devices send. Pure functions: bytes in, bytes out.

pub mod faults;
pub mod rfid;
pub mod scale;
pub mod truck;
