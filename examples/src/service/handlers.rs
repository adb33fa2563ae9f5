//! The service's handlers: `#[perfcore::profile]` functions that return before anything is
//! written to the client, so perfcore has counted a call when its answer leaves.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use perfcore::monitor::{self, Counter, Ratio};
use perfcore::profile;

use super::http::Request;

/// Items the cache holds at most (then it is emptied: a crude but bounded eviction).
const CACHE_CAPACITY: usize = 2048;
/// Product names `search` scores.
const CATALOG: usize = 400;
/// One order in this many fails at checkout.
pub(crate) const CHECKOUT_FAILS_ONE_IN: u64 = 20;

/// The routes, as the driver and the SLI table name them, with their handler's name in
/// perfcore (the last segment of its path).
pub(crate) const ROUTES: [(&str, &str); 4] =
    [("items", "get_item"), ("search", "search"), ("checkout", "checkout"), ("healthz", "healthz")];

/// Why a handler failed: its status and message.
#[derive(Debug)]
pub(crate) struct HandlerError {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl HandlerError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
}

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    cache: Mutex<HashMap<u64, String>>,
    cache_ratio: Ratio,
    catalog: Vec<String>,
    requests: Mutex<HashMap<(&'static str, u16), Counter>>,
}

impl AppState {
    pub(crate) fn new() -> Result<Self, monitor::MonitorError> {
        let adjectives = ["red", "fast", "quiet", "small", "steel", "smart", "green", "heavy"];
        let nouns = ["kettle", "router", "lamp", "chair", "drill", "camera", "bottle", "desk"];
        let catalog = (0..CATALOG)
            .map(|i| {
                format!(
                    "{} {} model {}",
                    adjectives[i % adjectives.len()],
                    nouns[(i / adjectives.len()) % nouns.len()],
                    i * 37 % 1000
                )
            })
            .collect();
        Ok(Self {
            cache: Mutex::new(HashMap::new()),
            cache_ratio: monitor::ratio(
                "service_cache",
                "Item lookups the example service's cache answered.",
                &[("cache", "items")],
            )?,
            catalog,
            requests: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a request by route and status (`service_requests_total`).
    pub(crate) fn count(&self, route: &'static str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = map.get(&(route, status)) {
            c.inc();
            return;
        }
        let code = status.to_string();
        if let Ok(c) = monitor::counter(
            "service_requests",
            "Requests the example service answered, by route and status.",
            &[("route", route), ("status", &code)],
        ) {
            c.inc();
            map.insert((route, status), c);
        }
    }
}

/// A cheap deterministic mix (splitmix64's finaliser).
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn burn(seed: u64, rounds: u64) -> u64 {
    (0..rounds).fold(seed, |a, b| mix(a ^ b))
}

/// The slow store behind the cache: ~1 ms, mostly waiting (as a database round trip does).
#[profile]
fn db_lookup(id: u64) -> String {
    let h = burn(id, 2_000);
    std::thread::sleep(Duration::from_micros(800));
    format!(
        "{{\"id\":{id},\"name\":\"item {id}\",\"price_cents\":{},\"stock\":{}}}",
        h % 10_000,
        h % 97
    )
}

/// `GET /items/{id}`: the cache, then the store.
#[profile]
fn get_item(id: &str, state: &AppState) -> Result<String, HandlerError> {
    let id: u64 = id.parse().map_err(|_| HandlerError::new(400, format!("bad item id {id:?}")))?;
    let cached = state.cache.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned();
    if let Some(item) = cached {
        state.cache_ratio.hit();
        return Ok(item);
    }
    state.cache_ratio.miss();
    let item = db_lookup(id);
    let mut cache = state.cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(id, item.clone());
    Ok(item)
}

/// Bigrams of `s`, lowercased ASCII.
fn bigrams(s: &str) -> Vec<[u8; 2]> {
    let b: Vec<u8> = s.bytes().map(|c| c.to_ascii_lowercase()).collect();
    b.windows(2).map(|w| [w[0], w[1]]).collect()
}

/// `GET /search?q=…`: scores every product name by shared bigrams, answers the top 10.
#[profile]
fn search(q: &str, state: &AppState) -> Result<String, HandlerError> {
    if q.is_empty() || q.len() > 200 {
        return Err(HandlerError::new(400, "q must hold 1 to 200 bytes"));
    }
    let query = bigrams(&q.replace('+', " "));
    let mut scored: Vec<(usize, &str)> = state
        .catalog
        .iter()
        .map(|name| {
            let grams = bigrams(name);
            (query.iter().filter(|g| grams.contains(g)).count(), name.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let hits: Vec<String> = scored
        .iter()
        .take(10)
        .map(|(s, n)| format!("{{\"name\":\"{n}\",\"score\":{s}}}"))
        .collect();
    Ok(format!("{{\"results\":[{}]}}", hits.join(",")))
}

/// `GET /checkout?order=N`: ~0.3 ms of payment; one order in 20 (by a hash of N) is declined
/// with a 500, which perfcore counts as a failed call.
#[profile]
fn checkout(order: &str) -> Result<String, HandlerError> {
    let order: u64 =
        order.parse().map_err(|_| HandlerError::new(400, format!("bad order {order:?}")))?;
    let h = burn(order, 500);
    std::thread::sleep(Duration::from_micros(300));
    if checkout_fails(order) {
        return Err(HandlerError::new(500, format!("payment for order {order} declined")));
    }
    Ok(format!("{{\"order\":{order},\"confirmation\":\"{h:016x}\"}}"))
}

/// `GET /healthz`.
#[profile]
fn healthz() -> Result<&'static str, HandlerError> {
    Ok("ok")
}

/// Whether `checkout(order)` fails (for tests and for the driver's expectations).
#[must_use]
pub(crate) fn checkout_fails(order: u64) -> bool {
    mix(order).is_multiple_of(CHECKOUT_FAILS_ONE_IN)
}

/// Routes a request to its handler; returns the route's name (for the request counter), the
/// status and the body. The handler's profiled scope has ended when this returns.
pub(crate) fn route(req: &Request, state: &AppState) -> (&'static str, u16, String) {
    let path = req.path();
    let route = if path.starts_with("/items/") {
        "items"
    } else if path == "/search" {
        "search"
    } else if path == "/checkout" || path == "/orders" {
        "checkout"
    } else if path == "/healthz" {
        "healthz"
    } else {
        return ("unknown", 404, format!("{{\"error\":\"no route {path}\"}}"));
    };
    if req.method != "GET" && !(route == "checkout" && req.method == "POST") {
        return (route, 405, "{\"error\":\"method not allowed\"}".to_owned());
    }
    let result = match route {
        "items" => get_item(path.trim_start_matches("/items/"), state),
        "search" => search(req.param("q").unwrap_or(""), state),
        "checkout" => checkout(req.param("order").unwrap_or("")),
        _ => healthz().map(str::to_owned),
    };
    match result {
        Ok(body) => (route, 200, body),
        Err(e) => (route, e.status, format!("{{\"error\":\"{}\"}}", e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkout_fails_for_about_one_order_in_twenty() {
        let fails = (0..10_000u64).filter(|&o| checkout_fails(o)).count();
        assert!((400..600).contains(&fails), "{fails}");
    }

    #[test]
    fn search_ranks_the_matching_name_first() {
        let state = AppState::new().unwrap();
        let body = search("steel drill", &state).unwrap();
        assert!(body.starts_with("{\"results\":[{\"name\":\"steel drill"), "{body}");
        assert_eq!(search("", &state).unwrap_err().status, 400);
    }
}
