//! Standard output that its reader may close early (`patchpilot scan | head`).
//!
//! Every command writes stdout through [`print`] (or [`outln!`]), which returns the write
//! error instead of panicking as `print!` does. A broken pipe becomes [`StdoutClosed`], and
//! `main` ends the program quietly with exit 0, as ripgrep does. SIGPIPE stays ignored
//! (Rust's default) rather than reset to its default action: the same binary runs the
//! server and the agent, which must survive peers that close sockets. And only stdout
//! writes are mapped, so a broken pipe on a socket is still an error.

use std::io::Write;

/// The reader of stdout went away: the command stops, and `main` exits 0 without a word.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// A stdout write error: a broken pipe is [`StdoutClosed`]; anything else says it was
/// stdout.
pub fn error(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        StdoutClosed.into()
    } else {
        anyhow::Error::new(e).context("writing to stdout")
    }
}

/// True when `e` (or anything in its chain) is [`StdoutClosed`].
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<StdoutClosed>())
}

/// Write `text` to stdout and flush it.
pub fn print(text: &str) -> crate::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(error)
}

/// `println!` that returns [`print`]'s result instead of panicking on a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::print(&format!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use outln;
