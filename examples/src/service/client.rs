//! A keep-alive HTTP/1.1 client over one `TcpStream`: what the load driver and the scraper use.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::ServiceError;
use super::http::{Read2, ReadError, Response, parse_response, read_message};

/// How long a request may take before the client gives up on it.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Splits `http://host:port[/prefix]` into the address and the path prefix.
pub(crate) fn parse_url(url: &str) -> Result<(SocketAddr, String), ServiceError> {
    let bad =
        |reason: &str| ServiceError::InvalidUrl { url: url.to_owned(), reason: reason.into() };
    let rest = url.strip_prefix("http://").ok_or_else(|| bad("only http:// URLs are supported"))?;
    let (authority, path) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
    if authority.is_empty() {
        return Err(bad("no host"));
    }
    let with_port = if authority.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')) {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = with_port
        .to_socket_addrs()
        .map_err(|e| bad(&format!("cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| bad("the host resolves to no address"))?;
    Ok((addr, path.trim_end_matches('/').to_owned()))
}

/// A keep-alive HTTP client to one server; it reconnects after the server closes.
///
/// # Examples
/// ```
/// # let service = perfcore_examples::service::ServiceOptions::new().workers(1).start()?;
/// let mut client = perfcore_examples::service::Client::new(&service.url())?;
/// let answer = client.get("/search?q=red+lamp")?;
/// assert_eq!(answer.status, 200);
/// # service.stop();
/// # Ok::<(), perfcore_examples::service::ServiceError>(())
/// ```
#[derive(Debug)]
pub struct Client {
    addr: SocketAddr,
    prefix: String,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Client {
    /// A client to `url` (`http://host:port`, optionally with a path prefix); it connects
    /// on the first request.
    ///
    /// # Errors
    /// [`ServiceError::InvalidUrl`] when `url` is not `http://host:port[/path]` or does not
    /// resolve.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore_examples::service::Client::new("https://x").is_err());
    /// ```
    pub fn new(url: &str) -> Result<Self, ServiceError> {
        let (addr, prefix) = parse_url(url)?;
        Ok(Self { addr, prefix, stream: None, buf: Vec::new() })
    }

    /// The server's address.
    ///
    /// # Examples
    /// ```
    /// let c = perfcore_examples::service::Client::new("http://127.0.0.1:9")?;
    /// assert_eq!(c.addr().port(), 9);
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET path` (after the URL's prefix).
    ///
    /// # Errors
    /// [`ServiceError::Io`] when the server cannot be reached or the exchange fails or times
    /// out (10 s); [`ServiceError::Http`] when it answers something that is not HTTP/1.1.
    ///
    /// # Examples
    /// ```
    /// let mut c = perfcore_examples::service::Client::new("http://127.0.0.1:9")?;
    /// assert!(c.get("/").is_err()); // nothing listens on the discard port
    /// # Ok::<(), perfcore_examples::service::ServiceError>(())
    /// ```
    pub fn get(&mut self, path: &str) -> Result<Response, ServiceError> {
        let request = format!(
            "GET {}{path} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n\r\n",
            self.prefix, self.addr
        );
        let reused = self.stream.is_some();
        match self.exchange(request.as_bytes()) {
            // A kept-alive connection the server closed before reading: retry once, fresh.
            Err(Retry::Closed) if reused => match self.exchange(request.as_bytes()) {
                Ok(r) => Ok(r),
                Err(e) => Err(self.fail(e)),
            },
            Ok(r) => Ok(r),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: Retry) -> ServiceError {
        self.stream = None;
        self.buf.clear();
        match e {
            Retry::Closed => ServiceError::io(
                format!("reading from {}", self.addr),
                std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ),
            ),
            Retry::Failed(e) => e,
        }
    }

    fn exchange(&mut self, request: &[u8]) -> Result<Response, Retry> {
        let addr = self.addr;
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&addr, TIMEOUT)
                .map_err(|e| Retry::Failed(ServiceError::io(format!("connecting to {addr}"), e)))?;
            let _ = s.set_nodelay(true);
            s.set_read_timeout(Some(TIMEOUT))
                .and_then(|()| s.set_write_timeout(Some(TIMEOUT)))
                .map_err(|e| Retry::Failed(ServiceError::io("setting socket timeouts", e)))?;
            self.stream = Some(s);
            self.buf.clear();
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(Retry::Closed);
        };
        if let Err(e) = stream.write_all(request) {
            self.stream = None;
            return Err(match e.kind() {
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset => {
                    Retry::Closed
                }
                _ => Retry::Failed(ServiceError::io(format!("writing to {addr}"), e)),
            });
        }
        let result = read_message(stream, &mut self.buf, parse_response);
        match result {
            Ok(Read2::Message(r)) => {
                if !r.keep_alive {
                    self.stream = None;
                    self.buf.clear();
                }
                Ok(r)
            }
            Ok(Read2::Closed) => {
                self.stream = None;
                Err(Retry::Closed)
            }
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                self.stream = None;
                Err(Retry::Closed)
            }
            Ok(Read2::TimedOut) => Err(Retry::Failed(ServiceError::io(
                format!("reading from {addr}"),
                std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 10 s"),
            ))),
            Err(ReadError::Io(e)) => {
                Err(Retry::Failed(ServiceError::io(format!("reading from {addr}"), e)))
            }
            Err(ReadError::Http(source)) => {
                Err(Retry::Failed(ServiceError::Http { peer: addr.to_string(), source }))
            }
        }
    }
}

enum Retry {
    Closed,
    Failed(ServiceError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (a, p) = parse_url("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!((a.port(), p.as_str()), (8080, "/api"));
        let (a, p) = parse_url("http://127.0.0.1").unwrap();
        assert_eq!((a.port(), p.as_str()), (80, ""));
        assert!(matches!(parse_url("ftp://x"), Err(ServiceError::InvalidUrl { .. })));
        assert!(matches!(parse_url("http:///x"), Err(ServiceError::InvalidUrl { .. })));
    }
}
