//! Reading gzip files member by member, the way `gzip -d` does.
//!
//! Rotated logs can be several gzip members back to back (`cat a.gz b.gz`), and copies from
//! backups can carry zero padding after the last member, which `gzip -d` ignores. Anything else
//! after a member is garbage: the bytes decoded so far are kept, and the error says where the
//! garbage starts (a compressed byte offset), so that an administrator can cut the file there.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::Ordering;

use flate2::bufread::GzDecoder;

use crate::input::Counting;

/// The compressed side: a counted source behind a buffer.
type Source = BufReader<Counting<Box<dyn Read + Send>>>;

/// Decodes every member of a gzip stream.
pub struct Members {
    current: Option<GzDecoder<Source>>,
}

impl Members {
    /// Starts decoding a counted source.
    pub fn new(source: Counting<Box<dyn Read + Send>>) -> Self {
        Self {
            current: Some(GzDecoder::new(BufReader::with_capacity(128 << 10, source))),
        }
    }
}

/// Whether the rest of a reader is only zero bytes (padding), consuming it.
fn rest_is_zeros<R: BufRead>(r: &mut R) -> io::Result<bool> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(true);
        }
        if buf.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        let n = buf.len();
        r.consume(n);
    }
}

impl Read for Members {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = decoder.read(out)?;
            if n > 0 || out.is_empty() {
                return Ok(n);
            }
            // The member ended: another member, padding, the end, or garbage.
            let Some(decoder) = self.current.take() else {
                return Ok(0);
            };
            let mut inner = decoder.into_inner();
            // Where the next member would start: bytes read from the file minus those buffered.
            let at = inner.get_ref().count.load(Ordering::Relaxed) - inner.buffer().len() as u64;
            let next = inner.fill_buf()?;
            if next.is_empty() {
                return Ok(0);
            }
            if next.starts_with(&[0x1f, 0x8b]) {
                self.current = Some(GzDecoder::new(inner));
                continue;
            }
            if rest_is_zeros(&mut inner)? {
                return Ok(0);
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("garbage after the last gzip member, from compressed byte {at}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data)?;
        e.finish()
    }

    fn decode(bytes: Vec<u8>) -> (Vec<u8>, Option<String>) {
        let mut m = Members::new(Counting::new(Box::new(io::Cursor::new(bytes))));
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match m.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }

    #[test]
    fn members_padding_and_garbage() -> io::Result<()> {
        let (a, b) = (gz(b"first\n")?, gz(b"second\n")?);
        let both = [a.clone(), b.clone()].concat();
        assert_eq!(decode(both.clone()), (b"first\nsecond\n".to_vec(), None));
        let padded = [both.clone(), vec![0; 5000]].concat();
        assert_eq!(decode(padded), (b"first\nsecond\n".to_vec(), None));
        let garbage = [both.clone(), b"junk".to_vec()].concat();
        let (out, err) = decode(garbage);
        assert_eq!(out, b"first\nsecond\n");
        assert_eq!(
            err.as_deref(),
            Some(&*format!(
                "garbage after the last gzip member, from compressed byte {}",
                both.len()
            ))
        );
        let (out, err) = decode(a[..a.len() - 3].to_vec());
        assert!(err.is_some() && out.len() <= 6);
        Ok(())
    }
}
