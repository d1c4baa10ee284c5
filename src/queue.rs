//! The bounded store of unsolicited frames, waiting for [`Client::poll`](crate::Client::poll).
//!
//! Frames are kept raw (their bytes, not parsed values) in one byte buffer, so a queue of
//! `N` bytes holds many short URCs or a few long messages, with an 8-byte overhead each.
//! When a frame does not fit, it is dropped and counted; the count is reported as
//! [`Event::Overflow`](crate::Event::Overflow) at the place of the stream where the frames
//! were lost (a marker entry goes ahead of the next frame stored). A frame larger than
//! the whole queue is kept cut to fit and marked truncated.

use crate::framer::{DataFrame, Frame};

/// What a stored entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Line = 0,
    Data = 1,
    Ready = 2,
    Oversized = 3,
    /// Frames were dropped here: the count is the 4-byte payload.
    Overflow = 4,
}

const HEAD: usize = 8;

/// A raw stored frame, borrowed from the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    Line(&'a [u8]),
    Oversized {
        start: &'a [u8],
        len: usize,
    },
    Data(DataFrame<'a>),
    Ready,
    /// Frames were dropped at this point of the stream.
    Overflow(u32),
}

pub(crate) struct EventQueue<const N: usize> {
    buf: [u8; N],
    head: usize,
    tail: usize,
    /// The entry at `head` was handed out and is removed on the next call.
    pop_pending: bool,
    dropped: u32,
    entries: usize,
}

impl<const N: usize> EventQueue<N> {
    pub(crate) const fn new() -> Self {
        EventQueue {
            buf: [0; N],
            head: 0,
            tail: 0,
            pop_pending: false,
            dropped: 0,
            entries: 0,
        }
    }

    pub(crate) fn len(&mut self) -> usize {
        self.settle();
        self.entries
    }

    /// Removes the entry handed out last, if any.
    fn settle(&mut self) {
        if self.pop_pending {
            self.pop_pending = false;
            let (_, total) = self.entry_at(self.head);
            self.head += total;
            self.entries -= 1;
            if self.head == self.tail {
                self.head = 0;
                self.tail = 0;
            }
        }
    }

    fn entry_at(&self, at: usize) -> (Kind, usize) {
        let kind = match self.buf[at] {
            0 => Kind::Line,
            1 => Kind::Data,
            2 => Kind::Ready,
            4 => Kind::Overflow,
            _ => Kind::Oversized,
        };
        let a = usize::from(u16::from_le_bytes([self.buf[at + 2], self.buf[at + 3]]));
        let b = usize::from(u16::from_le_bytes([self.buf[at + 4], self.buf[at + 5]]));
        (kind, HEAD + a + b)
    }

