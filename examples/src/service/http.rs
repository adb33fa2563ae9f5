//! A small HTTP/1.1 parser and writer for the example service and its load driver: request
//! and response heads, `Content-Length` bodies, keep-alive. No chunked bodies (the service
//! never sends them and answers a chunked request with 400).
//!
//! The parsers are incremental: given the bytes read so far they return `Ok(None)` until a
//! whole message is there, then the message and how many bytes it took, or a typed
//! [`HttpError`] for bytes that can never become a valid message. They never panic.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

/// The longest head (start line and headers) accepted, in bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// The longest body accepted, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// Why bytes are not a valid HTTP/1.1 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The head is longer than [`MAX_HEAD`] without ending in an empty line: send less.
    #[error("the message head is longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The head is not UTF-8 text.
    #[error("the message head is not UTF-8")]
    NotUtf8,
    /// The request line is not `METHOD TARGET HTTP/1.x`.
    #[error("bad request line {line:?}")]
    BadRequestLine {
        /// The line as read.
        line: String,
    },
    /// The status line is not `HTTP/1.x CODE REASON`.
    #[error("bad status line {line:?}")]
    BadStatusLine {
        /// The line as read.
        line: String,
    },
    /// A header line has no `name:` or a bad name.
    #[error("bad header line {line:?}")]
    BadHeader {
        /// The line as read.
        line: String,
    },
    /// A version other than HTTP/1.0 or HTTP/1.1.
    #[error("unsupported HTTP version {version:?} (only HTTP/1.0 and HTTP/1.1)")]
    UnsupportedVersion {
        /// The version as read.
        version: String,
    },
    /// `Content-Length` is not a number, or given twice with different values.
    #[error("bad content-length {value:?}")]
    BadContentLength {
        /// The value(s) as read.
        value: String,
    },
    /// The body is longer than [`MAX_BODY`].
    #[error("a body of {length} bytes is over the {limit}-byte limit")]
    BodyTooLarge {
        /// The announced length.
        length: usize,
        /// The limit.
        limit: usize,
    },
    /// `Transfer-Encoding` (chunked bodies) is not supported: send a `Content-Length`.
    #[error("transfer-encoding is not supported: send a content-length")]
    TransferEncoding,
    /// The peer closed the connection in the middle of a message.
    #[error("the connection closed after {read} bytes of an unfinished message")]
    Truncated {
        /// Bytes of the unfinished message.
        read: usize,
    },
}

/// A parsed request.
///
/// # Examples
/// ```
/// use perfcore_examples::service::http::parse_request;
/// let (req, used) = parse_request(b"GET /items/7?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")?.unwrap();
/// assert_eq!((req.method.as_str(), req.path(), req.query()), ("GET", "/items/7", Some("x=1")));
/// assert!(req.keep_alive);
/// assert_eq!(used, 38);
/// # Ok::<(), perfcore_examples::service::http::HttpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method (`GET`, `POST`, ...), as sent.
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    /// The headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the connection stays open after the answer (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    pub keep_alive: bool,
}

impl Request {
    /// The target's path (before `?`).
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::http::parse_request;
    /// let (r, _) = parse_request(b"GET /a?b HTTP/1.1\r\n\r\n")?.unwrap();
    /// assert_eq!(r.path(), "/a");
    /// # Ok::<(), perfcore_examples::service::http::HttpError>(())
    /// ```
    #[must_use]
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(self.target.as_str(), |(p, _)| p)
    }

    /// The target's query (after `?`), if any.
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::http::parse_request;
    /// let (r, _) = parse_request(b"GET /a?b=1 HTTP/1.1\r\n\r\n")?.unwrap();
    /// assert_eq!(r.query(), Some("b=1"));
    /// # Ok::<(), perfcore_examples::service::http::HttpError>(())
    /// ```
    #[must_use]
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The value of query parameter `name` (not percent-decoded).
    ///
    /// # Examples
    /// ```
    /// # use perfcore_examples::service::http::parse_request;
    /// let (r, _) = parse_request(b"GET /s?q=ab&n=2 HTTP/1.1\r\n\r\n")?.unwrap();
    /// assert_eq!(r.param("n"), Some("2"));
    /// # Ok::<(), perfcore_examples::service::http::HttpError>(())
    /// ```
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// A parsed response.
///
/// # Examples
/// ```
/// use perfcore_examples::service::http::parse_response;
/// let (r, _) = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?.unwrap();
/// assert_eq!((r.status, r.body.as_slice()), (200, &b"ok"[..]));
/// # Ok::<(), perfcore_examples::service::http::HttpError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Whether the connection stays open.
    pub keep_alive: bool,
}

