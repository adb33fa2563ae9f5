//! Rendering: the whole screen from an [`App`], laid out from the frame's size on every
//! draw, onto any ratatui backend (the real terminal, or `TestBackend` in tests).

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Cell, Clear, Paragraph, Row as TableRow, Sparkline, Table, Wrap,
};

use super::app::{App, Row, Sort};
use super::format;
use crate::stats::{FunctionStats, Snapshot};

/// The smallest frame the dashboard lays out; below it, one line says so.
pub(crate) const MIN_WIDTH: u16 = 60;
/// See [`MIN_WIDTH`].
pub(crate) const MIN_HEIGHT: u16 = 12;

const ACCENT: Color = Color::Cyan;

/// Draws the dashboard: header, CPU and memory sparklines, alerts, the function table,
/// the key line, and the detail or help popup when open. Frames smaller than 60x12 get a
/// "terminal too small" line instead.
///
/// # Examples
/// ```
/// use ratatui::{Terminal, backend::TestBackend};
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("checkout")?; }
/// let app = perfcore::top::App::from_snapshot("run.json", p.snapshot());
/// let mut terminal = Terminal::new(TestBackend::new(100, 20))?;
/// terminal.draw(|frame| perfcore::top::draw(frame, &app))?;
/// let text: String = terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect();
/// assert!(text.contains("checkout"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: {}x{}, perfcore top needs {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let system_height = if app.cpu.is_empty() && app.memory.is_empty() { 1 } else { 4 };
    let alert_height = app.alerts.len().clamp(1, 3) as u16;
    let [header, system, alerts, table, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(system_height),
        Constraint::Length(alert_height),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, header);
    draw_system(frame, app, system);
    draw_alerts(frame, app, alerts);
    draw_table(frame, app, table);
    draw_footer(frame, app, footer);
    if app.help {
        draw_help(frame, area);
    } else if app.detail
        && let Some(&index) = app.order.get(app.selected)
    {
        draw_detail(frame, &app.snapshot, index, area);
    }
}

