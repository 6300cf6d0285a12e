//! Small SVG charts drawn on the server: one value per day, as bars (money)
//! or a line (percentages). No script, no external library; every label is
//! escaped here, and the template inserts the finished SVG as it is.

use std::fmt::Write;

use chrono::NaiveDate;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
const GRID_LINES: u32 = 4;

/// How a chart draws its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Bars,
    Line,
}

/// What the values are, for labels.
#[derive(Debug, Clone)]
pub(crate) enum Unit {
    Money(&'static str),
    Percent,
}

impl Unit {
    fn format(&self, value: f64) -> String {
        match self {
            Unit::Money(currency) => format!("{value:.2} {currency}"),
            Unit::Percent => format!("{value:.1}%"),
        }
    }

    fn axis(&self, value: f64) -> String {
        match self {
            Unit::Percent => format!("{value:.0}%"),
            Unit::Money(_) if value >= 1_000_000.0 => format!("{:.1}M", value / 1_000_000.0),
            Unit::Money(_) if value >= 10_000.0 => format!("{:.0}k", value / 1000.0),
            Unit::Money(_) if value >= 1000.0 => format!("{:.1}k", value / 1000.0),
            Unit::Money(_) => format!("{value:.0}"),
        }
    }
}

/// One chart: a title for screen readers and tooltips, a summary line, and
/// one value per day (`None`: no data that day).
#[derive(Debug)]
pub(crate) struct Chart<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub unit: Unit,
    pub style: Style,
    pub days: &'a [NaiveDate],
    pub values: &'a [Option<f64>],
}

/// Whether there is anything to draw.
pub(crate) fn has_data(values: &[Option<f64>]) -> bool {
    values.iter().any(Option::is_some)
}

/// Escapes text for SVG (XML) content and attributes.
pub(crate) fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round number at or above `max` (1, 2, 2.5 or 5 times a power of ten).
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|step| step * power)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * power)
}

impl Chart<'_> {
    pub(crate) fn svg(&self) -> String {
        let n = self.values.len().max(1);
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let max = nice_ceiling(self.values.iter().flatten().copied().fold(0.0, f64::max));
        let slot = plot_w / n as f64;
        let x_mid = |i: usize| LEFT + slot * (i as f64 + 0.5);
        let y = |v: f64| TOP + plot_h - (v.max(0.0) / max) * plot_h;
        let id = escape(self.id);
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = write!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
            escape(self.title),
            escape(self.summary)
        );
        for step in 0..=GRID_LINES {
            let value = max * f64::from(step) / f64::from(GRID_LINES);
            let gy = y(value);
            let _ = write!(
                s,
                r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{gy:.1}" y2="{gy:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                WIDTH - RIGHT,
                LEFT - 6.0,
                gy + 4.0,
                escape(&self.unit.axis(value))
            );
        }
        for (i, day) in self.days.iter().enumerate() {
            // Weekly, counted back from the newest day so the last one is always labelled.
            if (self.days.len() - 1 - i).is_multiple_of(7) {
                let _ = write!(
                    s,
                    r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
                    x_mid(i),
                    HEIGHT - 8.0,
                    day.format("%m-%d")
                );
            }
        }
        let tip = |i: usize, v: f64| {
            let day = self.days.get(i).map(|d| d.to_string()).unwrap_or_default();
            escape(&format!("{day}: {}", self.unit.format(v)))
        };
        match self.style {
            Style::Bars => {
                let width = slot * 0.7;
                for (i, v) in self.values.iter().enumerate() {
                    if let Some(v) = v {
                        let top = y(*v);
                        let _ = write!(
                            s,
                            r#"<rect class="bar" x="{:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}"><title>{}</title></rect>"#,
                            x_mid(i) - width / 2.0,
                            (TOP + plot_h - top).max(0.0),
                            tip(i, *v)
                        );
                    }
                }
            }
            Style::Line => {
                // A day without data breaks the line rather than drawing through zero.
                let mut segment: Vec<String> = Vec::new();
                let flush = |segment: &mut Vec<String>, s: &mut String| {
                    if segment.len() > 1 {
                        let _ = write!(s, r#"<polyline class="line" points="{}"/>"#, segment.join(" "));
                    }
                    segment.clear();
                };
                for (i, v) in self.values.iter().enumerate() {
                    match v {
                        Some(v) => segment.push(format!("{:.1},{:.1}", x_mid(i), y(*v))),
                        None => flush(&mut segment, &mut s),
                    }
                }
                flush(&mut segment, &mut s);
                for (i, v) in self.values.iter().enumerate() {
                    if let Some(v) = v {
                        let _ = write!(
                            s,
                            r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="3"><title>{}</title></circle>"#,
                            x_mid(i),
                            y(*v),
                            tip(i, *v)
                        );
                    }
                }
            }
        }
        s.push_str("</svg>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(180.0), 200.0);
        assert_eq!(nice_ceiling(2100.0), 2500.0);
    }

    #[test]
    fn labels_are_escaped_and_missing_days_draw_nothing() {
        let days: Vec<NaiveDate> = (1..=3)
            .map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap())
            .collect();
        let chart = Chart {
            id: "c",
            title: "<Sales & \"more\">",
            summary: "s",
            unit: Unit::Money("USD"),
            style: Style::Bars,
            days: &days,
            values: &[Some(10.0), None, Some(5.0)],
        };
        let svg = chart.svg();
        assert!(svg.contains("&lt;Sales &amp; &quot;more&quot;&gt;"));
        assert!(!svg.contains("<Sales"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("2026-11-01: 10.00 USD"));
    }
}
