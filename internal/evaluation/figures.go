package evaluation

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figure is one plot of the report, rendered as a PNG file that the report
// links to as ImageLink/Name. Figures are not part of the byte-stable
// text: `puente-lab eval -check` compares the Markdown only.
type Figure struct {
	Name string // file name, e.g. "det.png"
	w, h vg.Length
	draw func(c draw.Canvas)
}

// figureDPI is the resolution of the PNG files: a 10-inch figure is 1,000
// pixels wide.
const figureDPI = 100

// Figure file names, which the sections link to.
const (
	figDET           = "det.png"
	figScores        = "scores.png"
	figUnlinkability = "unlinkability.png"
)

// WritePNG renders the figure as PNG.
func (f *Figure) WritePNG(w io.Writer) error {
	c := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(figureDPI), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(c))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("evaluation: figure %s: %w", f.Name, err)
	}
	return nil
}

// figureLink writes the Markdown of a figure: the image and its caption.
func figureLink(w io.Writer, link, name, alt string, caption ...string) error {
	if err := para(w, fmt.Sprintf("![%s](%s/%s)", alt, link, name)); err != nil {
		return err
	}
	return para(w, caption...)
}

// Colours: one per comparator (raw first), and the mated / non-mated pair
// of the score plots (green and red, as in Gomez-Barrero et al. 2018).
var (
	palette = []color.RGBA{{0, 0, 0, 255}, {0, 114, 178, 255}, {213, 94, 0, 255}, {0, 158, 115, 255}, {204, 121, 167, 255}}
	mated   = color.RGBA{0, 140, 60, 255}
	nonMate = color.RGBA{200, 30, 30, 255}
)

func fade(c color.RGBA) color.Color { return color.NRGBA{c.R, c.G, c.B, 70} }

// curve is one comparator's scores for a DET plot, and the operating point
// of its encrypted decision (false, miss), if any.
type curve struct {
	name            string
	mated, nonMated []float64
	op              *[2]float64
}

// figures returns the report's plots: the DET curves of raw cosine and
// every scheme (verification and open-set search), the mated and
// non-mated score distributions of each with its threshold, and the
// unlinkability of the recommended scheme across epochs 1 and 2.
func figures(env *Env, res []*SchemeResult, enc *Encrypted) []*Figure {
	ver := []curve{{name: "raw cosine", mated: env.Raw.Mated, nonMated: env.Raw.NonMated}}
	open := []curve{{name: "raw cosine", mated: enc.RawOpenMated, nonMated: enc.RawOpenNonMated}}
	for i, r := range res {
		e := enc.Schemes[i]
		ver = append(ver, curve{Describe(r.Params), r.Acc.Mated, r.Acc.NonMated, &[2]float64{e.Enc3.False, e.Enc3.Miss}})
		open = append(open, curve{Describe(r.Params), e.OpenMated.Score, e.OpenNonMated.Score, &[2]float64{e.EncOpen.False, e.EncOpen.Miss}})
	}
	det := &Figure{Name: figDET, w: 13 * vg.Inch, h: 5.5 * vg.Inch, draw: func(c draw.Canvas) {
		ps := [][]*plot.Plot{{
			detPlot("Verification (pairs)", "FMR", "FNMR", ver),
			detPlot(fmt.Sprintf("Open-set search (gallery of %d)", len(env.Proto.Open.Gallery)), "FPIR", "FNIR", open),
		}}
		drawTiles(c, ps)
	}}
	scores := &Figure{Name: figScores, w: 12 * vg.Inch, h: 9 * vg.Inch, draw: func(c draw.Canvas) {
		ps := [][]*plot.Plot{{scorePlot("raw cosine", env.Raw), nil}, {nil, nil}}
		for i, r := range res {
			k := i + 1
			ps[k/2][k%2] = scorePlot(Describe(r.Params), r.Acc)
		}
		drawTiles(c, ps)
	}}
	rec := res[recommended(res)]
	l := rec.Linkages[0]
	unlink := &Figure{Name: figUnlinkability, w: 9 * vg.Inch, h: 8 * vg.Inch, draw: func(c draw.Canvas) {
		drawTiles(c, unlinkabilityPlots(Describe(rec.Params), l))
	}}
	return []*Figure{det, scores, unlink}
}

// drawTiles draws a grid of plots; a nil plot leaves its tile empty.
func drawTiles(c draw.Canvas, ps [][]*plot.Plot) {
	t := draw.Tiles{Rows: len(ps), Cols: len(ps[0]), PadTop: vg.Points(8), PadBottom: vg.Points(8),
		PadLeft: vg.Points(8), PadRight: vg.Points(14), PadX: vg.Points(24), PadY: vg.Points(24)}
	cs := plot.Align(ps, t, c)
	for i, row := range ps {
		for j, p := range row {
			if p != nil {
				p.Draw(cs[i][j])
			}
		}
	}
}

