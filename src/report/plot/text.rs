//! Text on the PNG charts, set glyph by glyph with each glyph's own left side bearing.
//!
//! plotters' ab_glyph text (0.3.7, `FontDataInternal::draw`) places each glyph's outline at the
//! pen position and drops the outline's left bearing (`px_bounds().min.x`), so glyphs whose
//! outline starts further right than the pen ("x", "o", ...) sit too far left and gaps open
//! after narrow ones: "Linu x", "ep oll-shared". [`GlyphText`] wraps a backend and draws text
//! itself, with the same layout (advances, kerning, baseline) and each outline at the pen
//! position plus its bearing. Everything else goes to the wrapped backend unchanged. The SVG
//! charts hold text as text and are set by whatever shows them.
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// A backend whose text is set with [`layout`].
pub struct GlyphText<B> {
    inner: B,
    font: FontRef<'static>,
}

impl<B> GlyphText<B> {
    /// Wrap `inner`; text in any family is set in the embedded DejaVu Sans, the only font the
    /// charts register.
    pub fn new(inner: B) -> Result<Self, String> {
        let font = FontRef::try_from_slice(dejavu::sans::regular())
            .map_err(|e| format!("the embedded DejaVu Sans: {e}"))?;
        Ok(GlyphText { inner, font })
    }
}

/// One glyph's coverage pixels, at (x, y) from the text's top left, and the text's advance.
pub fn layout(font: &FontRef<'_>, size: f32, text: &str) -> (Vec<(i32, i32, f32)>, f32) {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut pixels = Vec::new();
    let mut pen = 0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            pen += scaled.kern(p, id);
        }
        prev = Some(id);
        // The outline where the glyph really starts: pen position plus its bearing, which
        // `px_bounds` carries in `min.x` (plotters drops it).
        let glyph = id.with_scale_and_position(size, ab_glyph::point(pen, 0.0));
        if let Some(outline) = scaled.outline_glyph(glyph) {
            let b = outline.px_bounds();
            // The same baseline as plotters (half the size below the top), so that text sits
            // where its layout box says.
            let (x0, y0) = (b.min.x as i32, (size / 2.0 + b.min.y) as i32);
            outline.draw(|x, y, c| pixels.push((x0 + x as i32, y0 + y as i32, c)));
        }
        pen += scaled.h_advance(id);
    }
    (pixels, pen)
}

impl<B: DrawingBackend> DrawingBackend for GlyphText<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    /// As plotters' default (anchor, rotation, clipping to the canvas), with the glyphs
    /// placed by [`layout`].
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let (pixels, _) = layout(&self.font, style.size() as f32, text);
        for (x, y, c) in pixels {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let alpha = color.alpha * f64::from(c);
                self.inner
                    .draw_pixel((x, y), BackendColor { alpha, ..color })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_glyph_starts_at_its_bearing_so_words_are_not_split() {
        let font = FontRef::try_from_slice(dejavu::sans::regular()).unwrap();
        let size = 100.0;
        let scaled = font.as_scaled(PxScale::from(size));
        for c in "Linux epoll".chars().filter(|c| *c != ' ') {
            // Alone at pen 0, a glyph's ink starts at its left side bearing (the font's hmtx
            // table), not at 0 where plotters puts it.
            let (pixels, _) = layout(&font, size, &c.to_string());
            let ink = pixels
                .iter()
                .filter(|p| p.2 > 0.5)
                .map(|p| p.0)
                .min()
                .unwrap();
            let bearing = scaled.h_side_bearing(scaled.glyph_id(c));
            assert!(
                (ink as f32 - bearing).abs() <= 1.5,
                "{c}: ink from {ink}, bearing {bearing}"
            );
        }
        // The glyphs of a word follow each other by their advances: the text is as wide as
        // its layout box says, so anchors and boxes agree.
        let (pixels, advance) = layout(&font, 15.0, "epoll-shared");
        let right = pixels.iter().map(|p| p.0).max().unwrap();
        assert!(
            (right as f32 - advance).abs() <= 2.0,
            "{right} vs {advance}"
        );
    }
}