    /// Stores a frame; false (and counted) when it does not fit.
    pub(crate) fn push(&mut self, frame: &Frame<'_>) -> bool {
        self.settle();
        let (kind, a, b, declared, truncated): (Kind, &[u8], &[u8], usize, bool) = match frame {
            Frame::Line(l) | Frame::Busy(l) | Frame::Error(l) => (Kind::Line, l, &[], 0, false),
            Frame::Oversized { start, len } => (Kind::Oversized, start, &[], *len, true),
            Frame::Data(d) => (Kind::Data, d.header, d.data, d.len, d.truncated),
            Frame::Ready => (Kind::Ready, &[], &[], 0, false),
            Frame::Ok | Frame::Prompt | Frame::ErrorCode(_) => return true,
        };
        let max_entry = N.saturating_sub(HEAD).min(usize::from(u16::MAX));
        // A line cut to fit is no longer the line: it is kept as an oversized one, with its
        // full length, so that it is never taken for a whole (shorter) URC.
        let (kind, declared) = if kind == Kind::Line && a.len() > max_entry {
            (Kind::Oversized, a.len())
        } else {
            (kind, declared)
        };
        let a = &a[..a.len().min(max_entry)];
        let b_room = max_entry - a.len();
        let (b, truncated) = if b.len() > b_room {
            (&b[..b_room], true)
        } else {
            (b, truncated)
        };
        let need = HEAD + a.len() + b.len();
        // Frames dropped before this one are recorded in order, as a marker entry ahead
        // of it, so a reader knows exactly where the gap is.
        let marker = if self.dropped > 0 { HEAD + 4 } else { 0 };
        if marker + need > N {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        if self.tail + marker + need > N && self.head > 0 {
            self.buf.copy_within(self.head..self.tail, 0);
            self.tail -= self.head;
            self.head = 0;
        }
        if self.tail + marker + need > N {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        if marker > 0 {
            let count = core::mem::take(&mut self.dropped).to_le_bytes();
            self.write(Kind::Overflow, &count, &[], 0, false);
        }
        self.write(kind, a, b, declared, truncated);
        true
    }

    fn write(&mut self, kind: Kind, a: &[u8], b: &[u8], declared: usize, truncated: bool) {
        let need = HEAD + a.len() + b.len();
        let t = self.tail;
        self.buf[t] = kind as u8;
        self.buf[t + 1] = u8::from(truncated);
        self.buf[t + 2..t + 4].copy_from_slice(&(a.len() as u16).to_le_bytes());
        self.buf[t + 4..t + 6].copy_from_slice(&(b.len() as u16).to_le_bytes());
        let declared = declared.min(usize::from(u16::MAX)) as u16;
        self.buf[t + 6..t + 8].copy_from_slice(&declared.to_le_bytes());
        self.buf[t + HEAD..t + HEAD + a.len()].copy_from_slice(a);
        self.buf[t + HEAD + a.len()..t + need].copy_from_slice(b);
        self.tail += need;
        self.entries += 1;
    }

    /// Whether frames were dropped after the last stored entry (drops followed by a stored
    /// entry are reported in order, by an overflow entry).
    pub(crate) fn has_dropped(&self) -> bool {
        self.dropped > 0
    }

    /// Frames dropped after the last stored entry, and resets the count.
    pub(crate) fn take_dropped(&mut self) -> u32 {
        core::mem::take(&mut self.dropped)
    }

    /// The oldest entry; it is removed by the next call on the queue.
    pub(crate) fn pop(&mut self) -> Option<Stored<'_>> {
        self.settle();
        if self.entries == 0 {
            return None;
        }
        self.pop_pending = true;
        let at = self.head;
        let (kind, _) = self.entry_at(at);
        let truncated = self.buf[at + 1] != 0;
        let a = usize::from(u16::from_le_bytes([self.buf[at + 2], self.buf[at + 3]]));
        let b = usize::from(u16::from_le_bytes([self.buf[at + 4], self.buf[at + 5]]));
        let declared = usize::from(u16::from_le_bytes([self.buf[at + 6], self.buf[at + 7]]));
        let first = &self.buf[at + HEAD..at + HEAD + a];
        let second = &self.buf[at + HEAD + a..at + HEAD + a + b];
        Some(match kind {
            Kind::Line => Stored::Line(first),
            Kind::Oversized => Stored::Oversized {
                start: first,
                len: declared,
            },
            Kind::Ready => Stored::Ready,
            Kind::Overflow => {
                let mut n = [0u8; 4];
                n.copy_from_slice(&first[..4]);
                Stored::Overflow(u32::from_le_bytes(n))
            }
            Kind::Data => Stored::Data(DataFrame {
                header: first,
                len: declared,
                data: second,
                truncated,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_compaction_and_overflow_count() {
        let mut q = EventQueue::<64>::new();
        assert!(q.push(&Frame::Line(b"WIFI CONNECTED")));
        assert!(q.push(&Frame::Line(b"WIFI GOT IP")));
        // 8 + 14 + 8 + 11 = 41 used; 8 + 20 does not fit.
        assert!(!q.push(&Frame::Line(b"01234567890123456789")));
        assert_eq!(q.take_dropped(), 1);
        assert_eq!(q.pop(), Some(Stored::Line(b"WIFI CONNECTED")));
        // Popping made room at the front; pushing compacts.
        assert!(q.push(&Frame::Line(b"01234567890123456789")));
        assert_eq!(q.pop(), Some(Stored::Line(b"WIFI GOT IP")));
        assert_eq!(q.pop(), Some(Stored::Line(b"01234567890123456789")));
        assert_eq!(q.pop(), None);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn line_longer_than_the_queue_becomes_oversized() {
        let mut q = EventQueue::<32>::new();
        let line = [b'x'; 40];
        assert!(q.push(&Frame::Line(&line)));
        assert_eq!(
            q.pop(),
            Some(Stored::Oversized {
                start: &line[..24],
                len: 40
            })
        );
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn drops_are_reported_where_they_happened() {
        let mut q = EventQueue::<48>::new();
        assert!(q.push(&Frame::Line(b"first piece of twenty")));
        assert!(!q.push(&Frame::Line(b"second piece, dropped")));
        assert_eq!(q.pop(), Some(Stored::Line(b"first piece of twenty")));
        assert!(q.push(&Frame::Line(b"third")));
        assert_eq!(q.pop(), Some(Stored::Overflow(1)));
        assert_eq!(q.pop(), Some(Stored::Line(b"third")));
        assert_eq!(q.pop(), None);
        assert!(!q.has_dropped());
    }

    #[test]
    fn oversized_entry_is_cut_and_marked_truncated() {
        let mut q = EventQueue::<32>::new();
        let data = [7u8; 100];
        let f = Frame::Data(DataFrame {
            header: b"+IPD,0,100",
            len: 100,
            data: &data,
            truncated: false,
        });
        assert!(q.push(&f));
        match q.pop() {
            Some(Stored::Data(d)) => {
                assert_eq!(d.header, b"+IPD,0,100");
                assert_eq!(d.len, 100);
                assert_eq!(d.data.len(), 32 - 8 - 10);
                assert!(d.truncated);
            }
            other => panic!("{other:?}"),
        }
    }
}