// detPlot draws DET curves (ISO/IEC 19795-1: miss against false-match
// rate, both on normal-deviate axes) and each curve's encrypted operating
// point.
func detPlot(title, xLabel, yLabel string, cs []curve) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel+" (normal-deviate scale)", yLabel
	p.X.Scale, p.Y.Scale = probitScale{}, probitScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = probitTicks{}, probitTicks{}
	p.Legend.Top, p.Legend.Left = false, true
	p.Add(plotter.NewGrid())
	// The axes start at the smallest rate a curve reaches: one false
	// match among the non-mated scores, the lowest miss rate at 50%.
	xmin, ymin := 1.0, 1.0
	for _, c := range cs {
		xmin = min(xmin, floor125(1/float64(len(c.nonMated))))
		for _, xy := range detPoints(c.mated, c.nonMated) {
			if xy.X <= detMax {
				ymin = min(ymin, floor125(xy.Y))
			}
		}
	}
	for i, c := range cs {
		l, err := plotter.NewLine(detPoints(c.mated, c.nonMated))
		if err != nil {
			continue // no point inside the axes
		}
		l.Color, l.Width = palette[i%len(palette)], vg.Points(1.6)
		p.Add(l)
		p.Legend.Add(c.name, l)
		if c.op != nil && c.op[0] > 0 && c.op[1] > 0 {
			s, err := plotter.NewScatter(plotter.XYs{{X: c.op[0], Y: c.op[1]}})
			if err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: palette[i%len(palette)], Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
				p.Add(s)
			}
		}
	}
	dot, _ := plotter.NewScatter(plotter.XYs{{}})
	dot.GlyphStyle = draw.GlyphStyle{Color: color.Black, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
	p.Legend.Add("encrypted decision at tau (emulated)", dot)
	// After Add, which widens the axes to the data.
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin, detMax, ymin, 0.8
	return p
}

// detMax is the largest false-match rate the DET plots show.
const detMax = 0.5

// floor125 rounds v > 0 down to 1, 2 or 5 times a power of ten.
func floor125(v float64) float64 {
	e := math.Floor(math.Log10(v))
	d := math.Pow(10, e)
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v {
			return m * d
		}
	}
	return d / 2
}

// detPoints returns the (false, miss) rates of the threshold at every
// mated score and at log-spaced ranks of the non-mated scores, in order of
// the threshold, keeping those strictly between 0 and 1 (the others have
// no place on normal-deviate axes; the plot clips the rest).
func detPoints(mated, nonMated []float64) plotter.XYs {
	m, nm := slices.Clone(mated), slices.Clone(nonMated)
	slices.Sort(m)
	slices.Sort(nm)
	taus := slices.Clone(m)
	for k := 1.0; int(k) <= len(nm); k *= 1.02 {
		taus = append(taus, nm[len(nm)-int(k)])
	}
	slices.Sort(taus)
	taus = slices.Compact(taus)
	var out plotter.XYs
	for _, t := range taus {
		fmr := float64(len(nm)-countBelow(nm, t)) / float64(len(nm))
		fnmr := float64(countBelow(m, t)) / float64(len(m))
		if fmr > 0 && fmr < 1 && fnmr > 0 && fnmr < 1 {
			out = append(out, plotter.XY{X: fmr, Y: fnmr})
		}
	}
	return out
}

// probitScale is the normal-deviate axis of DET plots: x at Φ⁻¹(x).
type probitScale struct{}