struct Head<'a> {
    start: &'a str,
    headers: Vec<(String, String)>,
    body_start: usize,
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn parse_head(buf: &[u8]) -> Result<Option<Head<'_>>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD + 4)];
    let Some(end) = find_head_end(window) else {
        return if buf.len() > MAX_HEAD {
            Err(HttpError::HeadTooLarge { limit: MAX_HEAD })
        } else {
            Ok(None)
        };
    };
    let text = std::str::from_utf8(&buf[..end]).map_err(|_| HttpError::NotUtf8)?;
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or("");
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) =
            line.split_once(':').ok_or_else(|| HttpError::BadHeader { line: line.to_owned() })?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(HttpError::BadHeader { line: line.to_owned() });
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok(Some(Head { start, headers, body_start: end + 4 }))
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> impl Iterator<Item = &'h str> {
    headers.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn content_length(headers: &[(String, String)]) -> Result<usize, HttpError> {
    if header(headers, "transfer-encoding").next().is_some() {
        return Err(HttpError::TransferEncoding);
    }
    let values: Vec<&str> = header(headers, "content-length").collect();
    let Some(first) = values.first() else { return Ok(0) };
    let bad = || HttpError::BadContentLength { value: values.join(", ") };
    if values.iter().any(|v| v != first)
        || first.is_empty()
        || !first.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let length: usize = first.parse().map_err(|_| bad())?;
    if length > MAX_BODY {
        return Err(HttpError::BodyTooLarge { length, limit: MAX_BODY });
    }
    Ok(length)
}

fn version_minor(version: &str) -> Result<u8, HttpError> {
    match version {
        "HTTP/1.1" => Ok(1),
        "HTTP/1.0" => Ok(0),
        v => Err(HttpError::UnsupportedVersion { version: v.to_owned() }),
    }
}

fn keep_alive(minor: u8, headers: &[(String, String)]) -> bool {
    let has = |token: &str| {
        header(headers, "connection")
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if minor == 1 { !has("close") } else { has("keep-alive") }
}

/// Parses one request from the front of `buf`: `Ok(None)` while it is incomplete, else the
/// request and the number of bytes it took.
///
/// # Errors
/// An [`HttpError`] when the bytes can never be a valid request.
///
/// # Examples
/// ```
/// use perfcore_examples::service::http::parse_request;
/// assert!(parse_request(b"GET / HTTP/1.1\r\n")?.is_none());
/// assert!(parse_request(b"GET /\r\n\r\n").is_err());
/// # Ok::<(), perfcore_examples::service::http::HttpError>(())
/// ```
pub fn parse_request(buf: &[u8]) -> Parsed<Request> {
    let Some(head) = parse_head(buf)? else { return Ok(None) };
    let bad = || HttpError::BadRequestLine { line: head.start.to_owned() };
    let mut parts = head.start.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
        || !target.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad());
    }
    let minor = version_minor(version)?;
    let Some(((body, keep_alive), end)) = framed(buf, &head, minor)? else { return Ok(None) };
    let (method, target) = (method.to_owned(), target.to_owned());
    Ok(Some((Request { method, target, body, headers: head.headers, keep_alive }, end)))
}

/// The body after `head` (its `Content-Length` bytes) and whether the connection stays
/// open, with where the message ends: `Ok(None)` while the body is incomplete.
fn framed(buf: &[u8], head: &Head<'_>, minor: u8) -> Parsed<(Vec<u8>, bool)> {
    let length = content_length(&head.headers)?;
    let end = head.body_start + length;
    if buf.len() < end {
        return Ok(None);
    }
    let body = buf[head.body_start..end].to_vec();
    Ok(Some(((body, keep_alive(minor, &head.headers)), end)))
}

/// Parses one response from the front of `buf` (every response here carries a
/// `Content-Length`; one without it has an empty body): `Ok(None)` while incomplete.
///
/// # Errors
/// An [`HttpError`] when the bytes can never be a valid response.
///
/// # Examples
/// ```
/// use perfcore_examples::service::http::parse_response;
/// let (r, n) = parse_response(b"HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\n")?.unwrap();
/// assert_eq!((r.status, r.keep_alive, n), (503, false, 40));
/// # Ok::<(), perfcore_examples::service::http::HttpError>(())
/// ```
pub fn parse_response(buf: &[u8]) -> Parsed<Response> {
    let Some(head) = parse_head(buf)? else { return Ok(None) };
    let bad = || HttpError::BadStatusLine { line: head.start.to_owned() };
    let mut parts = head.start.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else { return Err(bad()) };
    let minor = version_minor(version)?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let status: u16 = code.parse().map_err(|_| bad())?;
    if !(100..=599).contains(&status) {
        return Err(bad());
    }
    let Some(((body, keep_alive), end)) = framed(buf, &head, minor)? else { return Ok(None) };
    Ok(Some((Response { status, body, headers: head.headers, keep_alive }, end)))
}

