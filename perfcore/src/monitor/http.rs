//! A minimal HTTP/1.1 client over `std::net::TcpStream`: what the webhook sink and the
//! Pushgateway client need, and nothing more.
//!
//! Only `http://host[:port][/path]` URLs (perfcore carries no TLS stack: put a TLS-terminating
//! proxy in front of an `https://` endpoint). Requests carry a `Content-Length` body and
//! `Connection: close`; answers may be `Content-Length`, chunked, or delimited by the server
//! closing the connection. The whole exchange (connect, write, read) shares one deadline, and
//! an answer's body is cut at [`MAX_BODY`] bytes (it is only read to report what a server said).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::MonitorError;

/// The most of an answer's body kept (the rest is not read).
pub(crate) const MAX_BODY: usize = 1 << 20;
/// The most of an answer's status line and headers accepted.
const MAX_HEAD: usize = 64 << 10;

/// A server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpResponse {
    /// The status code.
    pub(crate) status: u16,
    /// The body (lossy UTF-8), at most [`MAX_BODY`] bytes of it.
    pub(crate) body: String,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// An `http://` URL taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    /// The host as written (an IPv6 address keeps its brackets).
    pub(crate) host: String,
    /// The port (80 when not given).
    pub(crate) port: u16,
    /// The path and query, starting with `/`.
    pub(crate) path: String,
}

