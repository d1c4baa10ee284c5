//! The frame-owning harness shared by the framer test suites (`framer`, `framer_props`):
//! frames copied out of the framer's buffer so that they can be collected and compared.
#![allow(dead_code)]

use at_wifi::framer::Frame;
use std::fmt;

/// Owned bytes that debug-print as an escaped ASCII string.
#[derive(Clone, PartialEq, Eq)]
pub struct B(pub Vec<u8>);

impl fmt::Debug for B {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// An owned, comparable [`Frame`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum F {
    Ok,
    Error(B),
    ErrorCode(u32),
    Busy(B),
    Prompt,
    Ready,
    Line(B),
    Oversized {
        start: B,
        len: usize,
    },
    Data {
        header: B,
        len: usize,
        data: B,
        truncated: bool,
    },
}

pub fn own(f: Frame<'_>) -> F {
    match f {
        Frame::Ok => F::Ok,
        Frame::Error(w) => F::Error(B(w.to_vec())),
        Frame::ErrorCode(c) => F::ErrorCode(c),
        Frame::Busy(l) => F::Busy(B(l.to_vec())),
        Frame::Prompt => F::Prompt,
        Frame::Ready => F::Ready,
        Frame::Line(l) => F::Line(B(l.to_vec())),
        Frame::Oversized { start, len } => F::Oversized {
            start: B(start.to_vec()),
            len,
        },
        Frame::Data(d) => {
            // Invariants every data frame keeps.
            assert!(d.data.len() <= d.len, "more data than declared: {d:?}");
            assert!(
                d.truncated || d.data.len() == d.len,
                "complete frame with missing data: {d:?}"
            );
            F::Data {
                header: B(d.header.to_vec()),
                len: d.len,
                data: B(d.data.to_vec()),
                truncated: d.truncated,
            }
        }
    }
}

pub fn line(s: impl AsRef<[u8]>) -> F {
    F::Line(B(s.as_ref().to_vec()))
}
