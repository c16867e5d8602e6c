//! A virtual serial cable for the demo: a pseudo-terminal whose master end the simulated device
//! writes to and whose slave path the gateway opens as its serial port.

use std::path::PathBuf;

use nix::sys::termios;

/// Why a virtual cable could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot create a pseudo-terminal: {0}")]
pub struct CableError(#[from] nix::Error);

/// One pseudo-terminal: `port_path` is what the gateway opens; [`VirtualCable::device_end`] is
/// where the simulated device writes. The slave end is set to raw mode so bytes pass unchanged.
pub struct VirtualCable {
    /// The serial port path (e.g. `/dev/pts/7`) to configure in the gateway.
    pub port_path: PathBuf,
    master: std::os::fd::OwnedFd,
    // Held open so the master never sees a hang-up while the gateway reconnects.
    _slave: std::os::fd::OwnedFd,
}

impl VirtualCable {
    /// Opens a new pseudo-terminal in raw mode.
    pub fn new() -> Result<Self, CableError> {
        let pty = nix::pty::openpty(None, None)?;
        let mut attrs = termios::tcgetattr(&pty.slave)?;
        termios::cfmakeraw(&mut attrs);
        termios::tcsetattr(&pty.slave, termios::SetArg::TCSANOW, &attrs)?;
        let port_path = nix::unistd::ttyname(&pty.slave)?;
        Ok(Self {
            port_path,
            master: pty.master,
            _slave: pty.slave,
        })
    }

    /// The device's end of the cable, for writing the device's bytes.
    pub fn device_end(&self) -> std::io::Result<tokio::fs::File> {
        let fd = self.master.try_clone()?;
        Ok(tokio::fs::File::from_std(std::fs::File::from(fd)))
    }
}