fn draw_header(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let mode = match (app.live, app.paused) {
        (_, true) => Span::styled(" PAUSED ", Style::new().fg(Color::Black).bg(Color::Yellow)),
        (true, false) => Span::styled(" LIVE ", Style::new().fg(Color::Black).bg(Color::Green)),
        (false, false) => Span::styled(" SNAPSHOT ", Style::new().fg(Color::Black).bg(ACCENT)),
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let arrow = if app.reverse { "▲" } else { "▼" };
    let filter =
        if app.filter.is_empty() { "none".to_owned() } else { format!("\"{}\"", app.filter) };
    let first = Line::from(vec![
        Span::styled("perfcore top ", bold.fg(ACCENT)),
        mode,
        Span::raw("  sort "),
        Span::styled(format!("{}{arrow}", app.sort.as_str()), bold),
        Span::raw(format!("  filter {filter}")),
        Span::raw(format!(
            "  {} functions ({} shown)",
            app.snapshot.functions.len(),
            app.order.len()
        )),
        Span::raw(format!("  window {}", format::window(app.snapshot.window()))),
        Span::raw(format!("  {}", app.source)),
    ]);
    let second = match &app.status {
        Some(status) => {
            Line::styled(status.clone(), Style::new().fg(Color::Red).add_modifier(Modifier::BOLD))
        }
        None => {
            let over = match (app.live, app.rate_window) {
                (_, None) => "rates: waiting for a second refresh".to_owned(),
                (true, Some(w)) if app.updates > 1 => {
                    format!("rates over the last {}", format::window(w))
                }
                (_, Some(w)) => format!("rates over the window, {}", format::window(w)),
            };
            let quantiles = match (app.live, app.quantile_span) {
                (false, _) => String::new(),
                (true, None) => "  ·  quantiles: waiting for a second refresh".to_owned(),
                (true, Some(w)) => format!("  ·  quantiles over the last {}", format::window(w)),
            };
            Line::styled(
                format!(
                    "{over}{quantiles}  ·  {} calls  ·  refresh #{}",
                    format::count(app.snapshot.total_calls()),
                    app.updates
                ),
                Style::new().fg(Color::DarkGray),
            )
        }
    };
    frame.render_widget(Paragraph::new(vec![first, second]), area);
}

fn draw_system(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if app.cpu.is_empty() && app.memory.is_empty() {
        let why = if app.live {
            "no system data (the endpoint exports none)"
        } else {
            "no system data (a snapshot file)"
        };
        frame.render_widget(Paragraph::new(why).style(Style::new().fg(Color::DarkGray)), area);
        return;
    }
    let [cpu_area, mem_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let cpu_title = match app.cpu.back() {
        Some(&v) => format!(" CPU {} ", format::percent(v)),
        None => " CPU: no data ".to_owned(),
    };
    let mem_title = match (app.memory.back(), app.memory_bytes) {
        (Some(&v), Some((used, total))) => {
            format!(
                " memory {} ({} of {}; scale 0 to its top) ",
                format::percent(v),
                format::bytes(used),
                format::bytes(total)
            )
        }
        _ => " memory: no data ".to_owned(),
    };
    sparkline(frame, cpu_area, cpu_title, &app.cpu, Color::Green, true);
    sparkline(frame, mem_area, mem_title, &app.memory, Color::Magenta, false);
}

fn sparkline(
    frame: &mut Frame<'_>,
    area: Rect,
    title: String,
    history: &std::collections::VecDeque<f64>,
    color: Color,
    whole_scale: bool,
) {
    let block = Block::bordered().title(title).border_style(Style::new().fg(Color::DarkGray));
    let width = usize::from(block.inner(area).width);
    let skip = history.len().saturating_sub(width);
    let data: Vec<u64> = history.iter().skip(skip).map(|v| (v * 1000.0).round() as u64).collect();
    // CPU on its whole 0–100% scale; memory, which moves by a few percent, scaled to the
    // highest point shown, so that growth (a leak) shows as a rising line.
    let max = if whole_scale { 1000 } else { data.iter().copied().max().unwrap_or(1).max(1) };
    frame.render_widget(
        Sparkline::default().block(block).data(data).max(max).style(Style::new().fg(color)),
        area,
    );
}

fn draw_alerts(frame: &mut Frame<'_>, app: &App, area: Rect) {
    if app.alerts.is_empty() {
        frame.render_widget(
            Paragraph::new("alerts: none").style(Style::new().fg(Color::DarkGray)),
            area,
        );
        return;
    }
    let shown = usize::from(area.height);
    let lines: Vec<Line<'_>> = app
        .alerts
        .iter()
        .take(shown)
        .enumerate()
        .map(|(i, a)| {
            let color = if a.state == "firing" { Color::Red } else { Color::Yellow };
            let mut spans = vec![
                Span::styled(
                    format!(" {} ", a.state.to_uppercase()),
                    Style::new().fg(Color::Black).bg(color),
                ),
                Span::styled(format!(" {} ", a.severity), Style::new().fg(color)),
                Span::styled(a.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(format!(" {}", a.labels)),
            ];
            if i + 1 == shown && app.alerts.len() > shown {
                spans.push(Span::raw(format!("  (+{} more)", app.alerts.len() - shown)));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// The table's numeric columns: title, width (enough for every value `format` writes and
/// the title with its sort arrow), and the sort key it shows (if any).
const COLUMNS: [(&str, u16, Option<Sort>); 11] = [
    ("calls/s", 8, Some(Sort::Calls)),
    ("calls", 6, None),
    ("err/s", 6, Some(Sort::Errors)),
    ("errors", 6, None),
    ("err%", 6, None),
    ("self%", 6, Some(Sort::SelfTime)),
    ("total", 6, Some(Sort::Total)),
    ("p50", 6, None),
    ("p95", 6, Some(Sort::P95)),
    ("p99", 6, Some(Sort::P99)),
    ("max", 6, None),
];

/// Which columns go first when the terminal is too narrow for all (indices into
/// [`COLUMNS`]): rates, tail latencies and self share before the rest.
const PRIORITY: [usize; 11] = [0, 8, 9, 5, 2, 4, 7, 1, 10, 6, 3];

/// The name column's least width.
const NAME_WIDTH: u16 = 16;

/// The columns shown in `width`, in table order: the sorted one always, then by
/// [`PRIORITY`] while they fit (a value is never cut).
pub(crate) fn columns_for(width: u16, sort: Sort) -> Vec<usize> {
    let mut left = width.saturating_sub(NAME_WIDTH);
    let mut shown = Vec::with_capacity(COLUMNS.len());
    let sorted = COLUMNS.iter().position(|c| c.2 == Some(sort));
    for i in sorted.into_iter().chain(PRIORITY) {
        let cost = COLUMNS[i].1 + 1;
        if !shown.contains(&i) && cost <= left {
            left -= cost;
            shown.push(i);
        }
    }
    shown.sort_unstable();
    shown
}

fn cell<'a>(column: usize, f: &'a FunctionStats, r: &Row, q: Option<[u64; 4]>) -> Cell<'a> {
    let quantile = |k: usize| q.map_or_else(|| "-".to_owned(), |q| format::duration_ns(q[k]));
    let text = match column {
        0 => format::rate(r.calls_per_sec),
        1 => format::count(f.count),
        2 => format::rate(r.errors_per_sec),
        3 => format::count(f.errors),
        4 => format::percent(r.error_ratio),
        5 => format::percent(r.self_share),
        6 => format::duration_ns(f.total_ns),
        7 => quantile(0),
        8 => quantile(1),
        9 => quantile(2),
        _ => quantile(3),
    };
    let cell = Cell::from(Line::from(text).alignment(Alignment::Right));
    if (2..=4).contains(&column) && f.errors > 0 {
        cell.style(Style::new().fg(Color::Red))
    } else {
        cell
    }
}

fn draw_table(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let page = usize::from(area.height.saturating_sub(1)).max(1);
    app.page.set(page);
    // Keep the selection in view, moving the window as little as possible.
    let mut offset = app.offset.get();
    if app.selected < offset {
        offset = app.selected;
    } else if app.selected >= offset + page {
        offset = app.selected + 1 - page;
    }
    offset = offset.min(app.order.len().saturating_sub(page));
    app.offset.set(offset);

    let shown = columns_for(area.width, app.sort);
    let arrow = if app.reverse { "▲" } else { "▼" };
    let header =
        TableRow::new(std::iter::once(Cell::from("function")).chain(shown.iter().map(|&c| {
            let (title, _, key) = COLUMNS[c];
            let title =
                if key == Some(app.sort) { format!("{title}{arrow}") } else { title.to_owned() };
            Cell::from(Line::from(title).alignment(Alignment::Right))
        })))
        .style(Style::new().fg(Color::Black).bg(ACCENT).add_modifier(Modifier::BOLD));
    let rows = app.order.iter().enumerate().skip(offset).take(page).map(|(pos, &i)| {
        let f = &app.snapshot.functions[i];
        let r = &app.rows[i];
        let cells = std::iter::once(Cell::from(f.name.as_str()))
            .chain(shown.iter().map(|&c| cell(c, f, r, app.quantiles(i))));
        let row = TableRow::new(cells);
        if pos == app.selected {
            row.style(Style::new().fg(Color::Black).bg(Color::White).add_modifier(Modifier::BOLD))
        } else {
            row
        }
    });
    let widths = std::iter::once(Constraint::Min(NAME_WIDTH))
        .chain(shown.iter().map(|&c| Constraint::Length(COLUMNS[c].1)));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    if app.order.is_empty() {
        let [head, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        frame.render_widget(table, head);
        let why = if app.snapshot.functions.is_empty() {
            if app.updates == 0 {
                "waiting for the first refresh…"
            } else {
                "no functions recorded yet"
            }
        } else {
            "no function matches the filter (/ then Esc clears it)"
        };
        frame.render_widget(Paragraph::new(why).style(Style::new().fg(Color::DarkGray)), body);
    } else {
        frame.render_widget(table, area);
    }
}

fn draw_footer(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let line = match &app.input {
        Some(input) => Line::from(vec![
            Span::styled("filter: ", Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)),
            Span::raw(format!("{input}_")),
            Span::styled("   Enter applies, Esc clears", Style::new().fg(Color::DarkGray)),
        ]),
        None => Line::styled(
            "q quit  s/1-6 sort  r reverse  / filter  ↑↓ move  Enter detail  p pause  ? help",
            Style::new().fg(Color::DarkGray),
        ),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// A rectangle of `percent_x` by `percent_y` of `area`, centred.
fn centred(area: Rect, percent_x: u16, percent_y: u16) -> Rect {
    let [_, middle, _] = Layout::vertical([
        Constraint::Percentage((100 - percent_y) / 2),
        Constraint::Percentage(percent_y),
        Constraint::Percentage((100 - percent_y) / 2),
    ])
    .areas(area);
    let [_, centre, _] = Layout::horizontal([
        Constraint::Percentage((100 - percent_x) / 2),
        Constraint::Percentage(percent_x),
        Constraint::Percentage((100 - percent_x) / 2),
    ])
    .areas(middle);
    centre
}

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let popup = centred(area, 70, 80);
    frame.render_widget(Clear, popup);
    let keys = [
        ("q", "quit"),
        ("Esc", "close the detail or help; else quit"),
        ("s / 1..6", "cycle the sort / sort by self, p95, p99, calls, errors, total"),
        ("r", "reverse the order"),
        ("/", "filter by name or module (Enter applies, Esc clears)"),
        ("↑↓ j k", "move the selection"),
        ("PgUp PgDn Home End g G", "move by a page, to the top or bottom"),
        ("Enter", "the selected function: histogram, callers, callees"),
        ("p, space", "pause (stop fetching; the display freezes)"),
        ("?", "this help (any key closes it)"),
    ];
    let lines: Vec<Line<'_>> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{k:>22}  "),
                    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(" keys ")),
        popup,
    );
}

fn draw_detail(frame: &mut Frame<'_>, snapshot: &Snapshot, index: usize, area: Rect) {
    let f = &snapshot.functions[index];
    let popup = centred(area, 94, 90);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Line::styled(format!(" {} ", f.name), Style::new().add_modifier(Modifier::BOLD)))
        .title_bottom(" Esc or Enter closes ")
        .border_style(Style::new().fg(ACCENT));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // The histogram gets up to 45% of the popup, at most 16 lines; the callers the rest.
    let histogram_height = (inner.height.saturating_sub(2) * 45 / 100).clamp(3, 16);
    let [summary, histogram, links] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(histogram_height),
        Constraint::Min(3),
    ])
    .areas(inner);
    let place = if f.module_path.is_empty() {
        String::new()
    } else if f.file.is_empty() {
        format!("{}  ", f.module_path)
    } else {
        format!("{}  {}:{}  ", f.module_path, f.file, f.line)
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "{place}calls {}  errors {} ({})  mean {}  min {}",
                format::count(f.count),
                format::count(f.errors),
                format::percent(f.error_rate()),
                format::duration_ns(f.mean_ns.round() as u64),
                format::duration_ns(f.min_ns),
            )),
            Line::from(format!(
                "p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}  self {}  total {}",
                format::duration_ns(f.p50_ns),
                format::duration_ns(f.p90_ns),
                format::duration_ns(f.p95_ns),
                format::duration_ns(f.p99_ns),
                format::duration_ns(f.p999_ns),
                format::duration_ns(f.max_ns),
                format::duration_ns(f.self_ns),
                format::duration_ns(f.total_ns),
            )),
        ]),
        summary,
    );
    draw_histogram(frame, f, histogram);
    let [callers, callees] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(links);
    let (up, down) = neighbours(snapshot, index);
    draw_links(frame, snapshot, " callers ", &up, callers);
    draw_links(frame, snapshot, " callees ", &down, callees);
}

