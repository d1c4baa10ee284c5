//! The bounded store of unsolicited frames, waiting for [`Client::poll`](crate::Client::poll).
//!
//! Frames are kept raw (their bytes, not parsed values) in one byte buffer, so a queue of
//! `N` bytes holds many short URCs or a few long messages, with an 8-byte overhead each.
//! When a frame does not fit, it is dropped and counted; the count is reported as
//! [`Event::Overflow`](crate::Event::Overflow) at the place of the stream where the frames
//! were lost (a marker entry goes ahead of the next frame stored). A frame larger than
//! the whole queue is kept cut to fit and marked truncated.
//!
//! The byte FIFO underneath, [`Records`], is also the store of the socket set (through an
//! `EventQueue`) and of the MQTT session (its own record fields): one implementation of a
//! bounded event store in the crate.

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

/// The event queue's fields of an entry: kind, truncated flag, declared length (u16).
const META: usize = 4;
const HEAD: usize = META + LENS;

/// Bytes every record of a [`Records`] store takes for its two lengths.
pub(crate) const LENS: usize = 4;

/// The longest part (`a` or `b`) a record holds.
pub(crate) const PART_MAX: usize = u16::MAX as usize;

/// A bounded FIFO of records in `N` bytes: the one store behind the client's
/// [`EventQueue`], the socket set's store and the MQTT session's store.
///
/// A record is `M` bytes of its owner's fields, two lengths ([`LENS`] bytes) and two byte
/// strings `a` and `b` of at most [`PART_MAX`] bytes each. The record handed out last is
/// removed on the next call (its bytes stay borrowed until then). Freed space at the
/// front is reclaimed by moving what is stored to the front when a record would not fit
/// behind it.
pub(crate) struct Records<const N: usize, const M: usize> {
    buf: [u8; N],
    at: Cursor,
}

/// Where the records of a [`Records`] store are. Its code takes the buffer and the
/// field size as arguments: one copy serves every store, whatever its `N` and `M`.
struct Cursor {
    head: usize,
    tail: usize,
    /// The record at `head` was handed out and is removed on the next call.
    pop_pending: bool,
    entries: usize,
}

impl Cursor {
    fn part_len(buf: &[u8], at: usize) -> usize {
        usize::from(u16::from_le_bytes([buf[at], buf[at + 1]]))
    }

    /// The record at `head`: where its parts start, and their lengths.
    fn head_parts(&self, buf: &[u8], m: usize) -> (usize, usize, usize) {
        let at = self.head + m;
        (
            at + LENS,
            Self::part_len(buf, at),
            Self::part_len(buf, at + 2),
        )
    }

    fn settle(&mut self, buf: &[u8], m: usize) {
        if core::mem::take(&mut self.pop_pending) {
            let (start, a, b) = self.head_parts(buf, m);
            self.head = start + a + b;
            self.entries -= 1;
            if self.head >= self.tail {
                self.head = 0;
                self.tail = 0;
            }
        }
    }

    fn room_for(&mut self, buf: &mut [u8], m: usize, need: usize) -> bool {
        self.settle(buf, m);
        if self.tail + need > buf.len() && self.head > 0 {
            // Moved in steps no longer than the gap, so that no step overlaps (a plain
            // copy each, no `memmove`).
            let gap = self.head;
            let mut from = gap;
            while from < self.tail {
                let n = gap.min(self.tail - from);
                let (front, back) = buf.split_at_mut(from);
                front[from - gap..from - gap + n].copy_from_slice(&back[..n]);
                from += n;
            }
            self.tail -= gap;
            self.head = 0;
        }
        self.tail + need <= buf.len()
    }

    fn push(&mut self, buf: &mut [u8], meta: &[u8], a: &[u8], b: &[u8]) -> bool {
        let m = meta.len();
        let need = m + LENS + a.len() + b.len();
        if a.len() > PART_MAX || b.len() > PART_MAX || !self.room_for(buf, m, need) {
            return false;
        }
        let t = self.tail;
        let (head, parts) = buf[t..t + need].split_at_mut(m + LENS);
        head[..m].copy_from_slice(meta);
        head[m..m + 2].copy_from_slice(&(a.len() as u16).to_le_bytes());
        head[m + 2..].copy_from_slice(&(b.len() as u16).to_le_bytes());
        let (pa, pb) = parts.split_at_mut(a.len());
        pa.copy_from_slice(a);
        pb.copy_from_slice(b);
        self.tail += need;
        self.entries += 1;
        true
    }
}

impl<const N: usize, const M: usize> Records<N, M> {
    pub(crate) const fn new() -> Self {
        Records {
            buf: [0; N],
            at: Cursor {
                head: 0,
                tail: 0,
                pop_pending: false,
                entries: 0,
            },
        }
    }

    /// Removes the record handed out last, if any.
    pub(crate) fn settle(&mut self) {
        self.at.settle(&self.buf, M);
    }

    /// Records stored.
    pub(crate) fn len(&mut self) -> usize {
        self.settle();
        self.at.entries
    }

