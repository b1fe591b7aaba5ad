package evaluation

import (
	"bytes"
	"image/png"
	"testing"
)

// checkFigures renders the report's figures and checks that each is a
// PNG of a sane size that draws something.
func checkFigures(t *testing.T, figs []*Figure) {
	t.Helper()
	names := map[string]bool{}
	for _, f := range figs {
		names[f.Name] = true
		var b bytes.Buffer
		if err := f.WritePNG(&b); err != nil {
			t.Fatal(err)
		}
		n := b.Len()
		img, err := png.Decode(&b)
		if err != nil {
			t.Errorf("%s: not a PNG: %v", f.Name, err)
			continue
		}
		bd := img.Bounds()
		if bd.Dx() < 600 || bd.Dx() > 2000 || bd.Dy() < 400 || bd.Dy() > 1500 || n < 10<<10 || n > 2<<20 {
			t.Errorf("%s: %dx%d pixels, %d bytes", f.Name, bd.Dx(), bd.Dy(), n)
		}
		var ink int // pixels neither white nor near-white
		for y := bd.Min.Y; y < bd.Max.Y; y += 2 {
			for x := bd.Min.X; x < bd.Max.X; x += 2 {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
					ink++
				}
			}
		}
		if frac := float64(ink) / float64(bd.Dx()*bd.Dy()/4); frac < 0.02 {
			t.Errorf("%s: only %.3f of the pixels are drawn", f.Name, frac)
		}
	}
	for _, want := range []string{figDET, figScores, figUnlinkability} {
		if !names[want] {
			t.Errorf("no figure %s", want)
		}
	}
}
