//! Server-sent events, cut out of the bytes of a `text/event-stream` body as they arrive.

/// One event: its name (`event:`), id (`id:`) and data (`data:` lines joined by newlines).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: String,
}

/// Collects chunks and hands out each event once its blank line has arrived.
#[derive(Default)]
pub struct SseParser {
    pending: Vec<u8>,
}

impl SseParser {
    /// The events completed by `chunk`, in order; comments (keep-alives) are dropped.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.pending.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some((end, separator)) = block_end(&self.pending) {
            let block: Vec<u8> = self.pending.drain(..end + separator).collect();
            if let Some(event) = parse_block(&String::from_utf8_lossy(&block[..end])) {
                events.push(event);
            }
        }
        events
    }
}

/// Where the first complete block ends, and the length of the blank line that ends it.
fn block_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes.windows(2).position(|pair| pair == b"\n\n");
    let crlf = bytes.windows(4).position(|four| four == b"\r\n\r\n");
    match (lf, crlf) {
        (Some(lf), Some(crlf)) if crlf < lf => Some((crlf, 4)),
        (Some(lf), _) => Some((lf, 2)),
        (None, Some(crlf)) => Some((crlf, 4)),
        (None, None) => None,
    }
}

fn parse_block(block: &str) -> Option<SseEvent> {
    let mut event = SseEvent::default();
    let mut data = Vec::new();
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event.event = value.to_owned(),
            "id" => event.id = value.to_owned(),
            "data" => data.push(value),
            _ => {}
        }
    }
    if data.is_empty() && event.event.is_empty() {
        return None;
    }
    event.data = data.join("\n");
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks() {
        let mut parser = SseParser::default();
        assert!(
            parser
                .push(b":\n\nevent: BOOKING_CONFIRMED\nid: 1\nda")
                .is_empty()
        );
        let events = parser.push(b"ta: {\"a\":1}\n\nevent: X\r\ndata: 2\r\n\r\nevent: Y");
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "BOOKING_CONFIRMED".into(),
                    id: "1".into(),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: "X".into(),
                    id: String::new(),
                    data: "2".into()
                },
            ]
        );
        assert_eq!(parser.push(b"\n\n")[0].event, "Y");
    }
}