    /// Bytes free (at the end or, after a move, at the front).
    pub(crate) fn free(&mut self) -> usize {
        self.settle();
        N - (self.at.tail - self.at.head)
    }

    /// Whether `need` more bytes fit behind the stored records, moving them to the front
    /// first when that makes the room.
    pub(crate) fn room_for(&mut self, need: usize) -> bool {
        self.at.room_for(&mut self.buf, M, need)
    }

    /// Stores a record; false (nothing stored) when it does not fit or a part is longer
    /// than [`PART_MAX`].
    pub(crate) fn push(&mut self, meta: [u8; M], a: &[u8], b: &[u8]) -> bool {
        self.at.push(&mut self.buf, &meta, a, b)
    }

    /// The fields of the oldest record, without handing it out.
    pub(crate) fn peek(&mut self) -> Option<[u8; M]> {
        self.settle();
        (self.at.entries > 0).then(|| {
            let mut meta = [0u8; M];
            meta.copy_from_slice(&self.buf[self.at.head..self.at.head + M]);
            meta
        })
    }

    /// The oldest record: its fields and parts; it is removed by the next call.
    pub(crate) fn pop(&mut self) -> Option<([u8; M], &[u8], &[u8])> {
        let meta = self.peek()?;
        self.at.pop_pending = true;
        let (start, a, b) = self.at.head_parts(&self.buf, M);
        Some((
            meta,
            &self.buf[start..start + a],
            &self.buf[start + a..start + a + b],
        ))
    }
}

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
    records: Records<N, META>,
    dropped: u32,
}

impl<const N: usize> EventQueue<N> {
    pub(crate) const fn new() -> Self {
        EventQueue {
            records: Records::new(),
            dropped: 0,
        }
    }

    pub(crate) fn len(&mut self) -> usize {
        self.records.len()
    }

    /// Stores a frame; false (and counted) when it does not fit.
    pub(crate) fn push(&mut self, frame: &Frame<'_>) -> bool {
        let (kind, a, b, declared, truncated): (Kind, &[u8], &[u8], usize, bool) = match frame {
            Frame::Line(l) | Frame::Busy(l) | Frame::Error(l) => (Kind::Line, l, &[], 0, false),
            Frame::Oversized { start, len } => (Kind::Oversized, start, &[], *len, true),
            Frame::Data(d) => (Kind::Data, d.header, d.data, d.len, d.truncated),
            Frame::Ready => (Kind::Ready, &[], &[], 0, false),
            Frame::Ok | Frame::Prompt | Frame::ErrorCode(_) => return true,
        };
        // Frames dropped before this one are recorded in order, as a marker entry ahead
        // of it, so a reader knows exactly where the gap is.
        let marker = if self.dropped > 0 { HEAD + 4 } else { 0 };
        // The largest entry that fits the empty queue (behind the marker, if any).
        let max_entry = N.saturating_sub(HEAD + marker).min(PART_MAX);
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
        if !self.records.room_for(marker + need) {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        if marker > 0 {
            let count = core::mem::take(&mut self.dropped).to_le_bytes();
            self.records
                .push(meta(Kind::Overflow, false, 0), &count, &[]);
        }
        let declared = declared.min(PART_MAX);
        self.records.push(meta(kind, truncated, declared), a, b);
        true
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
        let (m, first, second) = self.records.pop()?;
        let truncated = m[1] != 0;
        let declared = usize::from(u16::from_le_bytes([m[2], m[3]]));
        Some(match m[0] {
            0 => Stored::Line(first),
            1 => Stored::Data(DataFrame {
                header: first,
                len: declared,
                data: second,
                truncated,
            }),
            2 => Stored::Ready,
            4 => {
                let mut n = [0u8; 4];
                n.copy_from_slice(&first[..4]);
                Stored::Overflow(u32::from_le_bytes(n))
            }
            _ => Stored::Oversized {
                start: first,
                len: declared,
            },
        })
    }
}

/// An entry's fields: kind, truncated flag, declared length (at most [`PART_MAX`]).
fn meta(kind: Kind, truncated: bool, declared: usize) -> [u8; META] {
    let d = (declared as u16).to_le_bytes();
    [kind as u8, u8::from(truncated), d[0], d[1]]
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
    fn entry_larger_than_the_queue_after_a_drop_is_kept_cut() {
        let mut q = EventQueue::<48>::new();
        assert!(q.push(&Frame::Line(b"first piece of twenty")));
        assert!(!q.push(&Frame::Line(b"second piece, dropped")));
        assert_eq!(q.pop(), Some(Stored::Line(b"first piece of twenty")));
        // The queue is empty: the long line is kept cut, behind the marker of the drop.
        let line = [b'x'; 100];
        assert!(q.push(&Frame::Line(&line)));
        assert_eq!(q.pop(), Some(Stored::Overflow(1)));
        assert_eq!(
            q.pop(),
            Some(Stored::Oversized {
                start: &line[..48 - HEAD - (HEAD + 4)],
                len: 100
            })
        );
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
