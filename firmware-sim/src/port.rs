//! Opening a serial port (a real one, or a pseudo-terminal path) for a simulated device.

use std::path::Path;

/// Opens `path` as a serial port at `baud_rate`, 8N1, for writing a device's lines.
pub fn open_port(
    path: &Path,
    baud_rate: u32,
) -> Result<tokio_serial::SerialStream, tokio_serial::Error> {
    use tokio_serial::SerialPortBuilderExt;
    tokio_serial::new(path.to_string_lossy(), baud_rate).open_native_async()
}
