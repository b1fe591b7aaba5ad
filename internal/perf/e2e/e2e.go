// Package e2e measures one query end to end: two Puente nodes in one
// process, each with its own home, serving gRPC over loopback TLS; the key
// ceremony between them, an enrolment on the responder, then searches from
// the querier (protect, encrypt, stream, evaluate, open, decide) timed as a
// partner agency sees them, beside the plaintext scan of the same protected
// gallery. puente-lab bench -e2e runs it.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/puente-id/puente/home"
	"github.com/puente-id/puente/internal/perf"
	"github.com/puente-id/puente/protect"
	"github.com/puente-id/puente/protocol"
)

// Config says what [Run] measures.
type Config struct {
	Params   string  // parameter set name (required)
	Insecure bool    // the set is an INSECURE test set (the nodes are marked test nodes)
	N        int     // subjects the responder enrols (at least 1)
	Reps     int     // timed searches (default 1), after one untimed search that packs the gallery
	Tau      float64 // the responder's threshold (default perf.DefaultTau)
	Seed     uint64  // seed of the subjects and probes (default 1)
	// Calls, if more than 1, also times that many searches sent at once, after the timed
	// searches: the responder answers the calls that wait for its evaluation slot together.
	Calls int
	// Convert makes the responder keep no block of its gallery in NTT form
	// (gallery_memory_budget = 0): every search converts every block, which is what calls
	// answered together share.
	Convert bool
	// Alone makes the responder evaluate every search alone (batch_memory_budget = 0): the
	// searches sent at once then take one evaluation each, for comparison.
	Alone    bool
	Progress io.Writer
}

// Transform is the agreement's template protection: puente partner add's
// defaults, on 128-d features.
var Transform = protect.Params{Scheme: protect.PolyProtect, InputDim: 128, Order: 5, Overlap: 4, Scale: 1}

// Result is what one run measured. Search times are means over the timed
// searches; SearchCPU is the CPU time of the whole process (both nodes).
type Result struct {
	ParamSet     string       `json:"param_set"`
	N            int          `json:"n"`
	Dims         int          `json:"m"` // dimension of the protected templates
	Reps         int          `json:"searches"`
	CeremonyWall perf.Seconds `json:"ceremony_wall_s"`
	CeremonyCPU  perf.Seconds `json:"ceremony_cpu_s"`
	Enrol        perf.Seconds `json:"enrol_s"`
	Search       perf.Seconds `json:"search_wall_s"`
	SearchCPU    perf.Seconds `json:"search_cpu_s"`
	Plain        perf.Seconds `json:"plain_scan_s"`
	PlainReps    int          `json:"plain_scan_reps"`
	BytesSent    int64        `json:"query_bytes"`
	BytesRecv    int64        `json:"response_bytes"`
	Hit          bool         `json:"hit"`
	PlainCount   int          `json:"plain_count"`
	// With Config.Calls: the searches sent at once, their wall and CPU time in all, and the
	// evaluations the responder ran for them (fewer than Calls when it answered some together).
	Calls      int          `json:"calls,omitempty"`
	CallsWall  perf.Seconds `json:"calls_wall_s,omitempty"`
	CallsCPU   perf.Seconds `json:"calls_cpu_s,omitempty"`
	CallsEvals int          `json:"calls_evaluations,omitempty"`
	// From the responder's configuration as loaded: it keeps its gallery's blocks in NTT form
	// (gallery_memory_budget is not 0), and evaluates every search alone (batch_memory_budget 0).
	NTTBlocks bool `json:"ntt_blocks"`
	Alone     bool `json:"alone"`
}

const (
	querier   = "querier"
	responder = "responder"
	purpose   = "border-screening"
)