const BAR_WIDTH: u16 = 5;

/// The latency histogram as bars over a 1-2-5 series of bounds (`1µs`, `2µs`, `5µs`,
/// `10µs`, ...), coarsened to decades, then to groups of decades, until it fits.
fn draw_histogram(frame: &mut Frame<'_>, f: &FunctionStats, area: Rect) {
    let block = Block::bordered()
        .title(" latency histogram since the start (calls per bucket, lower bound) ");
    let inner = block.inner(area);
    let max_bars = usize::from(inner.width / (BAR_WIDTH + 1)).max(1);
    let bins = histogram_bins(f, max_bars);
    let bars: Vec<Bar<'_>> = bins
        .iter()
        .map(|&(lower, n)| {
            Bar::default().value(n).text_value(format::count(n)).label(Line::from(bound(lower)))
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .block(block)
            .data(BarGroup::default().bars(&bars))
            .bar_width(BAR_WIDTH)
            .bar_gap(1)
            .bar_style(Style::new().fg(ACCENT))
            .value_style(Style::new().fg(Color::Black).bg(ACCENT)),
        area,
    );
}

/// A bound of the 1-2-5 series, whole in its unit: `200ns`, `5µs`, `100ms`, `2s`.
fn bound(ns: u64) -> String {
    match ns {
        ..1_000 => format!("{ns}ns"),
        1_000..1_000_000 => format!("{}µs", ns / 1_000),
        1_000_000..1_000_000_000 => format!("{}ms", ns / 1_000_000),
        _ => format!("{}s", ns / 1_000_000_000),
    }
}

/// `(lower bound ns, calls)` per bar, at most `max_bars` of them, spanning the non-empty
/// buckets (empty bars in between kept, so the shape reads right).
pub(crate) fn histogram_bins(f: &FunctionStats, max_bars: usize) -> Vec<(u64, u64)> {
    // Bounds of the 1-2-5 series, 1 ns to the histogram's hour and beyond.
    let mut bounds = Vec::with_capacity(40);
    let mut decade = 1u64;
    while let Some(next) = decade.checked_mul(10) {
        bounds.extend([decade, decade * 2, decade * 5]);
        if decade > 10_000_000_000_000 {
            break;
        }
        decade = next;
    }
    let bin_of = |v: u64| bounds.partition_point(|&b| b <= v).saturating_sub(1);
    let mut counts = vec![0u64; bounds.len()];
    for (lower, n) in f.histogram.buckets() {
        // A bucket counts at its midpoint, the value the histogram reports its calls as.
        let value = crate::stats::histogram::midpoint(crate::stats::histogram::bucket_index(lower));
        counts[bin_of(value)] += n;
    }
    let (Some(first), Some(last)) =
        (counts.iter().position(|&n| n > 0), counts.iter().rposition(|&n| n > 0))
    else {
        return Vec::new();
    };
    let mut bins: Vec<(u64, u64)> = (first..=last).map(|i| (bounds[i], counts[i])).collect();
    if bins.len() > max_bars {
        // Decades: bins 3k, 3k+1, 3k+2 together.
        let (lo, hi) = (first / 3 * 3, last / 3 * 3 + 2);
        bins = (lo..=hi).step_by(3).map(|i| (bounds[i], counts[i..i + 3].iter().sum())).collect();
    }
    if bins.len() > max_bars {
        let per = bins.len().div_ceil(max_bars);
        bins = bins.chunks(per).map(|c| (c[0].0, c.iter().map(|&(_, n)| n).sum())).collect();
    }
    bins
}

/// A caller or callee: the function's index (`None` for a thread's root), calls, wall time ns.
pub(crate) type Link = (Option<usize>, u64, u64);

/// The function's callers and callees from the call tree: `(function index or None for a
/// thread's root, calls, wall time ns)`, most calls first.
pub(crate) fn neighbours(snapshot: &Snapshot, index: usize) -> (Vec<Link>, Vec<Link>) {
    let tree = &snapshot.call_tree;
    let mut callers: HashMap<Option<usize>, (u64, u64)> = HashMap::new();
    let mut callees: HashMap<Option<usize>, (u64, u64)> = HashMap::new();
    for node in tree {
        if node.function == index {
            let caller = node.parent.and_then(|p| tree.get(p)).map(|p| p.function);
            let e = callers.entry(caller).or_default();
            e.0 += node.count;
            e.1 += node.total_ns;
        }
        if let Some(parent) = node.parent.and_then(|p| tree.get(p))
            && parent.function == index
        {
            let e = callees.entry(Some(node.function)).or_default();
            e.0 += node.count;
            e.1 += node.total_ns;
        }
    }
    let sorted = |m: HashMap<Option<usize>, (u64, u64)>| {
        let mut v: Vec<_> = m.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        v
    };
    (sorted(callers), sorted(callees))
}

fn draw_links(frame: &mut Frame<'_>, snapshot: &Snapshot, title: &str, links: &[Link], area: Rect) {
    let block = Block::bordered().title(title.to_owned());
    if links.is_empty() {
        frame.render_widget(
            Paragraph::new("none in the call tree")
                .style(Style::new().fg(Color::DarkGray))
                .block(block),
            area,
        );
        return;
    }
    let right = |s: String| Cell::from(Line::from(s).alignment(Alignment::Right));
    let rows = links.iter().map(|&(f, n, t)| {
        let name =
            f.and_then(|i| snapshot.functions.get(i)).map_or("(thread root)", |f| f.name.as_str());
        TableRow::new(vec![
            Cell::from(name),
            right(format::count(n)),
            right(format::duration_ns(t)),
        ])
    });
    let header = TableRow::new(vec![
        Cell::from("function"),
        right("calls".to_owned()),
        right("time".to_owned()),
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    frame.render_widget(
        Table::new(rows, [Constraint::Min(8), Constraint::Length(7), Constraint::Length(7)])
            .header(header)
            .block(block),
        area,
    );
}
