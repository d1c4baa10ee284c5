//! The fuzz harnesses of at-wifi, shared by the cargo-fuzz targets (`fuzz_targets/`), the
//! seed generator (`examples/gen_seeds.rs`) and the replay test (`cargo test` here).
//!
//! Each target reads its input with a small, documented byte format (not `arbitrary`'s),
//! so that real captures can be turned into seeds by prefixing a few bytes:
//!
//! - [`framer`]: `[cfg][k][k chunk sizes][m][m × (offset u16 LE, mode)]` then the module
//!   output.
//! - [`client`]: `[cfg][k][k chunk sizes][4 config bytes]` then operations, each an
//!   opcode byte and its operands (see [`client::Op`]).
//! - [`urc`]: `[sel][declared u16 LE][split]` then one line / reply / data frame.
//!
//! Missing bytes read as 0, so every input is valid.

pub mod client;
pub mod framer;
pub mod seeds;
pub mod urc;

/// Reads the fuzz input front to back; past the end every number is 0 and every byte
/// string is empty.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes as a little-endian number.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }

    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Writes inputs in the formats the [`Reader`] reads.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    /// The bytes so far.
    pub out: Vec<u8>,
}

impl Writer {
    /// One byte.
    pub fn u8(&mut self, b: u8) -> &mut Self {
        self.out.push(b);
        self
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_le_bytes());
        self
    }

    /// Raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out.extend_from_slice(b);
        self
    }
}

/// Escapes bytes for assertion messages.
pub fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}
