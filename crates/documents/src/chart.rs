//! Charts as SVG, drawn by `plotters` on the server: no script in the browser, and each chart
//! carries its own text alternative (`<title>` and `<desc>`) for screen readers. Pages show
//! the same numbers as a table next to the chart.

use plotters::prelude::*;

/// A chart: categories along the bottom and one or more named series of values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chart {
    /// Shown above the chart and read out as its title.
    pub title: String,
    /// The text alternative: what the chart shows, in words.
    pub description: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// The unit of the values, e.g. "hồ sơ" or "%", written beside the axis.
    pub unit: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub name: String,
    /// One value per category.
    pub values: Vec<f64>,
}

/// Colours told apart by people with the common colour-vision deficiencies (Okabe–Ito).
const PALETTE: [RGBColor; 5] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
];

#[derive(Debug, thiserror::Error)]
#[error("the chart could not be drawn: {0}")]
pub struct ChartError(String);

fn failed(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// Draws the series as lines with a marker at each category (trends over months).
pub fn line_chart_svg(chart: &Chart) -> Result<String, ChartError> {
    draw(chart, |area, chart, top| {
        let mut grid = axes(area, chart, top)?;
        mesh(&mut grid, chart, top)?;
        for (s, colour) in chart.series.iter().zip(PALETTE.iter().cycle()) {
            let points: Vec<(f64, f64)> = s
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, *v))
                .collect();
            let style = colour.stroke_width(3);
            grid.draw_series(LineSeries::new(points.clone(), style))
                .map_err(failed)?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            grid.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, colour.filled())),
            )
            .map_err(failed)?;
        }
        legend(&mut grid)
    })
}

/// Draws the series as groups of bars, one group per category (figures per agency).
pub fn bar_chart_svg(chart: &Chart) -> Result<String, ChartError> {
    draw(chart, |area, chart, top| {
        let mut grid = axes(area, chart, top)?;
        mesh(&mut grid, chart, top)?;
        let width = 0.8 / chart.series.len().max(1) as f64;
        for (k, (s, colour)) in chart.series.iter().zip(PALETTE.iter().cycle()).enumerate() {
            let style = colour.filled();
            grid.draw_series(s.values.iter().enumerate().map(|(i, v)| {
                let left = i as f64 - 0.4 + k as f64 * width;
                Rectangle::new([(left, 0.0), (left + width, *v)], style)
            }))
            .map_err(failed)?
            .label(s.name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], style));
        }
        legend(&mut grid)
    })
}

type Grid<'a> = ChartContext<
    'a,
    SVGBackend<'a>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The chart's frame: its caption space, axes and value range (categories at 0, 1, 2, …;
/// values from zero to a bit above the largest, so the top point is not on the edge).
fn axes<'a>(
    area: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    chart: &Chart,
    top: f64,
) -> Result<Grid<'a>, ChartError> {
    let n = chart.categories.len().max(1) as f64;
    ChartBuilder::on(area)
        .margin(12)
        .caption(chart.title.as_str(), ("sans-serif", 20))
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)
        .map_err(failed)
}

/// The axes with a label under each category, and none between them.
fn mesh(grid: &mut Grid<'_>, chart: &Chart, top: f64) -> Result<(), ChartError> {
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 {
            chart
                .categories
                .get(i as usize)
                .cloned()
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    // Counts are whole numbers: labels only at whole values, and no more lines than there are
    // whole values (a chart of ones had six lines labelled 0, 0, 0, 1, 1, 1).
    let value = |v: &f64| {
        if (v - v.round()).abs() < 1e-6 {
            format!("{v:.0}")
        } else {
            String::new()
        }
    };
    let lines = (top.floor() as usize + 1).clamp(2, 10);
    grid.configure_mesh()
        .disable_x_mesh()
        .x_labels(chart.categories.len().clamp(1, 24))
        .x_label_formatter(&label)
        .y_labels(lines)
        .y_label_formatter(&value)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 14))
        .y_desc(chart.unit.as_str())
        .draw()
        .map_err(failed)
}

fn legend(grid: &mut Grid<'_>) -> Result<(), ChartError> {
    grid.configure_series_labels()
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(failed)
}

/// Renders with `plot` on a white 760 × 320 canvas and adds the text alternative.
fn draw(
    chart: &Chart,
    plot: impl FnOnce(
        &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        &Chart,
        f64,
    ) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let largest = chart
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let top = if largest > 0.0 { largest * 1.15 } else { 1.0 };
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        area.fill(&WHITE).map_err(failed)?;
        plot(&area, chart, top)?;
        area.present().map_err(failed)?;
    }
    Ok(with_text_alternative(&svg, chart))
}

/// Puts `role="img"`, a `<title>` and a `<desc>` at the start of the SVG.
fn with_text_alternative(svg: &str, chart: &Chart) -> String {
    let Some(end) = svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e))
    else {
        return svg.to_string();
    };
    format!(
        "{} role=\"img\" aria-label=\"{}\"><title>{}</title><desc>{}</desc>{}",
        &svg[..end],
        escape(&chart.title),
        escape(&chart.title),
        escape(&chart.description),
        &svg[end + 1..]
    )
}

/// Text for SVG or HTML, with its markup characters as entities.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn months() -> Chart {
        Chart {
            title: "Hồ sơ theo tháng".into(),
            description: "Tiếp nhận 12 và 30; giải quyết 10 và 25 <tháng>".into(),
            categories: vec!["2026-10".into(), "2026-11".into()],
            series: vec![
                Series {
                    name: "Tiếp nhận".into(),
                    values: vec![12.0, 30.0],
                },
                Series {
                    name: "Giải quyết".into(),
                    values: vec![10.0, 25.0],
                },
            ],
            unit: "hồ sơ".into(),
        }
    }

    #[test]
    fn a_line_chart_is_an_svg_with_its_text_alternative_and_labels() {
        let svg = line_chart_svg(&months()).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title>Hồ sơ theo tháng</title>"));
        assert!(svg.contains("<desc>Tiếp nhận 12 và 30; giải quyết 10 và 25 &lt;tháng&gt;</desc>"));
        // plotters writes each text on a line of its own.
        let has_text = |t: &str| svg.contains(&format!("\n{t}\n</text>"));
        assert!(has_text("2026-11"), "category labels on the axis");
        assert!(has_text("Giải quyết"), "series names in the legend");
        assert_eq!(svg.matches("<circle").count(), 4, "a marker per point");
    }

    #[test]
    fn a_bar_chart_draws_a_bar_per_value_and_survives_no_data() {
        let svg = bar_chart_svg(&months()).unwrap();
        // Two bars per series, plus the white background and the legend swatches.
        assert!(svg.matches("<rect").count() >= 4);
        let empty = Chart {
            title: "Trống".into(),
            ..Chart::default()
        };
        assert!(
            bar_chart_svg(&empty)
                .unwrap()
                .contains("<title>Trống</title>")
        );
        assert!(line_chart_svg(&empty).unwrap().contains("<desc></desc>"));
    }
}