func probit(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func (probitScale) Normalize(min, max, x float64) float64 {
	lo, hi := probit(min), probit(max)
	return (probit(x) - lo) / (hi - lo)
}

// probitTicks marks 1, 2 and 5 times the powers of ten and labels the
// powers of ten, 5%, 20% and 50%, as percentages.
type probitTicks struct{}

func (probitTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for e := int(math.Floor(math.Log10(min))); e <= 0; e++ {
		for _, m := range []int{1, 2, 5} {
			v := float64(m) * math.Pow10(e)
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || e >= -2 && m != 2 || e == -1 {
				t.Label = percent(m, e)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// percent writes m·10^e as a percentage without rounding noise: "0.01%",
// "5%", "20%".
func percent(m, e int) string {
	e += 2
	if e >= 0 {
		return fmt.Sprintf("%d%%", m*int(math.Pow10(e)))
	}
	return "0." + strings.Repeat("0", -e-1) + fmt.Sprint(m) + "%"
}

// scorePlot draws the density of mated and non-mated verification scores
// and the threshold at FMR 1e-3.
func scorePlot(name string, a *Accuracy) *plot.Plot {
	p := plot.New()
	p.Title.Text = name
	p.X.Label.Text, p.Y.Label.Text = "score", "density"
	p.Legend.Top, p.Legend.Left = true, true
	edges := binEdges(a.Mated, a.NonMated, 100)
	ymax := 0.0
	for _, s := range []struct {
		name   string
		scores []float64
		c      color.RGBA
	}{{"non-mated", a.NonMated, nonMate}, {"mated", a.Mated, mated}} {
		l := densityLine(s.scores, edges)
		l.Color, l.FillColor = s.c, fade(s.c)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d)", s.name, len(s.scores)), l)
		for _, xy := range l.XYs {
			ymax = max(ymax, xy.Y)
		}
	}
	tau, _ := plotter.NewLine(plotter.XYs{{X: a.Tau3, Y: 0}, {X: a.Tau3, Y: ymax * 1.05}})
	tau.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	tau.Width = vg.Points(1.2)
	p.Add(tau)
	p.Legend.Add(fmt.Sprintf("tau = %.4f (FMR 1e-3)", a.Tau3), tau)
	p.Y.Min, p.Y.Max = 0, 1.3*ymax // room for the legend
	return p
}

// binEdges returns the edges of about n equal bins covering both score
// sets. Scores on a lattice (the binary schemes' scores are multiples of
// 1/m) get bins of a whole number of lattice steps, centred on the
// lattice, so that no bin holds more lattice points than its neighbours.
func binEdges(a, b []float64, n int) []float64 {
	all := slices.Concat(a, b)
	slices.Sort(all)
	lo, hi := all[0], all[len(all)-1]
	if hi == lo {
		hi = lo + 1
	}
	w := (hi - lo) / float64(n)
	// Distinct values, up to float rounding.
	u := slices.CompactFunc(slices.Clone(all), func(x, y float64) bool { return math.Abs(x-y) < 1e-9 })
	if len(u) <= 4*n {
		step := math.Inf(1)
		for i := 1; i < len(u); i++ {
			step = min(step, u[i]-u[i-1])
		}
		if step < math.Inf(1) {
			w = step * math.Ceil(w/step)
			lo -= step / 2
			n = int(math.Ceil((hi + step/2 - lo) / w))
		}
	}
	edges := make([]float64, n+1)
	for i := range edges {
		edges[i] = lo + w*float64(i)
	}
	return edges
}

// densityLine returns the histogram of scores over the bins between
// edges, as a density (each bin's fraction over its width), drawn as
// steps.
func densityLine(scores, edges []float64) *plotter.Line {
	bins := len(edges) - 1
	w := edges[1] - edges[0]
	h := make([]float64, bins)
	for _, v := range scores {
		i := min(int((v-edges[0])/w), bins-1)
		h[max(i, 0)]++
	}
	xy := make(plotter.XYs, 0, bins+1)
	for i, c := range h {
		xy = append(xy, plotter.XY{X: edges[i], Y: c / (float64(len(scores)) * w)})
	}
	xy = append(xy, plotter.XY{X: edges[bins], Y: xy[bins-1].Y})
	l, err := plotter.NewLine(xy)
	if err != nil {
		panic(err) // finite by construction
	}
	l.StepStyle = plotter.PostStep
	return l
}

// unlinkabilityPlots draws the evaluation of Gomez-Barrero et al. (IEEE
// TIFS 2018, Fig. 2): the densities of mated and non-mated scores across
// two epochs, and below them the local measure D<->(s) on the same bins,
// with D<->sys in the title.
func unlinkabilityPlots(name string, l *Linkage) [][]*plot.Plot {
	u := l.Cross
	top := plot.New()
	top.Title.Text = fmt.Sprintf("%s, epochs 1 and 2: D<->sys = %.3f", name, u.Sys)
	top.Y.Label.Text = "density"
	top.Legend.Top, top.Legend.Left = true, false
	for _, s := range []struct {
		name   string
		scores []float64
		c      color.RGBA
	}{{"non-mated (different subjects)", l.CrossNonMated, nonMate}, {"mated (same subject)", l.CrossMated, mated}} {
		dl := densityLine(s.scores, u.Edges)
		dl.Color, dl.FillColor = s.c, fade(s.c)
		top.Add(dl)
		top.Legend.Add(fmt.Sprintf("%s (%d)", s.name, len(s.scores)), dl)
	}
	bottom := plot.New()
	bottom.X.Label.Text = "score between templates of two epochs"
	bottom.Y.Label.Text = "local D<->(s)"
	bottom.Y.Min, bottom.Y.Max = 0, 1
	xy := make(plotter.XYs, 0, len(u.Local)+1)
	for i, d := range u.Local {
		xy = append(xy, plotter.XY{X: u.Edges[i], Y: d})
	}
	xy = append(xy, plotter.XY{X: u.Edges[len(u.Local)], Y: u.Local[len(u.Local)-1]})
	dl, err := plotter.NewLine(xy)
	if err != nil {
		panic(err) // finite by construction
	}
	dl.StepStyle, dl.Width = plotter.PostStep, vg.Points(1.4)
	bottom.Add(plotter.NewGrid(), dl)
	top.X.Min, top.X.Max = u.Edges[0], u.Edges[len(u.Edges)-1]
	bottom.X.Min, bottom.X.Max = top.X.Min, top.X.Max
	return [][]*plot.Plot{{top}, {bottom}}
}
