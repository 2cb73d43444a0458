//! A small bar chart of on-time rates as a PNG, drawn pixel by pixel: no
//! fonts and no drawing library, only the `png` encoder. Labels and values
//! are in the e-mail's HTML beside it (and in its `alt` text), where they
//! can be read, translated and copied.

/// Width and height in pixels.
pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 160;
const MARGIN: u32 = 8;
/// The target the dashed line marks: 95% on time.
pub const TARGET: f64 = 0.95;

type Rgb = [u8; 3];
const WHITE: Rgb = [255, 255, 255];
const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [120, 120, 120];
const TARGET_LINE: Rgb = [30, 90, 200];
const GOOD: Rgb = [46, 139, 87];
const FAIR: Rgb = [230, 160, 20];
const POOR: Rgb = [200, 50, 40];
const NO_DATA: Rgb = [170, 170, 170];

/// The colour of a bar: green at or above the target, amber within five
/// points below it, red below that, grey without data.
pub fn colour(value: Option<f64>) -> [u8; 3] {
    match value {
        None => NO_DATA,
        Some(v) if v >= TARGET => GOOD,
        Some(v) if v >= TARGET - 0.05 => FAIR,
        Some(_) => POOR,
    }
}

struct Canvas {
    pixels: Vec<u8>,
}

impl Canvas {
    fn new() -> Self {
        Self {
            pixels: WHITE.repeat((WIDTH * HEIGHT) as usize),
        }
    }

    fn set(&mut self, x: u32, y: u32, c: Rgb) {
        if x < WIDTH && y < HEIGHT {
            let i = ((y * WIDTH + x) * 3) as usize;
            self.pixels[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: u32, y0: u32, x1: u32, y1: u32, c: Rgb) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }

    fn hline(&mut self, y: u32, c: Rgb, dashed: bool) {
        for x in MARGIN..WIDTH - MARGIN {
            if !dashed || (x / 6) % 2 == 0 {
                self.set(x, y, c);
            }
        }
    }
}

/// The y coordinate of a rate from 0 to 1.
fn y_of(rate: f64) -> u32 {
    let plot = f64::from(HEIGHT - 2 * MARGIN);
    let clamped = rate.clamp(0.0, 1.0);
    HEIGHT - MARGIN - (clamped * plot).round() as u32
}

/// Draws one bar per value (a rate from 0 to 1; `None` is a short grey
/// stub), with grid lines every 25% and a dashed line at the target.
pub fn bar_chart_png(values: &[Option<f64>]) -> Vec<u8> {
    let mut c = Canvas::new();
    for q in [0.25, 0.5, 0.75, 1.0] {
        c.hline(y_of(q), GRID, false);
    }
    let n = values.len().max(1) as u32;
    let slot = (WIDTH - 2 * MARGIN) / n;
    let bar = (slot * 2 / 3).max(1);
    for (i, v) in values.iter().enumerate() {
        let x0 = MARGIN + i as u32 * slot + (slot - bar) / 2;
        let top = match v {
            Some(rate) => y_of(*rate),
            None => HEIGHT - MARGIN - 4,
        };
        c.rect(x0, top, x0 + bar, HEIGHT - MARGIN, colour(*v));
    }
    c.hline(y_of(TARGET), TARGET_LINE, true);
    c.hline(HEIGHT - MARGIN, AXIS, false);
    encode(&c.pixels)
}

fn encode(pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        // Writing to a Vec cannot fail, and the size matches the header.
        let mut writer = encoder.write_header().expect("PNG header into memory");
        writer
            .write_image_data(pixels)
            .expect("PNG data of the declared size into memory");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .expect("a valid PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("one frame");
        (info, buf)
    }

    fn pixel(buf: &[u8], x: u32, y: u32) -> [u8; 3] {
        let i = ((y * WIDTH + x) * 3) as usize;
        [buf[i], buf[i + 1], buf[i + 2]]
    }

    #[test]
    fn bars_are_as_tall_as_their_rates_and_coloured_by_the_target() {
        let png = bar_chart_png(&[Some(1.0), Some(0.5), Some(0.92), None]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png.len() < 4_000, "small: {} bytes", png.len());
        let (info, buf) = decode(&png);
        assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
        let slot = (WIDTH - 2 * MARGIN) / 4;
        let centre = |i: u32| MARGIN + i * slot + slot / 2;
        // Just above the axis every bar has its colour.
        let base = HEIGHT - MARGIN - 1;
        assert_eq!(pixel(&buf, centre(0), base), GOOD);
        assert_eq!(pixel(&buf, centre(1), base), POOR);
        assert_eq!(pixel(&buf, centre(2), base), FAIR);
        assert_eq!(pixel(&buf, centre(3), base), NO_DATA);
        // The 100% bar reaches the top of the plot; the 50% bar stops halfway.
        assert_eq!(pixel(&buf, centre(0), y_of(1.0) + 1), GOOD);
        assert_eq!(pixel(&buf, centre(1), y_of(0.5) + 1), POOR);
        assert_eq!(pixel(&buf, centre(1), y_of(0.5) - 2), WHITE);
    }

    #[test]
    fn colours_follow_the_target() {
        let cases = [
            (Some(0.95), GOOD),
            (Some(0.9499), FAIR),
            (Some(0.90), FAIR),
            (Some(0.8999), POOR),
            (None, NO_DATA),
        ];
        for (v, expected) in cases {
            assert_eq!(colour(v), expected, "{v:?}");
        }
    }

    #[test]
    fn no_bars_still_make_a_chart() {
        let (info, _) = decode(&bar_chart_png(&[]));
        assert_eq!(info.width, WIDTH);
    }
}