/// The reason phrase of the status codes the service uses.
#[must_use]
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes a response with a `Content-Length` body.
pub(crate) fn write_response(
    out: &mut impl Write,
    status: u16,
    content_type: &str,
    body: &[u8],
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut msg = Vec::with_capacity(128 + body.len());
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let _ = write!(
        msg,
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        reason(status),
        body.len()
    );
    msg.extend_from_slice(body);
    out.write_all(&msg)
}

/// What reading one message from a connection gave.
#[derive(Debug)]
pub(crate) enum Read2<T> {
    /// A message.
    Message(T),
    /// The peer closed the connection between messages.
    Closed,
    /// The read timed out with the bytes so far kept in the buffer (call again).
    TimedOut,
}

/// What the parsers return: a message and the bytes it took, `None` while incomplete.
pub type Parsed<T> = Result<Option<(T, usize)>, HttpError>;

/// Reads one message with `parse`, keeping bytes after it in `buf` for the next.
pub(crate) fn read_message<T>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    parse: fn(&[u8]) -> Parsed<T>,
) -> Result<Read2<T>, ReadError> {
    let mut chunk = [0u8; 8192];
    loop {
        if !buf.is_empty()
            && let Some((msg, used)) = parse(buf)?
        {
            buf.drain(..used);
            return Ok(Read2::Message(msg));
        }
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Ok(Read2::Closed),
            Ok(0) => return Err(HttpError::Truncated { read: buf.len() }.into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(Read2::TimedOut);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

/// A failed read: bad bytes or a socket error.
#[derive(Debug)]
pub(crate) enum ReadError {
    Http(HttpError),
    Io(std::io::Error),
}

impl From<HttpError> for ReadError {
    fn from(e: HttpError) -> Self {
        Self::Http(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_with_body_and_pipelining() {
        let raw =
            b"POST /orders HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /healthz HTTP/1.1\r\n\r\n";
        let (a, n) = parse_request(raw).unwrap().unwrap();
        assert_eq!((a.method.as_str(), a.body.as_slice()), ("POST", &b"abc"[..]));
        let (b, m) = parse_request(&raw[n..]).unwrap().unwrap();
        assert_eq!(b.path(), "/healthz");
        assert_eq!(n + m, raw.len());
    }

    #[test]
    fn incomplete_body_waits() {
        assert!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab").unwrap().is_none()
        );
    }

    #[test]
    fn keep_alive_rules() {
        let r = |s: &[u8]| parse_request(s).unwrap().unwrap().0.keep_alive;
        assert!(r(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!r(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!r(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(r(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn typed_errors() {
        assert_eq!(
            parse_request(b"GET / HTTP/2\r\n\r\n"),
            Err(HttpError::UnsupportedVersion { version: "HTTP/2".into() })
        );
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(HttpError::BadContentLength { .. })
        ));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(HttpError::BadContentLength { .. })
        ));
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HttpError::TransferEncoding)
        );
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
            Err(HttpError::BadHeader { .. })
        ));
        let big = vec![b'a'; MAX_HEAD + 10];
        assert_eq!(parse_request(&big), Err(HttpError::HeadTooLarge { limit: MAX_HEAD }));
        assert!(matches!(
            parse_response(b"HTTP/1.1 20 OK\r\n\r\n"),
            Err(HttpError::BadStatusLine { .. })
        ));
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"),
            Err(HttpError::BodyTooLarge { length: 99_999_999, limit: MAX_BODY })
        );
    }

    #[test]
    fn response_written_parses_back() {
        let mut out = Vec::new();
        write_response(&mut out, 500, "text/plain", b"boom", true).unwrap();
        let (r, n) = parse_response(&out).unwrap().unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.keep_alive, n),
            (500, &b"boom"[..], true, out.len())
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_give_a_typed_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_request(&bytes);
            let _ = parse_response(&bytes);
        }

        #[test]
        fn mutated_requests_never_panic(
            cut in 0usize..80, flip in 0usize..80, byte in any::<u8>(),
        ) {
            let mut raw = b"GET /items/1?x=2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody".to_vec();
            let i = flip % raw.len();
            raw[i] = byte;
            raw.truncate(cut.min(raw.len()));
            if let Ok(Some((_, used))) = parse_request(&raw) {
                prop_assert!(used <= raw.len());
            }
        }

        #[test]
        fn any_valid_request_round_trips(
            path in "/[a-z0-9/]{0,20}", body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut raw = format!("POST {path} HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
            raw.extend_from_slice(&body);
            let (r, used) = parse_request(&raw).unwrap().unwrap();
            prop_assert_eq!(used, raw.len());
            prop_assert_eq!(r.target, path);
            prop_assert_eq!(r.body, body);
        }
    }
}