impl HttpUrl {
    /// Parses `http://host[:port][/path]`.
    pub(crate) fn parse(url: &str) -> Result<Self, MonitorError> {
        let bad = |reason: &str| MonitorError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let scheme = |s: &str| url.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s));
        if scheme("https://") {
            return Err(bad(
                "https is not supported (perfcore has no TLS): use http://, through a TLS proxy if needed",
            ));
        }
        if !scheme("http://") {
            return Err(bad("only http:// URLs are supported"));
        }
        let rest = &url[7..];
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], &rest[i..]),
            Some(i) => (&rest[..i], ""),
            None => (rest, ""),
        };
        let path = if path.is_empty() {
            let query = rest.find('?').map_or("", |i| &rest[i..]);
            format!("/{query}")
        } else {
            path.to_owned()
        };
        if path.chars().any(|c| c.is_ascii_control() || c == ' ') {
            return Err(bad("the path holds spaces or control characters"));
        }
        if authority.contains('@') {
            return Err(bad("credentials in the URL are not supported"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or_else(|| bad("unclosed '[' in the host"))?;
            let host = &authority[..end + 2];
            match &v6[end + 1..] {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("junk after the IPv6 host"))?),
                ),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host == "[]" {
            return Err(bad("no host"));
        }
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("the host holds spaces or control characters"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("the port is not a number in 1..=65535"))?,
        };
        Ok(Self { host: host.to_owned(), port, path })
    }

    /// `host:port`, as `Host:` and as an address to resolve.
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Sends one request and reads the answer, all within `timeout`.
///
/// Errors: [`MonitorError::InvalidUrl`] for a URL that is not `http://host[:port][/path]`
/// (`https` included), [`MonitorError::InvalidAddress`] for a host that does not resolve,
/// [`MonitorError::Request`] when connecting, writing or reading fails, times out, or the
/// answer is not HTTP. Any status is returned as `Ok`: the caller decides what a 4xx means.
pub(crate) fn request(
    method: &str,
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<HttpResponse, MonitorError> {
    let parsed = HttpUrl::parse(url)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(MonitorError::InvalidUrl {
            url: url.to_owned(),
            reason: format!("{method:?} is not an HTTP method"),
        });
    }
    let failed = |source: io::Error| MonitorError::Request { url: url.to_owned(), source };
    let deadline = Instant::now() + timeout;
    let authority = parsed.authority();
    let addrs: Vec<SocketAddr> = authority
        .to_socket_addrs()
        .map_err(|e| MonitorError::InvalidAddress {
            addr: authority.clone(),
            reason: e.to_string(),
        })?
        .collect();
    let mut stream = connect(&addrs, deadline).map_err(failed)?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: perfcore/{}\r\nAccept: */*\r\nConnection: close\r\nContent-Length: {}\r\n",
        parsed.path,
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    if !content_type.is_empty() {
        head.push_str("Content-Type: ");
        head.push_str(content_type);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut io = Deadlined { stream: &mut stream, deadline };
    io.write_all(head.as_bytes()).map_err(failed)?;
    io.write_all(body).map_err(failed)?;
    io.flush().map_err(failed)?;
    read_response(&mut io).map_err(failed)
}

/// Connects to the first address that answers before the deadline.
fn connect(addrs: &[SocketAddr], deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host resolved to no address");
    for addr in addrs {
        let left = remaining(deadline)?;
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => {
                // Best effort: small requests, answered at once.
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "the request timed out"))
    } else {
        Ok(left)
    }
}

/// A stream whose every read and write times out at one deadline.
struct Deadlined<'a, S> {
    stream: &'a mut S,
    deadline: Instant,
}

/// What [`Deadlined`] needs of a stream: setting its timeouts.
trait Timeouts {
    fn set_timeouts(&self, d: Duration) -> io::Result<()>;
}

impl Timeouts for TcpStream {
    fn set_timeouts(&self, d: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(d))?;
        self.set_write_timeout(Some(d))
    }
}

impl<S: Read + Timeouts> Read for Deadlined<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_timeouts(remaining(self.deadline)?)?;
        self.stream.read(buf).map_err(timed_out)
    }
}

impl<S: Write + Timeouts> Write for Deadlined<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_timeouts(remaining(self.deadline)?)?;
        self.stream.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// WouldBlock is how some platforms report a socket timeout.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "the request timed out")
    } else {
        e
    }
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// A reader that keeps what it read ahead.
struct Buffered<'a, R> {
    inner: &'a mut R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Buffered<'_, R> {
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut chunk = [0u8; 8192];
        let n = self.inner.read(&mut chunk)?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// One line ending in `\n` (without `\r\n`), at most `limit` bytes.
    fn line(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() - self.pos > limit {
                return Err(invalid("the answer's header is too long"));
            }
            if !self.fill()? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection mid-answer",
                ));
            }
        }
    }

    /// Up to `n` bytes appended to `out` (fewer at the end of the stream).
    fn take(&mut self, mut n: usize, out: &mut Vec<u8>, keep: usize) -> io::Result<usize> {
        let mut got = 0;
        while n > 0 {
            if self.pos == self.buf.len() && !self.fill()? {
                break;
            }
            let k = n.min(self.buf.len() - self.pos);
            let room = keep.saturating_sub(out.len());
            out.extend_from_slice(&self.buf[self.pos..self.pos + k.min(room)]);
            self.pos += k;
            n -= k;
            got += k;
            if out.len() >= keep {
                break;
            }
        }
        Ok(got)
    }
}

/// Reads a status line, headers and body.
fn read_response<R: Read>(inner: &mut R) -> io::Result<HttpResponse> {
    let mut r = Buffered { inner, buf: Vec::new(), pos: 0, eof: false };
    loop {
        let status = parse_status(&r.line(MAX_HEAD)?)?;
        let mut length = None;
        let mut chunked = false;
        let mut head = 0usize;
        loop {
            let line = r.line(MAX_HEAD)?;
            head += line.len();
            if head > MAX_HEAD {
                return Err(invalid("the answer's headers are too long"));
            }
            if line.is_empty() {
                break;
            }
            let line = String::from_utf8_lossy(&line);
            let Some((name, value)) = line.split_once(':') else {
                return Err(invalid(format!("malformed header line {line:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?,
                );
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().split(',').any(|t| t.trim() == "chunked");
            }
        }
        // 1xx answers (100 Continue) come before the real one.
        if (100..200).contains(&status) {
            continue;
        }
        let mut body = Vec::new();
        if status == 204 || status == 304 {
            // No body.
        } else if chunked {
            loop {
                let line = r.line(1024)?;
                let line = String::from_utf8_lossy(&line);
                let size = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|_| invalid(format!("bad chunk size {size:?}")))?;
                if size == 0 {
                    break;
                }
                let got = r.take(size, &mut body, MAX_BODY)?;
                if body.len() >= MAX_BODY {
                    break;
                }
                if got < size {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection mid-chunk",
                    ));
                }
                if !r.line(2)?.is_empty() {
                    return Err(invalid("a chunk is longer than its size"));
                }
            }
        } else if let Some(n) = length {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let got = r.take(n, &mut body, MAX_BODY)?;
            if got < n && body.len() < MAX_BODY {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before the end of the body",
                ));
            }
        } else {
            r.take(usize::MAX, &mut body, MAX_BODY)?;
        }
        return Ok(HttpResponse { status, body: String::from_utf8_lossy(&body).into_owned() });
    }
}

fn parse_status(line: &[u8]) -> io::Result<u16> {
    let text = String::from_utf8_lossy(line);
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(invalid(format!("not an HTTP/1.x status line: {text:?}")));
    }
    code.parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| invalid(format!("bad status code {code:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread;

    /// A loopback server answering one connection with `answer`; sends back the request.
    fn serve_once(answer: Vec<u8>) -> (String, mpsc::Receiver<Vec<u8>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let req = read_request(&mut s);
            s.write_all(&answer).unwrap();
            drop(s);
            tx.send(req).unwrap();
        });
        (format!("http://{addr}"), rx)
    }

    /// Reads a request's head and its Content-Length body.
    pub(crate) fn read_request(s: &mut TcpStream) -> Vec<u8> {
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                return req;
            }
            req.extend_from_slice(&buf[..n]);
            if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                while req.len() < end + 4 + len {
                    let n = s.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                return req;
            }
        }
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn parses_urls() {
        let u = HttpUrl::parse("http://localhost:9091/metrics/job/x").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 9091, "/metrics/job/x")
        );
        let u = HttpUrl::parse("http://example.com").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = HttpUrl::parse("http://example.com?a=1").unwrap();
        assert_eq!(u.path, "/?a=1");
        let u = HttpUrl::parse("http://[::1]:8080/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("[::1]", 8080));
        for bad in [
            "https://x/",
            "ftp://x",
            "http://",
            "http://x:0/",
            "http://x:99999",
            "http://x:y",
            "http://a b/",
            "http://[::1/",
        ] {
            assert!(matches!(HttpUrl::parse(bad), Err(MonitorError::InvalidUrl { .. })), "{bad}");
        }
        let e = HttpUrl::parse("https://hooks.example/x").unwrap_err().to_string();
        assert!(e.contains("https is not supported"), "{e}");
    }

    #[test]
    fn sends_the_body_and_reads_content_length() {
        let (url, rx) =
            serve_once(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello".to_vec());
        let r = request("PUT", &format!("{url}/metrics/job/j"), "text/plain", b"abc", T).unwrap();
        assert_eq!(r, HttpResponse { status: 201, body: "hello".into() });
        assert!(r.is_success());
        let req = String::from_utf8(rx.recv().unwrap()).unwrap();
        assert!(req.starts_with("PUT /metrics/job/j HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains("Content-Type: text/plain\r\n") && req.contains("Content-Length: 3\r\n")
        );
        assert!(req.ends_with("\r\n\r\nabc"));
    }

    #[test]
    fn reads_chunked_and_close_delimited_answers() {
        let (url, _rx) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n".to_vec(),
        );
        assert_eq!(request("POST", &url, "", b"", T).unwrap().body, "Wikipedia");
        let (url, _rx) = serve_once(b"HTTP/1.0 500 Oops\r\n\r\nbroken pipe".to_vec());
        let r = request("DELETE", &url, "", b"", T).unwrap();
        assert_eq!((r.status, r.body.as_str(), r.is_success()), (500, "broken pipe", false));
        let (url, _rx) = serve_once(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
        );
        assert_eq!(request("POST", &url, "", b"{}", T).unwrap().status, 202);
    }

    #[test]
    fn bounds_the_body() {
        let mut answer = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'x', MAX_BODY + 1000));
        let (url, _rx) = serve_once(answer);
        assert_eq!(request("GET", &url, "", b"", T).unwrap().body.len(), MAX_BODY);
    }

    #[test]
    fn malformed_answers_and_refused_connections_are_request_errors() {
        let (url, _rx) = serve_once(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec());
        let e = request("GET", &url, "", b"", T).unwrap_err();
        assert!(matches!(e, MonitorError::Request { .. }), "{e:?}");
        let (url, _rx) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec());
        assert!(matches!(request("GET", &url, "", b"", T), Err(MonitorError::Request { .. })));
        // A port nobody listens on (bound, then closed).
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let e = request("GET", &format!("http://{addr}/"), "", b"", T).unwrap_err();
        assert!(matches!(e, MonitorError::Request { .. }), "{e:?}");
        assert!(matches!(
            request("get", "http://127.0.0.1:1/", "", b"", T),
            Err(MonitorError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let (_s, _) = listener.accept().unwrap();
            let _ = rx.recv_timeout(Duration::from_secs(30));
        });
        let e = request("GET", &format!("http://{addr}/"), "", b"", Duration::from_millis(200))
            .unwrap_err();
        match e {
            MonitorError::Request { source, .. } => {
                assert_eq!(source.kind(), io::ErrorKind::TimedOut)
            }
            other => panic!("{other:?}"),
        }
        tx.send(()).unwrap();
        server.join().unwrap();
    }

    proptest::proptest! {
        #[test]
        fn random_answers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = read_response(&mut &bytes[..]);
        }

        #[test]
        fn random_urls_never_panic(url in "(http|https)?(://)?[a-z0-9:\\[\\]/?@. ]{0,30}") {
            let _ = HttpUrl::parse(&url);
        }
    }
}