// Run makes the two nodes' homes in a temporary directory, links them,
// runs the ceremony and the enrolment, and times the searches of a probe
// mated with one enrolled subject. Every decision is checked against the
// plaintext count of the same protected gallery and probe. Everything is
// removed when Run returns.
func Run(ctx context.Context, c Config) (_ *Result, err error) {
	if c.Params == "" || c.N < 1 {
		return nil, errors.New("e2e: a parameter set and at least one subject are needed")
	}
	c.Reps, c.Tau, c.Seed = max(c.Reps, 1), orDefault(c.Tau, perf.DefaultTau), max(c.Seed, 1)
	progress := func(format string, args ...any) {
		if c.Progress != nil {
			fmt.Fprintf(c.Progress, "e2e: "+format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "puente-e2e-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	nodes := map[string]*node{}
	for _, name := range []string{querier, responder} {
		if nodes[name], err = initNode(ctx, dir, name, c.Insecure); err != nil {
			return nil, err
		}
		defer nodes[name].lis.Close()
	}
	for a, b := range map[string]string{querier: responder, responder: querier} {
		if err := link(nodes[a], nodes[b], c); err != nil {
			return nil, err
		}
	}
	for _, o := range []struct {
		set  bool
		line string
	}{{c.Convert, "gallery_memory_budget = 0"}, {c.Alone, "batch_memory_budget = 0"}} {
		if o.set {
			if err := appendConfig(nodes[responder].home, "\n"+o.line+"\n"); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range []string{querier, responder} {
		n := nodes[name]
		if err := n.open(ctx); err != nil {
			return nil, err
		}
		defer func() { err = errors.Join(err, n.stop()) }()
	}
	q, r := nodes[querier].Node, nodes[responder].Node

	rc := r.Config()
	res := &Result{ParamSet: c.Params, N: c.N, Reps: c.Reps, NTTBlocks: rc.GalleryMemoryBudget != 0, Alone: rc.BatchMemoryBudget == 0}
	progress("ceremony on %s over gRPC", c.Params)
	clock := perf.Start()
	if _, err := q.Ceremony(ctx, responder, 0); err != nil {
		return nil, fmt.Errorf("e2e: ceremony: %w", err)
	}
	wall, cpu := clock.Elapsed()
	res.CeremonyWall, res.CeremonyCPU = perf.Seconds(wall), perf.Seconds(cpu)

	rng := rand.New(rand.NewPCG(c.Seed, uint64(c.N)))
	raw := make([][]float64, c.N)
	for i := range raw {
		raw[i] = gaussian(rng, Transform.InputDim)
	}
	probe := perf.Near(rng, raw[c.N/2], 0.05)
	progress("enrolling %d subjects", c.N)
	start := time.Now()
	if _, err := r.Enrol(ctx, querier, refs(c.N), perf.Float32(raw), protocol.EnrolOptions{}); err != nil {
		return nil, fmt.Errorf("e2e: enrol: %w", err)
	}
	res.Enrol = perf.Seconds(time.Since(start))

	// The plaintext reference: the same transform, the same seed.
	plainGal, _, err := q.Protect(ctx, responder, raw)
	if err != nil {
		return nil, fmt.Errorf("e2e: protect: %w", err)
	}
	plainProbe, _, err := q.Protect(ctx, responder, [][]float64{probe})
	if err != nil {
		return nil, fmt.Errorf("e2e: protect: %w", err)
	}
	res.Dims = len(plainProbe[0])
	per, reps, count := perf.TimePlainScan(plainGal, plainProbe[0], c.Tau, 200*time.Millisecond)
	res.Plain, res.PlainReps, res.PlainCount = perf.Seconds(per), reps, count

	progress("first search (the responder packs its gallery)")
	if _, err := q.Search(ctx, responder, protocol.Probe{Raw: probe}, purpose); err != nil {
		return nil, fmt.Errorf("e2e: search: %w", err)
	}
	var sumWall, sumCPU time.Duration
	for i := 0; i < c.Reps; i++ {
		runtime.GC() // the ceremony's and the enrolment's garbage is not the search's
		clock := perf.Start()
		out, err := q.Search(ctx, responder, protocol.Probe{Raw: probe}, purpose)
		if err != nil {
			return nil, fmt.Errorf("e2e: search: %w", err)
		}
		wall, cpu := clock.Elapsed()
		sumWall, sumCPU = sumWall+wall, sumCPU+cpu
		res.BytesSent, res.BytesRecv = out.BytesSent, out.BytesRecv
		if out.Hit != (count > 0) {
			return nil, fmt.Errorf("e2e: encrypted decision hit=%v, plaintext count %d", out.Hit, count)
		}
		res.Hit = out.Hit
		progress("search %d: %v wall, %v CPU", i+1, wall.Round(time.Millisecond), cpu.Round(time.Millisecond))
	}
	res.Search, res.SearchCPU = perf.Seconds(sumWall/time.Duration(c.Reps)), perf.Seconds(sumCPU/time.Duration(c.Reps))
	if c.Calls > 1 {
		if err := timeCalls(ctx, c, q, nodes[responder], probe, count > 0, res, progress); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// timeCalls sends c.Calls searches at once and times them together; each decision must equal
// the plaintext one.
func timeCalls(ctx context.Context, c Config, q *protocol.Node, r *node, probe []float64, want bool, res *Result, progress func(string, ...any)) error {
	progress("%d searches at once", c.Calls)
	evals0 := r.evaluations()
	runtime.GC()
	clock := perf.Start()
	errs := make(chan error, c.Calls)
	for range c.Calls {
		go func() {
			out, err := q.Search(ctx, responder, protocol.Probe{Raw: probe}, purpose)
			if err == nil && out.Hit != want {
				err = fmt.Errorf("e2e: encrypted decision hit=%v, plaintext hit=%v", out.Hit, want)
			}
			errs <- err
		}()
	}
	var err error
	for range c.Calls {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return fmt.Errorf("e2e: searches at once: %w", err)
	}
	wall, cpu := clock.Elapsed()
	res.Calls, res.CallsWall, res.CallsCPU, res.CallsEvals = c.Calls, perf.Seconds(wall), perf.Seconds(cpu), r.evaluations()-evals0
	progress("%d searches at once: %v wall, %v CPU, %d evaluations", c.Calls, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), res.CallsEvals)
	return nil
}

// appendConfig appends text to the node's puente.hcl.
func appendConfig(home, text string) error {
	f, err := os.OpenFile(filepath.Join(home, "puente.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// node is one agency's node: its home, its listener, and the open node
// serving on it.
type node struct {
	*protocol.Node
	home      string
	met       *protocol.Metrics
	lis       net.Listener
	done      chan error
	stopServe context.CancelFunc
}

func initNode(ctx context.Context, dir, name string, test bool) (*node, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	n := &node{home: filepath.Join(dir, name), lis: lis}
	if _, err := home.InitHome(ctx, n.home, home.InitOptions{Node: name, Listen: lis.Addr().String(), TestNode: test, NewState: protocol.CreateState}); err != nil {
		lis.Close()
		return nil, fmt.Errorf("e2e: %s: %w", name, err)
	}
	return n, nil
}

// link adds b as a's partner, as puente partner add does, and appends the
// policy block a privacy officer would write.
func link(a, b *node, c Config) error {
	card, err := home.LoadCard(filepath.Join(b.home, "card.json"))
	if err != nil {
		return err
	}
	snippet, err := home.AddPartner(a.home, card, home.PartnerOptions{Agreement: "bench", Address: b.lis.Addr().String(),
		Purposes: []string{purpose}, HEParams: c.Params, Threshold: c.Tau, Transform: Transform,
		VerifyLimit: "5 per 24h"}, strconv.Itoa(c.Reps+c.Calls+10)+" per 24h")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(a.home, "policy.hcl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n" + snippet)
	return errors.Join(err, f.Close())
}

func (n *node) open(ctx context.Context) error {
	cfg, err := home.LoadConfig(home.ConfigFile(n.home))
	if err != nil {
		return err
	}
	n.met = protocol.NewMetrics()
	if n.Node, err = protocol.Open(ctx, cfg, protocol.Options{Metrics: n.met}); err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	n.stopServe, n.done = cancel, make(chan error, 1)
	go func() { n.done <- n.Serve(sctx, n.lis) }()
	return nil
}

// evaluations returns the Search evaluations the node ran (puente_search_batch_calls).
func (n *node) evaluations() int {
	mfs, err := n.met.Registry.Gather()
	if err != nil {
		return 0
	}
	for _, mf := range mfs {
		if mf.GetName() == "puente_search_batch_calls" && len(mf.GetMetric()) > 0 {
			return int(mf.GetMetric()[0].GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func (n *node) stop() error {
	n.stopServe()
	return errors.Join(<-n.done, n.Close())
}

func gaussian(rng *rand.Rand, d int) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func refs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "subject-" + strconv.Itoa(i)
	}
	return out
}

func orDefault(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// WriteTable writes the result for people: one Markdown table row beside
// the plaintext scan, and a line on the ceremony and the enrolment.
func (r *Result) WriteTable(w io.Writer) error {
	_, err := fmt.Fprintf(w, "\nend to end over gRPC (two nodes in this process, loopback TLS; CPU of both nodes): %s, %d subjects enrolled, protected m = %d,"+
		" %d timed search(es) after one that packs the gallery; ceremony %s wall, %s CPU; enrolment %s\n\n"+
		"| gallery | search (wall) | search (CPU) | plaintext scan | query | response | decision |\n|---|---|---|---|---|---|---|\n"+
		"| N = %s, m = %d | %s | %s | %s | %s | %s | %s (plaintext count %d) |\n",
		r.ParamSet, r.N, r.Dims, r.Reps, perf.Duration(time.Duration(r.CeremonyWall)), perf.Duration(time.Duration(r.CeremonyCPU)),
		perf.Duration(time.Duration(r.Enrol)), perf.Thousands(int64(r.N)), r.Dims, perf.Duration(time.Duration(r.Search)),
		perf.Duration(time.Duration(r.SearchCPU)), perf.Duration(time.Duration(r.Plain)), perf.Bytes(r.BytesSent), perf.Bytes(r.BytesRecv),
		hit(r.Hit), r.PlainCount)
	if err != nil || r.Calls == 0 {
		return err
	}
	kept := "every block kept in NTT form"
	if !r.NTTBlocks {
		kept = "no block kept in NTT form"
	}
	if r.Alone {
		kept += ", each search evaluated alone"
	}
	_, err = fmt.Fprintf(w, "\n%d searches sent at once (the responder with %s): %s wall, %s CPU in all, %s CPU per search (%.0f%% of one search alone); %d evaluation(s) on the responder\n",
		r.Calls, kept, perf.Duration(time.Duration(r.CallsWall)), perf.Duration(time.Duration(r.CallsCPU)),
		perf.Duration(time.Duration(r.CallsCPU)/time.Duration(r.Calls)), 100*float64(r.CallsCPU)/float64(r.Calls)/float64(r.SearchCPU), r.CallsEvals)
	return err
}

func hit(h bool) string {
	if h {
		return "hit"
	}
	return "no hit"
}
